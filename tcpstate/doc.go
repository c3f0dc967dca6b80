// Package tcpstate holds the state and analysis of one TCP connection, fed
// its segments in capture order. It knows nothing of capture formats: a
// Segment is plain values (sequence numbers, flags, options, lengths,
// timestamps).
//
// Sequence numbers use the Seq (a point) and Size (a length) types, compared
// modulo 2^32 with serial-number arithmetic (RFC 1982), and Range, a
// half-open [First, End) of them; SYN and FIN each occupy one sequence
// number (RFC 9293 section 3.4). Points exactly 2^31 apart are unordered.
//
// Per direction, a Conn counts packets, wire bytes, payload bytes and
// unique payload bytes: the sequence space covered, each byte once, so a
// retransmission is not counted twice. The coverage tracker remembers at
// most 32 holes, within 2^30 bytes (the largest window) below the highest
// byte seen, and takes the space below the first byte seen as covered;
// beyond that the count errs low. A segment more than 2^30 bytes from the
// highest byte (an impossible jump; see AnomalySeqJump) counts its
// bytes once and is not tracked: the count errs high only by repeats of
// such segments.
//
// # Sequence analysis
//
// Conn.Add returns an Analysis of each segment: the labels Wireshark's TCP
// analysis gives (Wireshark User's Guide, "TCP Analysis"), tried in
// Wireshark's order with its rules (zero-window probe, zero window,
// previous segment not captured, keep-alive, window update, window full,
// keep-alive ACK, zero-window-probe ACK, duplicate ACK, ACKed unseen
// segment, then for segments with data, SYN or FIN: spurious
// retransmission, fast retransmission, out-of-order, retransmission), the
// earlier packet each label refers to (Analysis.Explain says it in words),
// the cause of a retransmission (fast/SACK-driven, tail-loss probe,
// timeout; heuristics, see Cause), the data→ACK RTT sample the segment
// gave and the bytes in flight after it. The per-direction counters in
// DirStats count the packets carrying each label, one to one with tshark's
// tcp.analysis fields; the project's golden tests hold them to tshark 4.0
// on every corpus capture. Deliberate extensions beyond Wireshark: bytes
// in flight subtract the receiver's SACK blocks (Wireshark's ignore SACK,
// its issues 6683 and 7703), and retransmissions later shown unneeded by a
// D-SACK (RFC 2883) or by timestamps (Eifel, RFC 3522) are counted.
//
// # One authority
//
// A Conn is the one place where a connection's TCP facts are decided;
// other packages read them rather than derive their own. Per segment, the
// Analysis gives the payload's sequence range (Data: after the SYN's own
// number, empty on a RST), how many of its bytes were sent before
// (Resent), whether Wireshark counts it a retransmission
// (Retransmitted), the advertised window in bytes with the scale applied
// (Window, WindowShift), and for an ACK that times a segment the sample,
// the segment and its sizes (RTT, AckOf, Acked) or why there is none
// (Ambiguous, Untracked). Between segments the Conn answers cheap live
// queries, which allocate nothing: Handshake (its times), Legs (the
// capture point's place on the path: the round trip to each end and back,
// and the vantage), Vantage, InFlight, MSS, WindowShift and Base (the
// origin of relative sequence numbers).
//
// # Round-trip time
//
// Conn.RTT splits the handshake at the capture point (SYN→SYN/ACK and
// SYN/ACK→ACK), takes a data→ACK sample whenever an ACK covers exactly the
// end of a segment and no byte up to it was sent twice (Karn's rule,
// RFC 6298), and a timestamp sample from the first echo of each TSval
// (RFC 7323). Samples never go negative: time going backwards drops the
// sample and is counted. Quantiles are exact up to MaxRTTSamples samples
// per sampler and estimated from a uniform reservoir beyond. Conn.Legs
// splits the base round trip at the capture point into a leg to each end
// and back, each the smallest of the handshake's, the data→ACK and the
// timestamp samples that time it; Conn.Vantage places the capture from
// them (near the client, near the server, in the middle); Conn.Quality
// lists capture faults and the conclusions they undermine.
//
// # Bad input
//
// Nothing a segment holds makes Add panic. Impossible sequence jumps
// (more than 2^30 bytes), malformed options, window scales above 14
// (clamped to 14, RFC 7323 section 2.3) and timestamps going backwards
// are marked on the segment (Analysis.Anomaly) and counted in Quality.
//
// # Memory
//
// A Conn's memory is bounded: at most 1000 unacknowledged segments and
// MaxRTTSamples samples per sampler per direction (4 samplers; 4 bytes a
// sample, whole microseconds, 8 once one exceeds 71 minutes), 8 recent
// retransmissions, 32 recent TSvals (allocated with the first timestamp
// after the SYN) and 4 recent segment signatures (to tell capture
// duplicates). Once those buffers have grown, Add allocates nothing. A
// Conn does not retain the payload slices it is given. It is not safe
// for concurrent use.
package tcpstate
