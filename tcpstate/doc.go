// Package tcpstate holds the state and analysis of one TCP connection, fed
// its segments in capture order. It knows nothing of capture formats: a
// Segment is plain values (sequence numbers, flags, options, lengths,
// timestamps).
//
// Sequence numbers use the Seq (a point) and Size (a length) types, compared
// modulo 2^32 with serial-number arithmetic (RFC 1982); SYN and FIN each
// occupy one sequence number (RFC 9293 section 3.4).
//
// Per direction, a Conn counts packets, wire bytes, payload bytes and
// unique payload bytes: the sequence space covered, each byte once, so a
// retransmission is not counted twice. The coverage tracker remembers at
// most 32 holes below the highest byte seen; beyond that the count errs
// low, never high.
//
// A Conn does not retain the payload slices it is given. It is not safe for
// concurrent use.
package tcpstate
