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
//		fmt.Println(c.Limit, c.Budget.RoundTripS, c.Project(10*time.Millisecond, 0).DurationS)
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
// the state), and each stretch from one event to the next is attributed by
// who sent the two events, as seen from the capture point. The side the
// capture was taken at is "near"; the other is "far":
//
//   - until the handshake's ACK: handshake;
//   - near event, then far data (a request answered): one base RTT of
//     round trip, the serialization of the request and of the answer's
//     first segment at the bottleneck rate as transfer, the rest the far
//     side's think time. Each such stretch is an application turn that
//     paid a round trip (Model.RoundTrips);
//   - far data, then far data (a response streaming in): the serialization
//     of the second segment is transfer (all of it when the gap is within
//     1.5 times that: jitter); the rest is a window wait when the near
//     side's latest packet that could have released the segment (sent at
//     least 0.9 RTT before it) explains its timing, a receiver-window stall
//     when the data in flight filled the advertised window, a zero-window
//     stall when the receiver advertised zero, or the far side's think time
//     when the sender had everything it needed and still did not send;
//   - far data, then near data: the near side's think time;
//   - near data, then near data: a window wait when the far side's ACK in
//     between released it, else the near side's think time;
//   - a retransmission (tcpstate's labels: retransmission, fast or
//     spurious retransmission, out-of-order), or far data while a sequence
//     hole is open (from data tcpstate labels "previous segment not
//     captured" until the receiver's ACK reaches it): loss recovery, or an
//     RTO wait when tcpstate found the retransmission was sent on a
//     timeout. Keep-alives are not losses.
//     During recovery the serialization of the data still flowing is
//     transfer.
//
// The base RTT is the smallest sample, all of them tcpstate's: the
// handshake (the first SYN to the ACK of the SYN/ACK, a whole round trip
// at any capture point, never too short when the SYN was repeated,
// Handshake.RTT) and each data→ACK
// sample of a near segment (data or FIN) that the far side's ACK gives
// (Analysis.RTT: the ACK ends exactly at the segment and no byte up to it
// was sent twice, Karn's rule; tshark's tcp.analysis.ack_rtt). The
// bottleneck rate comes from the
// spacing of consecutive far-side data segments: the mean of the histogram
// bin holding the lower quartile of seconds per wire byte. Splits that need
// the rate are kept in fixed histograms and made when the connection ends,
// so early gaps are judged with the final estimate.
//
// Vantage: the handshake tells where the capture was taken, as
// tcpstate.Conn.Vantage judges it when the handshake ends. At the client
// the SYN/ACK follows the SYN after a round trip and the ACK follows at
// once (the SYN/ACK leg is at least 80 % of the round trip); at the server
// the reverse. With no handshake, or one too short to place the capture
// (under 200 µs: loopback, one host), the capture is taken to be at the
// client (VantageAssumedClient); when both legs are comparable
// (VantageMiddle) the budget is still computed as at the client. The rules above are written for the near side as the receiver of
// bulk data; at a bulk sender's side, ACK-clocked sending at the
// bottleneck rate looks like waiting for ACKs and is counted as window
// wait.
//
// # Rate-limiting cause
//
// In the spirit of T-RAT (Zhang, Breslau, Paxson, Shenker, SIGCOMM 2002),
// the Limit is the group of budget parts with the largest share: think
// times (application), handshake and application turns (round_trip_bound),
// window waits (congestion_window), receiver-window and zero-window stalls
// (receiver_window), transfer (bandwidth), loss recovery and RTO (loss).
// Evidence carries the shares, the utilisation of the estimated bottleneck
// and turns x RTT.
//
// # What-if
//
// Conn.Project is NPAD's symptom scaling (Mathis, Heffner, Reddy) made
// concrete, on the decomposition of Barford and Crovella's critical path
// analysis (SIGCOMM 2000): think times and zero-window stalls stay; the
// handshake, application turns, receiver-window stalls and loss recovery
// scale with RTT'/RTT; RTO waits with (200 ms + RTT')/(200 ms + RTT);
// transfer with rate/rate'. Window waits are replayed: each bulk phase is
// sent in slow-start rounds from the initial window (the first flight seen,
// else 10 segments, RFC 6928), doubling per round; a round whose window
// does not fill the path leaves the link idle for RTT' minus the window's
// serialization time, and once a window fills the path the rest streams at
// the rate. At a lower RTT fewer rounds are needed before the link is full.
// The projected window wait is the observed one plus the replayed idle
// time at (RTT', rate') minus the replayed idle time at (RTT, rate). Loss
// rates are not changed (see Mathis et al. 1997 for how loss would bound
// the rate).
//
// Validated on the lab captures (same workload at 10, 50 and 150 ms base
// RTT, 2 Mbit/s): projecting each chatty and bulk session to the other
// RTTs lands within 10 % of the measured duration (TestWhatIfMatchesOtherRTTs).
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
// base RTT is the minimum of tcpstate's samples so far, and the
// bottleneck rate is estimated here, both online, because the budget
// needs them while the connection is still open.
//
// # Memory
//
// Per live connection the state is fixed: running sums, a ring of 128
// unacknowledged segment ends per direction, histograms of fixed size, the
// top Options.TopStalls stalls and at most Options.MaxPhases bulk phases.
// No per-packet list is kept; a connection's state is released (and reused)
// when it ends. An Explainer is not safe for concurrent use.
package explain
