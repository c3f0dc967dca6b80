// Package netlog writes NetLogger-style events for the TCP connections of
// a capture. NetLogger (Tierney, Gunter et al., LBNL) timestamps every
// critical point of a distributed application in one common log format
// and draws lifelines across its components; a capture holds the same
// critical points of every connection, as seen where it was taken.
//
// # Events
//
// A Logger is a flow.Consumer. For each connection it logs an Event at
// every critical point: SYN, SYN/ACK, the ACK ending the handshake, the
// first and last byte of each request and of its response (the
// application transactions of package appproto, through
// flow.TransactionConsumer), each retransmission with tcpstate's label
// and cause, each RTO (a retransmission after a timeout, with the
// sender's silence before it), each zero window, FIN and RST. Each count
// stands for packets: SYN events are the segments with SYN and without
// ACK, SYN/ACK events those with both, retransmission events the
// segments tshark flags tcp.analysis.retransmission, zero-window events
// those it flags tcp.analysis.zero_window, FIN and RST events the
// segments with those flags; RTO events are the retransmissions tcpstate
// counts in DirStats.RetransTimeout; request and response events come
// four per transaction (appproto.Stats.Transactions).
//
// An event is seen at the capture point; its Host is the side that acted
// (the sender). Events carry the connection's legs — the one-way times
// from the capture point to each end, half of each side of tcpstate's
// handshake split — so that the far ends' moments can be placed: a
// segment the client sent left it one client leg before the capture saw
// it and reached the server one server leg after (Event.Sent,
// Event.Arrived). Lifelines turns a connection's events into the lines
// and marks of plot.Lifeline: rows for the client, the capture point and
// the server, one line for the handshake and one per transaction.
//
// # Output
//
// A connection's events are handed to a Handler when the connection
// ends, in time order (events at one instant in the order they
// happened), the connections in the order they ended. ULMWriter writes
// them as ULM lines (the Universal Logger Message format of
// draft-abela-ulm, as NetLogger writes it: DATE=YYYYMMDDhhmmss.ffffff
// HOST= PROG= LVL= NL.EVNT= and then the event's fields, see AppendULM);
// ParseULM reads such a line back. JSONWriter writes one JSON object per
// event. Both write a connection's block in one Write.
//
// The Logger is a flow.Forker: with flow.Config.Workers above one, its
// forks gather events on the shards' goroutines and the Logger hands the
// blocks to its Handler on the Analyzer's goroutine in the order the
// connections ended, so the output is byte for byte that of one worker.
//
// # Memory and ownership
//
// Memory is bounded by the live connections: each holds its events until
// it ends, at most Config.MaxEvents (further ones are counted and
// reported by a Truncated event at the end of its block). The per-packet
// path allocates nothing but the growth of a connection's event list.
// The events slice a Handler receives is valid during the call only. A
// Logger is not safe for concurrent use, and never reads the clock: times
// are the capture's, written in UTC.
package netlog
