package appproto

import (
	"time"
	"unicode/utf8"

	"github.com/netecology/netecology/flow/units"
)

// Defaults for a zero Config.
const (
	// DefaultMaxHeld is the default bound on out-of-order payload bytes
	// held per direction while waiting for the bytes before them.
	DefaultMaxHeld = 256 << 10
	// DefaultMaxHeader is the default bound on the bytes a parser may need
	// to see at once to find a frame (an HTTP header block, a partial
	// binary header).
	DefaultMaxHeader = 64 << 10
	// DefaultMaxMessage is the default bound on the length a binary
	// protocol's frame header may declare.
	DefaultMaxMessage = 64 << 20
	// DefaultMaxPending is the default bound on requests awaiting their
	// response on one connection (pipelining).
	DefaultMaxPending = 256
)

// MaxText bounds, in bytes, each text a message or transaction carries
// (Query, Host, Path): longer text is cut at a UTF-8 boundary at most
// MaxText bytes in, and TextTruncated is set.
const MaxText = 256

// textWindow is how many bytes of a request's start a parser waits for
// (when the request is that long) to see its text whole: MaxText bytes of
// text behind the fields before it (a TNS call's, a TDS batch's UTF-16).
// Config.MaxHeader is never below it.
const textWindow = 1024

// Text is text carried by a message (a statement, a host name, a
// request target), written in JSON as a string (invalid UTF-8 replaced by
// U+FFFD). The Text of a Message or Transaction given to a Handler shares
// the Conn's buffers: it is valid only during the call (String, or
// Transaction.Clone, copies it).
type Text []byte

// MarshalText returns t itself: JSON shows it as a string.
func (t Text) MarshalText() ([]byte, error) { return t, nil }

// String returns a copy of t as a string.
func (t Text) String() string { return string(t) }

// textBuf holds one bounded text: a statement, a host or a path. Its
// storage is allocated at the first text it holds (once per connection
// and kind of text, not per message), so connections that carry none
// cost no more than the slice header.
type textBuf struct {
	b []byte
}

// set replaces the text with p, cut to MaxText bytes at a UTF-8
// boundary; it reports whether p was cut.
func (t *textBuf) set(p []byte) bool {
	t.b = t.b[:0]
	return t.add(p)
}

// add appends p, cut to what fits at a UTF-8 boundary; it reports
// whether p was cut.
func (t *textBuf) add(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	if t.b == nil {
		t.b = make([]byte, 0, MaxText)
	}
	room := MaxText - len(t.b)
	if len(p) <= room {
		t.b = append(t.b, p...)
		return false
	}
	k := room
	// Back off to the start of a rune so that the cut keeps valid UTF-8.
	for i := 0; i < utf8.UTFMax && k > 0 && k < len(p) && !utf8.RuneStart(p[k]); i++ {
		k--
	}
	t.b = append(t.b, p[:k]...)
	return true
}

// reset empties the text, keeping its storage.
func (t *textBuf) reset() { t.b = t.b[:0] }

// text returns the text, nil when empty.
func (t *textBuf) text() Text {
	if len(t.b) == 0 {
		return nil
	}
	return Text(t.b)
}

// Config bounds the application analysis of connections. Its zero value is
// usable. It holds no callbacks: each Conn's results go to the Handler
// given to NewConn, so one Config may be shared by every connection.
type Config struct {
	// Registry holds the protocols tried on each connection. Nil means a
	// DefaultRegistry, made once per NewConn call: share one Registry
	// across connections to avoid that.
	Registry *Registry
	// MaxHeld bounds the out-of-order payload bytes held per direction.
	// When more would be held, the missing bytes before the earliest held
	// segment are declared a gap. Zero means DefaultMaxHeld.
	MaxHeld int
	// MaxHeader bounds the bytes buffered per direction while a parser
	// needs more to find a frame; beyond it the direction has a framing
	// error. Zero means DefaultMaxHeader; a value below 1 KiB counts as
	// 1 KiB (what a parser may wait for to see a statement whole).
	MaxHeader int
	// MaxMessage bounds the length a binary frame header may declare
	// (larger is a framing error, never an allocation). Zero means
	// DefaultMaxMessage.
	MaxMessage int64
	// MaxPending bounds the requests awaiting a response, each kept with
	// its timing. Requests beyond it are counted and their responses
	// counted in order, but they are not reported as transactions. Zero
	// means DefaultMaxPending.
	MaxPending int
}

func (c *Config) maxHeld() int {
	if c.MaxHeld <= 0 {
		return DefaultMaxHeld
	}
	return c.MaxHeld
}

func (c *Config) maxHeader() int {
	if c.MaxHeader <= 0 {
		return DefaultMaxHeader
	}
	return max(c.MaxHeader, textWindow)
}

func (c *Config) maxMessage() int64 {
	if c.MaxMessage <= 0 {
		return DefaultMaxMessage
	}
	return c.MaxMessage
}

func (c *Config) maxPending() int {
	if c.MaxPending <= 0 {
		return DefaultMaxPending
	}
	return c.MaxPending
}

// Message is one application message: a TNS packet, an HTTP request or
// response (headers and body), a PostgreSQL or MySQL packet, a TDS
// message, a TLS record, a RESP value, or, for unknown data, a run of
// bytes in one direction ended by PSH or by data in the other direction.
type Message struct {
	Dir    Dir    `json:"dir"`
	Kind   string `json:"kind"`
	Verb   string `json:"verb,omitempty"`
	Role   Role   `json:"role"`
	Status int    `json:"status,omitempty"`
	// Unknown is set for data not framed by the connection's protocol.
	Unknown bool `json:"unknown,omitempty"`
	// First and Last are the capture times of the segments that carried
	// the message's first and last bytes.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Bytes counts the message's bytes, including bytes lost in gaps
	// inside it; Segments the TCP segments that carried its bytes.
	Bytes    int64 `json:"bytes"`
	Segments int   `json:"segments"`
	// FirstPacket and LastPacket are the capture indexes of those segments.
	FirstPacket uint64 `json:"first_packet"`
	LastPacket  uint64 `json:"last_packet"`
	// Query, Host and Path are the message's text (see Transaction),
	// TextTruncated set when one was cut at MaxText bytes. They are
	// valid only during the Handler's call.
	Query         Text `json:"query,omitempty"`
	Host          Text `json:"host,omitempty"`
	Path          Text `json:"path,omitempty"`
	TextTruncated bool `json:"text_truncated,omitempty"`
	// Incomplete is set when bytes of the message are missing: cut by
	// the end of the capture, or lost in a gap. MissingBytes counts those
	// known to be missing (0 when unknown).
	Incomplete   bool  `json:"incomplete,omitempty"`
	MissingBytes int64 `json:"missing_bytes,omitempty"`

	// merged counts the messages that follow this one in a run of plain
	// responses reported as one (see framing.coalesce): the pairing
	// counts 1+merged messages.
	merged int
}

// Transaction is a request paired with its response.
type Transaction struct {
	// ID numbers the connection's transactions from 1, in completion order.
	ID int `json:"id"`
	// Proto is the connection's protocol, as Conn.Protocol reports it.
	Proto string `json:"proto"`
	// Kind and Verb are those of the request's first message.
	Kind string `json:"kind"`
	Verb string `json:"verb,omitempty"`
	// Query is the request's statement, as far as the request carries it
	// in clear: the SQL text of a PostgreSQL Query or Parse (the texts of
	// several Parse messages joined by "; "), a MySQL COM_QUERY or
	// COM_STMT_PREPARE, a TDS SQL batch (converted from UTF-16LE), a TNS
	// execution call (OALL7/OALL8 and the bundled execution call), and
	// the command name of a Redis command. Host and Path are an HTTP
	// request's Host header and request target (the method is Verb, the
	// status Status). Each holds at most MaxText bytes; TextTruncated is
	// set when one was cut. They share the Conn's buffers: valid only
	// during the Handler's call (Clone copies them).
	Query         Text `json:"query,omitempty"`
	Host          Text `json:"host,omitempty"`
	Path          Text `json:"path,omitempty"`
	TextTruncated bool `json:"text_truncated,omitempty"`
	// Status is the response's status code, when the protocol has one.
	Status int `json:"status,omitempty"`
	// Error is set when a response message reported an error.
	Error bool `json:"error,omitempty"`
	// RequestFirst and RequestLast bound the request's bytes in time;
	// ResponseFirst and ResponseLast the response's.
	RequestFirst  time.Time `json:"request_first"`
	RequestLast   time.Time `json:"request_last"`
	ResponseFirst time.Time `json:"response_first"`
	ResponseLast  time.Time `json:"response_last"`
	// RequestBytes, RequestSegments and RequestMessages measure the
	// request; the Response fields the response.
	RequestBytes     int64 `json:"request_bytes"`
	RequestSegments  int   `json:"request_segments"`
	RequestMessages  int   `json:"request_messages"`
	ResponseBytes    int64 `json:"response_bytes"`
	ResponseSegments int   `json:"response_segments"`
	ResponseMessages int   `json:"response_messages"`
	// ServerTime is ResponseFirst - RequestLast: the time the server
	// (and the network, one round trip) took to start answering.
	ServerTime time.Duration `json:"server_time_s"`
	// TransferTime is ResponseLast - ResponseFirst.
	TransferTime time.Duration `json:"transfer_time_s"`
	// Duration is ResponseLast - RequestFirst.
	Duration time.Duration `json:"duration_s"`
	// Turns counts the client turns (client data after server data) from
	// the request's first message to the response's last: 1 for a plain
	// request and response, more when the exchange goes back and forth.
	Turns int `json:"turns"`
	// FirstPacket and LastPacket are the capture indexes of the request's
	// first and the response's last segment.
	FirstPacket uint64 `json:"first_packet"`
	LastPacket  uint64 `json:"last_packet"`
	// Incomplete is set when bytes of the request or the response are
	// missing: the response was cut by the end of the capture (a body
	// shorter than its Content-Length, a result without its end), or
	// bytes were lost in a gap. MissingBytes counts the bytes known to be
	// missing (the rest of a frame whose length was declared, the bytes
	// of a gap); 0 when it is not known.
	Incomplete   bool  `json:"incomplete,omitempty"`
	MissingBytes int64 `json:"missing_bytes,omitempty"`
}

// MarshalJSON writes the transaction with its durations in seconds.
func (t Transaction) MarshalJSON() ([]byte, error) { return units.MarshalJSON(t) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (t Transaction) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, t) }

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Transaction) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, t) }

// Clone returns a copy of t that owns its Query, Host and Path: one a
// Handler may keep.
func (t *Transaction) Clone() Transaction {
	c := *t
	c.Query = cloneText(t.Query)
	c.Host = cloneText(t.Host)
	c.Path = cloneText(t.Path)
	return c
}

func cloneText(t Text) Text {
	if t == nil {
		return nil
	}
	return append(Text(nil), t...)
}

// Stats are the per-connection application counters. They stay bounded
// however long the connection: transactions are delivered one by one
// to the Conn's Handler.
type Stats struct {
	MessagesC2S uint64 `json:"messages_c2s"`
	MessagesS2C uint64 `json:"messages_s2c"`
	// Requests counts requests opened (an HTTP request, a PostgreSQL Query
	// or Parse..Sync group, a MySQL command, a run of TNS Data packets);
	// Responses counts responses completed, HTTP interim ones included.
	Requests  uint64 `json:"requests"`
	Responses uint64 `json:"responses"`
	// Transactions counts requests paired with a response.
	Transactions uint64 `json:"transactions"`
	// Unanswered counts requests left without a response.
	Unanswered uint64 `json:"unanswered"`
	// Incomplete counts the transactions reported with bytes missing
	// (Transaction.Incomplete): cut by the end of the capture or a gap.
	Incomplete uint64 `json:"incomplete,omitempty"`
	// Turns counts client application turns: client data that follows
	// server data, or is the connection's first data.
	Turns uint64 `json:"turns"`
	// ServerTime is the sum of the transactions' server times, ServerTimeMax
	// the largest, TransactionTime the sum of their durations.
	ServerTime      time.Duration `json:"server_time_s"`
	ServerTimeMax   time.Duration `json:"server_time_max_s"`
	TransactionTime time.Duration `json:"transaction_time_s"`
	// BytesC2S and BytesS2C count the application bytes delivered in order.
	BytesC2S int64 `json:"bytes_c2s"`
	BytesS2C int64 `json:"bytes_s2c"`
	// UnknownBytes counts bytes not framed by the protocol (after a framing
	// error or a gap that could not be resynchronised).
	UnknownBytes int64 `json:"unknown_bytes"`
	// Gaps counts holes in the byte streams (capture loss, snap length),
	// GapBytes their size.
	Gaps     uint64 `json:"gaps"`
	GapBytes int64  `json:"gap_bytes"`
	// Resyncs counts frame boundaries found again after a gap.
	Resyncs uint64 `json:"resyncs"`
	// FramingErrors counts directions whose framing failed; FramingError
	// is the first failure.
	FramingErrors uint64 `json:"framing_errors"`
	FramingError  string `json:"framing_error,omitempty"`
	// SDU and TDU are the session and transport data unit sizes a TNS
	// connection negotiated: the Accept's, or the Connect's when no
	// Accept was seen (0 for other protocols). SQLNet holds both and how
	// TNS packets map onto TCP segments.
	SDU    int         `json:"sdu,omitempty"`
	TDU    int         `json:"tdu,omitempty"`
	SQLNet SQLNetStats `json:"sqlnet,omitzero"`
}

// MarshalJSON writes the counters with its durations in seconds.
func (s Stats) MarshalJSON() ([]byte, error) { return units.MarshalJSON(s) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (s Stats) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, s) }

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Stats) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, s) }

// SQLNetStats are the SQL*Net (TNS) figures of a connection: the sizes the
// Connect and Accept packets announced, and the overhead of TNS framing
// (Meek et al., "Wide Area Network Ecology": SQL*Net moved about twice
// the bytes HTTP did for the same rows).
type SQLNetStats struct {
	// Version is the protocol version the Accept chose.
	Version int `json:"version,omitempty"`
	// ConnectSDU and ConnectTDU are the client's proposal, AcceptSDU and
	// AcceptTDU the server's answer (the 4-byte sizes of version 315 and
	// later when present, else the 2-byte ones).
	ConnectSDU int `json:"connect_sdu,omitempty"`
	ConnectTDU int `json:"connect_tdu,omitempty"`
	AcceptSDU  int `json:"accept_sdu,omitempty"`
	AcceptTDU  int `json:"accept_tdu,omitempty"`
	// PathMSS is the smaller of the MSS options of the two SYNs (0 when
	// the handshake was not seen). SDUForMSS is the SDU that would map
	// TNS packets one-to-one onto the path's segments: a TNS packet holds
	// at most SDU bytes, its 8-byte header included, so an SDU of the MSS
	// makes each full packet fill exactly one segment.
	PathMSS   int `json:"path_mss,omitempty"`
	SDUForMSS int `json:"sdu_for_mss,omitempty"`
	// C2S and S2C are the figures of each direction.
	C2S SQLNetDir `json:"c2s"`
	S2C SQLNetDir `json:"s2c"`
}

// SQLNetDir are the TNS figures of one direction.
type SQLNetDir struct {
	// Packets counts TNS packets, DataPackets and MarkerPackets those of
	// type Data and Marker; MaxPacket is the longest (header included).
	Packets       uint64 `json:"packets"`
	DataPackets   uint64 `json:"data_packets"`
	MarkerPackets uint64 `json:"marker_packets"`
	MaxPacket     int    `json:"max_packet"`
	// Segments counts the TCP segments that carried the direction's
	// bytes; PacketsPerSegment is Packets / Segments, SegmentsPerPacket
	// the mean number of segments a packet's bytes spanned.
	Segments          uint64  `json:"segments"`
	PacketsPerSegment float64 `json:"packets_per_segment"`
	SegmentsPerPacket float64 `json:"segments_per_packet"`
	// Bytes counts the bytes of TNS packets: HeaderBytes their 8-byte
	// headers, MarkerBytes the bodies of Marker packets, DataBytes the
	// bodies of Data packets (their 2-byte data flags included). Overhead
	// is (HeaderBytes + MarkerBytes) / Bytes.
	Bytes       int64   `json:"bytes"`
	HeaderBytes int64   `json:"header_bytes"`
	MarkerBytes int64   `json:"marker_bytes"`
	DataBytes   int64   `json:"data_bytes"`
	Overhead    float64 `json:"overhead"`
}

// connCounts are what a connection counted for a parser's own figures
// (statsAdder).
type connCounts struct {
	segments    [2]uint64 // segments that delivered in-order bytes
	msgSegments [2]uint64 // sum of the segments of the framed messages
	mss         [2]uint16 // MSS option of each direction's SYN, 0 none
}

// pathMSS returns the smaller MSS announced, 0 when none was.
func (cc *connCounts) pathMSS() int {
	a, b := int(cc.mss[0]), int(cc.mss[1])
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// statsAdder is implemented by parsers that add protocol figures to the
// connection's Stats (TNS: SDU, TDU, SQLNet), given what the connection
// counted.
type statsAdder interface {
	addStats(st Stats, cc connCounts) Stats
}
