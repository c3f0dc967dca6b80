// Package series turns one pass over a capture into the data behind the
// figures: per-packet records of chosen connections (time, wire size,
// direction, sequence range, ACK, window, flags) and byte counts in
// fixed-width time bins, per direction, for those connections and for the
// whole capture.
//
// A Collector is a flow.Consumer, so the figures share the Analyzer's
// single pass:
//
//	col := series.NewCollector(series.Config{Conns: []int{1}})
//	res, err := flow.AnalyzeFile(name, flow.Config{Consumers: []flow.Consumer{col}})
//	data := col.Result()
//
// # Figures
//
// A Result holds the data of every figure, in types that implement
// package plot's input interfaces (Bins: plot.ByteBinner, MinRTT:
// plot.MinRTTer, Points: plot.Packeter, RTTSamples: plot.RTTSampler,
// SeqRanges and SeqMarks: plot.SeqRanger and plot.SeqMarker, Turns:
// plot.Transactioner), so a tool hands them to plot as they are. The
// functions that shape them for a figure live here, not in the tools:
// Result.Coarsen merges the grid to a readable width (RoundWidth picks
// one); Window cuts a zoom; TimeSequence sorts a connection's segments and
// ACKs into a time-sequence graph; RTTIn picks a connection's RTT samples,
// the direction whose samples are network round trips (NetworkDir, by
// tcpstate's vantage, or CaptureNetworkDir for a capture) and its minimum
// per interval; SplitTurns and TurnLog give the exchanges of a timeline;
// ClassLabel names a traffic class by its application protocol.
//
// # Memory
//
// Capture-wide data is binned: memory grows with the capture's duration
// divided by the bin width, never with its packet count. When a series
// would need more than Config.MaxBins bins the width doubles and pairs of
// bins merge, so a capture of any length fits. Per-packet records are
// kept only for the connections named in Config.Conns, at most
// Config.MaxPoints each (the rest are counted, not kept).
//
// # Time grid
//
// Every series shares one grid: bin i covers [Start+i*Width,
// Start+(i+1)*Width), Start being the earliest packet's time rounded down
// to a multiple of Width since the Unix epoch (Result.First is the time
// itself). A packet dated earlier than every packet before it (a capture
// whose clock stepped back) moves Start back; no packet is clamped. When
// the span would need more than Config.MaxBins bins, the width doubles
// and bins 2k and 2k+1 (counted since the epoch) merge. The grid thus
// depends on the packets' times alone, not on their order, which is what
// lets a parallel pass merge shards exactly (see Parallel passes).
//
// # Directions
//
// A TCP segment counts in its connection's direction: ClientToServer or
// ServerToClient (see the flow package for who is the client). Capture-wide
// bins add the packets that are not TCP segments of a connection by what
// each says itself (Direction): an ICMP echo request client to server,
// its reply and ICMP errors server to client; a UDP datagram (or a TCP
// segment of no connection) sent to the lower port, a service's, client to
// server, one sent from it server to client; anything else client to
// server.
//
// # Parallel passes
//
// A Collector and a TurnLog are flow.Forkers: with flow.Config.Workers
// above one each shard gets a fork, and Merge puts the forks' series
// together after the pass. The result equals one Collector's, with one
// exception: which classes stay apart is decided by the first packet of
// each class in the capture as long as no shard saw more than MaxClasses
// classes; past that a class the shard counted under "other" stays there.
//
// # Sequence numbers
//
// The TCP facts of a Point are tcpstate's, as flow passes them
// (PacketInfo.Analysis and PacketInfo.TCP); packets without them are
// binned but not recorded. Points carry sequence numbers relative to the
// direction's base (tcpstate.Conn.Base: the first sequence number seen in
// that direction, its ISN when the SYN was captured, or, if an ACK for
// that direction came first, the acknowledged value); they are unwrapped
// to int64, so a connection may carry more than 4 GiB. Windows are in
// bytes as tcpstate gives them (Analysis.Window: scaled by the sender's
// shift once its SYN was seen and both SYNs agreed on scaling, RFC 7323;
// never on a SYN; as carried while the scale is unknown).
//
// Point.Retrans marks a data segment some of whose bytes were sent before
// in its direction (Analysis.Resent). Deliberate difference from tshark:
// it marks what tshark calls a retransmission and also what it calls
// out-of-order (a segment filling a hole left by a loss upstream of the
// capture point arrives below the highest sequence number either way); on
// the lab's lossy captures the frames match tshark's retransmission +
// out_of_order flags exactly (see TestLabCaptures). Points also carry
// tcpstate's labels and RTT sample (Karn's rule), and Result.MinRTT keeps,
// per interval and by the direction of the data timed, the smallest RTT
// sample over every connection: the minimum RTT of a long capture in
// bounded memory.
//
// A Collector is not safe for concurrent use; results are in first-seen
// order.
package series
