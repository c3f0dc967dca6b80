// Package explain says why a TCP connection in a capture was slow, and
// what it would take on another network.
//
// It reproduces the finding of Meek, Eichert and Takayama ("Wide Area
// Network Ecology", LISA '98): a SQL*Net client over a 150 ms link sent its
// data in many small segments and every segment was acknowledged, so each
// exchange paid a round trip; HTTP fetching the same rows sent full-size
// segments, several per ACK, and was three times faster. For each
// connection it measures those behaviours, attributes them to the
// application protocol, and prices them in round trips and seconds.
//
// # Use
//
// An Explainer rides on flow's single pass as a flow.TransactionConsumer:
// list it in flow.Config.Consumers, and read each connection's explanation
// with Ended from a consumer listed after it, as the connection ends (or
// set Options.Keep and read Conns after the pass). AnalyzeFile does it all
// for a file. The TCP facts come from package tcpstate through flow
// (PacketInfo.Analysis and PacketInfo.TCP): each segment's payload range,
// the bytes it resent, its window in bytes, the handshake's legs, the MSS.
//
//	rep, err := explain.AnalyzeFile("session.pcap", explain.Options{})
//	for _, c := range rep.Conns {
//		fmt.Println(c.Limit, c.Budget.RoundTrip, c.Project(10*time.Millisecond, 0).Duration)
//	}
//
// Per connection (Conn): the ACK behaviour of each direction's data
// (AckStats: ACKs per data segment, segments covered per ACK 1..6+, a
// verdict ack_every_segment / delayed_ack / stretch_acks, and whether the
// ACKs are pure TCP ACKs, small application messages or piggybacked on
// requests); segment sizes against the MSS in bulk phases and what
// full-size segments would have saved (SegmentStats); the time budget
// (Budget) with the longest stalls; the rate-limiting cause (Limit, with
// Evidence); and a Model from which Conn.Project computes the duration at
// another RTT and bottleneck rate. Summarize and ByProtocol add connections
// up for a side-by-side comparison (see examples/compare).
//
// # The time budget
//
// Every gap between consecutive packets of a connection is attributed, so
// the parts add up to the connection's duration (first to last packet)
// exactly, up to floating-point rounding. Gaps are grouped between
// "events" (segments carrying data, SYN, FIN or RST; pure ACKs only update
// the state; capture duplicates, tcpstate's Analysis.Duplicate, are
// skipped), and each stretch from one event to the next is attributed by
// who sent the two events. The rules hold wherever the capture was taken:
// they read where it sits from tcpstate.Conn.Legs, the round trip split at
// the capture point into a leg to the client and back and a leg to the
// server and back (each the smallest of the handshake's, the data→ACK and
// the timestamp samples that time it; a host pair's connections share the
// smallest, as they share the path). A side's reaction to what just passed
// the capture point comes back after the leg to that side at the
// earliest, so each gap gives its legs first and only the remainder to
// think time:
//
//   - until the handshake's ACK: handshake (a whole round trip at any
//     capture point, from the first SYN), but for the queue other
//     traffic between the same hosts held it in beyond the leg
//     (queue_cross, as in a crossing below);
//   - one side's event, then the other's (a crossing: the second side
//     reacting): the leg to the second side is round trip, less the
//     bottleneck's serialization of the frames that timed the leg
//     (Legs.Serialization: the SYN and SYN/ACK at the client), which is
//     not the path's; then the serialization of what it waited for is
//     transfer (after the
//     bottleneck: the segment ending the gap at the rate; before it: the
//     backlog of data the bottleneck was still sending); then queueing:
//     other traffic's between the same hosts (queue_cross), or the
//     connection's own beyond the transfer counted (queue_self), as the
//     round trips under load at the time show (see Queue); the rest is the
//     second side's think time. A gap under half the leg is
//     no reaction: the second side's own pace (window wait);
//   - two events of one side: the serialization of the second (after the
//     bottleneck) or the backlog (before it) is transfer (all of it when
//     the gap is within 1.5 times that: jitter); the rest is a window wait
//     when an ACK or window update of the other side, passing the capture
//     point about a leg to this side earlier (0.9 leg at least, within
//     half a leg or 20 ms plus the queue), explains its timing, a
//     receiver-window stall when the data in flight filled the advertised
//     window, a zero-window stall while the receiver advertises zero, or
//     the side's think time when it had everything it needed and still did
//     not send;
//   - a retransmission (tcpstate's labels: retransmission, fast or
//     spurious retransmission, out-of-order), or data while a sequence
//     hole of its direction is open (from data tcpstate labels "previous
//     segment not captured" until the receiver's ACK reaches it): loss
//     recovery, or an RTO wait when tcpstate found the retransmission was
//     sent on a timeout (no duplicate ACK or SACK since the bytes' last
//     transmission, 200 ms of silence or more); a RST from a sender backing
//     off ends an RTO wait too. Keep-alives are not losses. During recovery
//     the serialization of the data still flowing is transfer;
//   - after the last event, to the last packet: a zero-window stall while
//     a receiver's window is zero, else the reaction of the last packet's
//     sender (its leg, then its think time).
//
// Round trips paid (Model.RoundTrips) count the requests answered: the
// server sending new data (or its FIN) after the client did (the
// handshake's ACK counts as the client's). The order of new data does not
// depend on where the capture was taken, nor on what was lost and sent
// again, so the count is the same at the client, the server or in the
// middle: at the client the answer's gap holds the round trip, at the
// server the gap before the next request does, in the middle each holds
// its leg.
//
// The base RTT is the legs together. The bottleneck rate of each direction
// comes from the side of the capture that sees it: after the bottleneck
// (the capture nearer the data's receiver than its sender) the spacing of
// back-to-back data segments, the mean of the histogram bin holding the
// lower quartile of nanoseconds per wire byte; before it (near the
// sender, whose own data leaves at its interface's rate, never the
// path's) the ACK clock: the median spacing of the ACKs per wire byte
// they acknowledge, taken while more data was outstanding. It is unknown
// when neither allows it (Conn.RateFrom). Before the bottleneck the
// bottleneck's backlog is replayed (a virtual link: each segment queued
// at the rate); the first flights, sent before the ACK clock gave the
// rate, are logged and replayed once it does. Splits after the bottleneck
// are kept in fixed histograms and made when the connection ends, so
// early gaps are judged with the final estimate.
//
// Vantage (Conn.Vantage, tcpstate's vocabulary): near_client when the
// server leg is at least 80 % of the round trip, near_server when the
// client leg is, middle otherwise, unknown without both legs or under
// 200 µs (loopback, one host): the budget then takes the capture to be at
// the client (the client leg zero) and says so in its caveats.
//
// # Queueing
//
// A round trip under load less the base leg is queueing delay. Only
// samples that hold no think time count: a timestamp echo of a pure ACK's
// TSval by the other side's new data (sent as the ACK arrived: ACK
// clocking), and a data→ACK sample of a pure ACK covering two segments,
// or one while more data was still coming (not the delayed-ACK timer).
// Each connection's samples go to a small record of its host pair, kept
// while the pair has live connections; a crossing is priced with the
// queue its host pair showed at the time (the smallest sample of the last
// 60 ms, else the latest of the last 250 ms), as queue_cross when it came
// from another connection. Conn.Queue has the largest queueing delay
// (the largest of the smallest of four consecutive samples), the round
// trip under load and the largest queue in bytes. QueueChecks turns them
// into the two pathdiag-style checks (a buffer too small for the target,
// bufferbloat).
//
// # Segment sizes
//
// Small and full-size are judged against the sender's effective MSS
// (tcpstate.Conn.EffectiveMSS): the smaller of the two announcements,
// lowered to the size the sender used when it had more data right behind
// (the path MTU, options), never raised by segmentation offload's
// super-segments, which are counted full-size (with the
// segments_over_mss caveat). Each new segment is judged once the next
// shows whether more followed it.
//
// # Endings and caveats
//
// Conn.Ending says how the connection ended (tcpstate.Ending: refused,
// reset by the client or the server, unanswered, closed). A connection
// that carried no data at all (a refusal, a scan) has Limit none and
// Proto none. Conn.Caveats lists, next to the figures they undermine, the
// capture-quality issues tcpstate found (duplicates, capture loss,
// offload, no handshake...) and the explanation's own doubts (vantage or
// rate unknown).

// # Rate-limiting cause
//
// In the spirit of T-RAT (Zhang, Breslau, Paxson, Shenker, SIGCOMM 2002),
// the Limit is the group of budget parts with the largest share: think
// times (application), handshake, application turns and their queueing
// (round_trip_bound),
// window waits (congestion_window), receiver-window and zero-window stalls
// (receiver_window), transfer (bandwidth), loss recovery and RTO (loss).
// Evidence carries the shares, the utilisation of the estimated bottleneck
// and turns x RTT.
//
// # What-if
//
// Conn.ProjectTo (Conn.Project for an RTT and a rate alone) is NPAD's
// symptom scaling (Mathis, Heffner, Reddy) made concrete, on the
// decomposition of Barford and Crovella's critical path analysis (SIGCOMM
// 2000). A Target is the network projected onto: base RTT', rate', and
// what the capture cannot tell of it: its loss rate, its queue limit, the
// receive window there. Each part of the budget is priced by what drives
// it:
//
//   - think times and zero-window stalls stay: they are the hosts'. For
//     that they must hold no network time: serialization is transfer
//     when the rate is known (estimated from the capture, or given for
//     the capture's own link: Options.CaptureRate, compare's
//     -capture-rate; without it a chatty session's serialization hides
//     in the far side's think time, and a projection says so in its
//     Assumptions), and a short gap inside a run of one side's data is
//     the sender pacing its window, not thinking;
//   - the handshake is one RTT' and what the hosts took beyond the RTT
//     (a wait of a second or more beyond it is a SYN resent: a loss);
//     application turns scale with RTT'/RTT (at most RTT' per request
//     answered); receiver-window stalls and loss recovery with RTT'/RTT;
//     RTO waits with (200 ms + RTT')/(200 ms + RTT); transfer with
//     rate/rate'; queueing behind the connection's own data shrinks
//     with a faster rate and never grows (a slower link's serialization
//     is transfer already); queueing behind other traffic is replayed:
//     the other connections between the same hosts that carried enough
//     to queue (Conn.Cross) are sent again at the target from their own
//     start times (handshake, request, slow start into the target's
//     queue, drained at rate'), and the connection's turns, spread over
//     its projected duration, wait for the queue they meet (without Cross,
//     it scales with rate/rate');
//   - window waits are replayed: each bulk phase is sent in slow-start
//     rounds from the initial window (the first flight when it was
//     window-limited, else 10 segments, RFC 6928; restarted after an idle
//     time over the RTO, RFC 5681 section 4.1, as Linux does), doubling
//     per round up to the receive window (Target.RWnd, else Linux's
//     autotuning maximum, DefaultRWnd); a round whose window does not
//     fill the path leaves the link idle for RTT' minus the window's
//     serialization time, and once a window fills the path the rest
//     streams at the rate; the last flight of a phase, which the window
//     does not limit, is paced as Linux paces it (twice cwnd x MSS / RTT,
//     cwnd grown to twice the flight), which on a long path spreads it
//     over about a quarter of the RTT. The window wait the replay at the
//     observed RTT does not explain (the ACK clock, other senders'
//     pacing) scales down with the RTT and never up;
//   - with the target's loss given (Target.LossKnown), the observed
//     losses are dropped and the target's priced: a loss in a bulk phase
//     is repaired while the queue keeps the link busy, and costs the
//     halved window's regrowth when the queue is shallower than the path
//     (the sawtooth of Mathis, Semke, Mahdavi and Ott, 1997); any other
//     loss a tail-loss probe or RTO, about 200 ms plus two RTTs; a
//     slow-start flight that overflows the queue (Target.QueueFrames)
//     tail-drops once and costs the regrowth. Without it the observed
//     losses are priced at RTT'.
//
// A projection gives a range (Best, Worst: no random loss and the
// expected losses plus two standard deviations; without a loss rate the
// observed losses gone and kept) and its assumptions in words.
//
// Validated on the lab's what-if set (testdata/lab/whatif: nine workloads
// on six links from a LAN to a 600 ms satellite-class path, a lossy and a
// shallow-queue one; TestWhatIfLab projects each workload between every
// pair, 270 projections) and on the earlier lab captures (same workload at
// 10, 50 and 150 ms base RTT, 2 Mbit/s: TestWhatIfMatchesOtherRTTs).
// TestWhatIfLab's table shows where it stops: the hosts' own think time
// differs from capture to capture by a few tenths of a millisecond a
// turn, which decides a chatty session projected onto a LAN (the same
// 200 queries: 0.114 s of think on the LAN, 0.211 s at 50 ms and 20
// Mbit/s); with the target capture's think time in place, 251 of the 270
// projections are within 10 % and none is over 25 %. That think follows
// the idle time before each turn, not the path (TestThinkFollowsIdle: the
// LAN with the client pausing 50 ms a turn has its server spend what it
// spends on a 50 ms path), and a capture shows its hosts at one idle time
// only: a projection keeps the think as captured and, where think is a
// tenth of the projected time or more and the RTT changes more than
// twofold, names that in its Assumptions.
//
// # Attribution
//
// Each connection carries its application protocol: package appproto's
// identification when flow.Conn has one, else a guess from the server's
// port. ByProtocol adds up the connections per protocol in first-seen
// order. Turns and transactions come from appproto when it framed the
// connection; retransmission and duplicate-ACK counts, and the budget's
// loss judgement, from tcpstate's tshark-compatible labels (flow's
// PacketInfo.Analysis). Multi-segment application messages come from
// appproto's transactions (the Explainer's Transaction method). The
// legs are tcpstate's as they stand after each packet, and the bottleneck
// rate is estimated here, both online, because the budget needs them
// while the connection is still open.
//
// # Memory
//
// Per live connection the state is fixed: running sums, per direction a
// ring of unacknowledged segment ends growing from 8 to 128 entries, 16
// trigger times and, once data calls for them, two spacing histograms, a
// histogram of gaps to split, and the log of an upstream sender's first
// flights; the top Options.TopStalls stalls and at most Options.MaxPhases
// bulk phases. Per pair of hosts with live connections, a record of 16
// queueing samples. No per-packet list is kept; a connection's state is
// released (and reused) when it ends. An Explainer is not safe for
// concurrent use. In a parallel pass (flow.Config.Workers) flow gives all
// connections between two hosts to one shard, so each fork's host-pair
// records are complete and the results are those of a single pass.
package explain
