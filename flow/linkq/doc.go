// Package linkq measures link quality from packet captures, in the manner
// of Meek, Eichert and Takayama, "Wide Area Network Ecology" (LISA '98):
// RTT against packet size (their Table 1 and Figure 1), link use per
// interval, and a pathdiag-style verdict on TCP connections for a target
// rate and RTT.
//
// It consumes what package flow's Analyzer classified, as a flow.Consumer
// (Analyze and AnalyzeFile list it in flow.Config.Consumers); it parses ICMP, ICMPv6 and UDP headers itself with bounds-checked
// reads and never imports gopacket.
//
// # RTT against packet size
//
// Echo requests are paired with their replies: ICMP echo (RFC 792, types 8
// and 0) and ICMPv6 echo (RFC 4443, types 128 and 129) by addresses,
// identifier and sequence number; UDP echo (RFC 862, port 7 by default) by
// addresses, ports and data, since it has no sequence number. For every
// request the matcher keeps a 64-bit FNV-1a hash of its data and the data
// length, never the data, and compares the reply's against them, as Meek
// et al. compared MD5 sums: a reply whose data differ counts as Corrupted
// (for UDP, a reply matching no request's data is taken as a corrupted
// answer to the oldest open request of the same ports and length). Lost
// requests (never answered), late replies (after EchoConfig.Timeout),
// duplicate replies, replies without a request, ICMP errors quoting an echo
// request (counted, never taken as replies; the quoted request is resolved
// as Errored rather than lost, as a traceroute probe should be), and
// truncated or malformed ICMP and UDP headers are all counted in EchoStats. Requests are
// remembered in a ring of EchoConfig.MaxOutstanding slots; when it is full
// the oldest is forgotten and, if unanswered, counted lost. Requests with
// equal keys (UDP echoes of equal data, ICMP sequence numbers coming round)
// are answered in order, except that one unanswered for longer than the
// timeout gives way to a younger one: it is lost, and the reply is not
// taken for a late answer to it.
//
// TCP gives RTT samples too (Source "tcp"): a data segment timed to the
// pure ACK whose acknowledgment number is exactly its end. The sample,
// the segment and its size are tcpstate's (flow.PacketInfo.Analysis: RTT
// and Acked, under Karn's rule: no sample when a byte up to the ACK was
// sent twice); segments without that analysis are not tracked.
// ACKs carrying data are not used, because their own serialization and
// the application's think time would enter the sample. A sample measures
// the path between the capture point and the receiver of the data: in a
// capture taken next to a client, the server's data is timed over the
// client's own stack only (microseconds), the client's over the WAN.
//
// Each path — source, requester (sender of the request or data) and
// responder, in first-seen order — gets three fits of RTT = a + b·size:
// least squares over every sample (Fit; computed in one pass), Theil–Sen
// over the kept points (Robust; resists a minority of queued samples), and
// least squares through the minimum RTT of each size bin (MinFit; queueing
// only adds delay, so the minima trace the empty-queue line). The
// intercept a is the fixed delay, the slope b the serialization per byte
// (µs/byte and s/bit), the RMS residual the link's consistency (Meek et
// al.: 0.155 ms on a good link, 1.017 ms on a troubled one). Sizes are IP
// packet lengths by default (see SizeBasis for why and for the others).
// The slope predicted from line speeds, the "estimated" column of their
// Table 1, is 2·Σ 8/rate_i seconds per byte over the store-and-forward
// links crossed each way: see EstimatedSlope.
//
// With the lab's formula RTT(N) = 2·delay + 2·(N+42)·8/rate for a ping
// payload of N bytes (42 = 14 Ethernet + 20 IPv4 + 8 ICMP), the IP length
// is N+28, so the IP-basis line has slope 16/rate s/byte and intercept
// 2·delay + 2·14·8/rate: the Ethernet header's serialization lands in the
// intercept.
//
// # Loss by packet size
//
// A per-path loss figure hides loss that only large packets suffer (Meek
// et al. found a router whose 966-byte buffer dropped every other larger
// packet). SizeLoss counts, per path and per size bin (LossConfig.BinWidth,
// 100 bytes by default, sizes as FitConfig.Size measures them), the echo
// requests sent and lost, and for TCP the data segments sent and
// retransmitted. SizeDependence tests whether the loss steps up at some
// size: at each boundary between bins, a one-sided Fisher exact test of
// the loss above against the loss below; the best boundary's p-value,
// times the number of boundaries tried (Bonferroni), must fall below
// LossConfig.Alpha (0.001) for the loss to be flagged, which loss that
// does not depend on size (Bernoulli loss) does with probability at most
// Alpha. The report gives the split, the two loss rates, the step and
// the p-value.
//
// # Duplex mismatch
//
// A half-duplex side facing a full-duplex one loses frames only while
// both directions send. DuplexReport cuts each host pair's time into
// slots (DuplexConfig.Slot, 10 ms), two-way when both directions sent
// data frames in them, and places each lost data frame (a retransmission
// by tcpstate's labels, at the packet the label refers to: the lost copy,
// or the ACK the duplicate ACKs repeat; an echo never answered, at its
// request) in the slot it was sent in. A one-sided
// Fisher exact test of the two-way loss rate against the one-way rate
// fails the check when the losses crowd into the two-way slots
// (DuplexConcentration times the one-way rate or more), with the action
// "check the duplex settings of the NIC and the switch port". The slots
// with data are kept (24 bytes each, at most DuplexConfig.MaxSlots) and
// judged when the report is made, so that in a parallel pass the forks'
// slots of a pair are put together first; Report then adds each TCP
// connection's verdict the check of its host pair, last.
//
// # Link use
//
// Frame bytes (the wire length, link header included) per interval, per
// host pair and direction, with the mean rate and its percentage of a
// committed or line rate (Meek et al.'s "percent of CIR"). Bins start at
// multiples of the interval since the Unix epoch and are contiguous from a
// pair's first to its last.
//
// # Verdict
//
// Given a Target (RTT and rate the application needs, NPAD's two
// questions), each TCP connection is judged when flow reports it ended:
//   - loss, in each direction that carried data: net retransmissions /
//     data segments against the Mathis bound p ≤ (C·MSS/(RTT·rate))²
//     (Mathis et al. 1997) with C = √(3/2) by default
//     (MathisCDelayedACK ≈ 0.87 models a receiver that ACKs every second
//     segment and is stricter: the sender's window grows half as fast). A
//     data segment is retransmitted when its data end at or before the
//     highest sequence number already seen in its direction (tcpstate's
//     Analysis.Resent covers its payload); the
//     retransmissions tcpstate showed needless (D-SACK, RFC 2883, or
//     timestamps, RFC 3522) are taken off. This differs from Wireshark on
//     purpose: a resent segment that fills a hole soon after the hole was
//     seen is "out-of-order" to Wireshark but a retransmission here, so the
//     count matches the segments the lab's emulator dropped (tcpstate's
//     Wireshark-compatible count is reported next to it). Zero-window
//     probes and keep-alives (rare) count as retransmissions.
//   - window: the largest receive window the data receiver advertised,
//     scaled by its SYN's window scale (RFC 7323) when both SYNs carried
//     one, against rate × RTT.
//   - mss: the MSS options of the SYNs against the 1460 bytes (1440 over
//     IPv6) of a 1500-byte MTU. The Mathis bound uses the smaller MSS
//     less 12 bytes when timestamps are on.
//   - capture-side symptoms: the receiver advertising a zero window (a slow
//     reader), and from tcpstate's analysis retransmissions after a
//     timeout and the sender filling the receiver's window.
//   - duplex: the duplex-mismatch check of the connection's host pair over
//     the whole capture, added by Report (see Duplex mismatch).
//
// Every warning and failure carries an action, e.g. "raise the receiver's
// maximum window to at least N bytes".
//
// # Reports, tables and figures
//
// A Report is typed (JSON tags throughout); FileReport names the capture
// it came from. The tables a tool prints are laid out here, from typed
// rows, so that their CSV and text forms cannot drift apart: FitTable
// (one column per figure of a path's fits, the CSV layout) and
// FitSummaryTable (the same for reading), EchoTable, UseTable and
// VerdictTable, each written by Table.WriteCSV or Table.WriteText;
// WriteVerdicts prints the verdicts pathdiag-style. For figures,
// Report.FigurePath picks the path to draw, Points and PathFit.Lines are
// its scatter and named lines in the interfaces package plot reads, and
// UseReport.OnGrid puts every host pair's link use on one grid of
// series.Bins.
//
// # Memory and ownership
//
// Nothing holds packets. Memory is bounded by EchoConfig.MaxOutstanding,
// FitConfig.MaxPaths (also the most paths of the loss by size) and
// MaxPoints, UseConfig.MaxPairs and MaxBins, DuplexConfig.MaxPairs and
// MaxSlots (24 bytes per slot with data) and the capture times of the last
// 65536 packets (512 KiB), a few counters per TCP connection, and flow's
// own connection limit.
// Results come out in first-seen order. An Analyzer is not safe for
// concurrent use and never reads the clock.
//
// # Parallel passes
//
// An Analyzer is a flow.Forker: a pass with flow.Config.Workers above one
// (Config.Workers for Analyze) runs a fork in each shard and merges them
// (Analyzer.Merge) into the report one Analyzer gives. Fits are made from
// exact integer sums, so the order samples come in does not change them.
package linkq
