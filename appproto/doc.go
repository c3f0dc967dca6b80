// Package appproto identifies the application protocol of a TCP
// connection, frames its two byte streams into application messages and
// pairs requests with responses, with their timing. It knows nothing of
// capture formats: it is fed the connection's TCP segments
// (tcpstate.Segment: sequence number, payload, capture time and index) in
// capture order, one Conn per connection.
//
// # What it models
//
// Reassembly. Each direction is rebuilt in sequence order from the SYN (or
// from the first data seen): retransmitted bytes are dropped, out-of-order
// segments are copied and held, at most Config.MaxHeld bytes per
// direction; a hole that is never filled, and payload the capture's snap
// length cut, become gaps. A hole the other side's ACK covers becomes a
// gap at that ACK: the bytes reached the receiver, so the capture lost
// them, and what was held behind them goes on at once. A response whose
// start a gap lost is the due request's (incomplete; no response seen in
// Stats.Responses) and ends at the next request. A gap inside a frame
// whose length is known is skipped; a gap past a frame boundary loses the
// framing: parsers that implement Resyncer look for the next plausible
// header, the others turn the rest of that direction into unknown data. A
// parser that implements Truncator still counts a message whose header the
// gap cut (HTTP request and status lines under a short snap length).
// Stats.Gaps, Stats.GapBytes and Stats.Resyncs count what happened.
//
// Identification. The first bytes of each direction (up to 2 KiB) are
// offered to every Protocol of the Registry, which scores them from 0 to
// 1; a matching server port adds 0.05. The best score of at least 0.5
// wins, so a weak match (0.45: a bare TNS header, a lone MySQL query
// packet, a Redis status line) counts only on the protocol's port. Without a payload match, a protocol whose port matches is reported
// with ConfidencePort (0.3) and the data left unframed (so is a
// connection that carried no payload); without either the protocol is
// "unknown". Confidence rises to ConfidenceConfirmed (1) once
// both directions framed messages without error.
//
// Server ports. The Registry holds the one table of well-known server
// ports: each protocol's Ports, and those of services it does not parse
// (RegisterService; DefaultRegistry adds NFS, RDP, AMQP, Kafka, MongoDB
// and others). Registry.ServerPort names the service of a port and
// Registry.IsServerPort tells which end of a connection picked up
// mid-stream is the server (any port below 1024, or a named one); both
// are a binary search that allocates nothing.
//
// Framing. A Parser's Split works like a bufio.SplitFunc: given the bytes
// at a frame boundary, it returns the frame's length (which may exceed the
// bytes given: the rest is skipped as it arrives, never buffered), or asks
// for more, or fails. Only headers are buffered, at most Config.MaxHeader
// bytes; a binary length above Config.MaxMessage is a framing error, and
// no parser allocates a declared length. A framing error is counted on the
// connection (Stats.FramingErrors, Stats.FramingError) and that direction
// resynchronises or becomes unknown data; nothing panics. Unknown data is
// cut into messages at PSH and at a change of direction.
//
// Messages carry their first- and last-byte times, bytes and segments.
// For TNS a message is a TNS packet; for HTTP a request or a response,
// body included; for PostgreSQL and MySQL a protocol message or packet;
// for TDS a run of packets ended by EOM; for TLS a record; for Redis a
// command or reply.
//
// Transactions. A Parser gives each message a Role. A client message with
// Request opens a request (or joins the one being sent); RequestEnd, or
// the first server message, closes it; pending requests queue (HTTP and
// Redis pipelining, at most Config.MaxPending with timing). Server
// messages with Response belong to the oldest closed request; ResponseEnd
// completes it (PostgreSQL ReadyForQuery, the end of a MySQL result, an
// HTTP response). Turn-based protocols (TNS, TLS application data, unknown
// data) mark requests EndsPrevious: the next request completes the
// transaction whose response was under way, and Close completes the last.
// A Transaction reports request and response bytes, segments and
// messages, the server time (first response byte - last request byte),
// the transfer time (last - first response byte), the duration and the
// client turns it took (more than 1 for exchanges such as COPY); Stats
// sums them per connection with the counts of messages, requests,
// responses and turns (client data after server data, or the first data).
// A transaction whose request or response misses bytes is marked
// Incomplete, with MissingBytes when they are known: a response cut by the
// end of the capture (the rest of a declared length; a result without its
// end marker, a chunked body between chunks, a body delimited by the close
// without the server's FIN: unknown), or bytes lost in a gap while it was
// under way (the gap's size). Stats.Incomplete counts them. The last reply
// of a turn-based protocol, which has no end marker, is not.
// Transactions (and messages, for a MessageHandler) are handed one by one
// to the Handler given to NewConn, during Add and Close, so memory stays
// bounded however long the connection.
//
// Text. A transaction says which statement it ran, as far as the request
// carries it in clear (Transaction.Query, Host, Path): the SQL text of
// PostgreSQL Query and Parse, MySQL COM_QUERY (past query attributes)
// and COM_STMT_PREPARE, TDS SQL batches (UTF-16LE, converted), TNS
// execution calls (the text found in the call, see below), the HTTP
// Host header and request target, the Redis command name. Each text is
// at most MaxText bytes, cut at a UTF-8 boundary and marked
// (TextTruncated); a parser waits for up to 1 KiB of a request to see
// its text whole, and frames what it has when a gap or the end of the
// connection comes first. The text is copied into per-connection
// buffers, so framing stays free of allocation. StatementGroups gathers
// transactions by normalised statement (NormalizeSQL: literals replaced
// by ?; NormalizePath), with their counts, round trips, bytes and server
// time quantiles, in a bounded number of groups.
//
// SQL*Net. A TNS connection's Stats report the SDU and TDU its Connect
// proposed and its Accept chose (the Accept's win: Stats.SDU, Stats.TDU),
// and in Stats.SQLNet, per direction, the TNS packets per TCP segment and
// segments per packet, the bytes of TNS headers and Marker packets against
// those of Data packets, and the SDU that would map packets one-to-one
// onto the path's MSS (from the SYNs' MSS options).
//
// # Protocols and references
//
// TNS (Oracle Net): the header layout (length, packet checksum, type,
// flags, header checksum), the packet types and the 4-byte length used
// after an Accept of version 315 or later follow Wireshark's
// packet-tns.c; the 4-byte SDU and TDU sizes of version 315 and later
// (Connect bytes 58-65, Accept bytes 32-39), which packet-tns.c does not
// decode, were read off the corpus captures and match the Connect's
// 2-byte SDU where both are set. HTTP/1.x: RFC 9112 (message framing:
// Content-Length, chunked, responses without body), RFC 9110 (1xx, 204,
// 304, HEAD, CONNECT). PostgreSQL: the Frontend/Backend Protocol chapter of the
// PostgreSQL documentation (version 3). MySQL/MariaDB: the client/server
// protocol documentation (packet header, handshake, command phase, text
// and binary result sets, OK/ERR/EOF, CLIENT_DEPRECATE_EOF). TDS:
// Microsoft's [MS-TDS] packet header and EOM status bit. TLS: the record
// layer of RFC 8446 section 5.1. Redis: the RESP2/RESP3 specification.
//
// Deviations: TNS responses have no end marker visible to framing, so a
// TNS reply runs to the client's next Data packet. The fields of a TNS
// execution call before its SQL text vary with the version and are not
// decoded: the text is the first string of the call (a length byte and
// its bytes, or 0xfe and chunks) that begins with an SQL keyword; a call
// whose text lies past the first 1 KiB of its packet, or in a later
// packet, or a session under Native Network Encryption, shows none. A
// MySQL COM_STMT_EXECUTE, a PostgreSQL Bind/Execute of a statement
// prepared earlier and a TDS RPC carry no text. Connections that
// switch to TLS from PostgreSQL (SSLRequest answered 'S'), MySQL (SSL
// request) or HTTP (101, CONNECT) are counted as unknown data from there.
// A client whose first bytes are lost is identified only if the server's
// bytes are recognised; the direction of a connection picked up
// mid-stream is the caller's choice and is not corrected. HTTP/2 and
// HTTP/0.9 are not framed. MySQL packets of 16 MiB - 1 bytes (continued
// packets) are counted as separate messages.
//
// # Ownership and concurrency
//
// Segment payloads are not retained after Add returns (held out-of-order
// bytes are copied). The Message and Transaction passed to a Handler are
// reused, their Text fields included: valid only during the call
// (Transaction.Clone makes a copy to keep). A Registry may be shared by many
// Conns but must not be changed while they run. A Conn is not safe for
// concurrent use; it never reads the clock (times are the segments').
package appproto
