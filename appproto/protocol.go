package appproto

import "github.com/netecology/netecology/tcpstate"

// Dir is the direction of application bytes: tcpstate.ClientToServer or
// tcpstate.ServerToClient.
type Dir = tcpstate.Dir

// Role says what part an application message plays in request/response
// pairing. A Parser sets it on the frame that starts a message; the Conn
// applies it (see the package documentation for the pairing rules).
type Role uint16

// Role bits.
const (
	// Request: a client message that opens a request, or joins the one
	// being sent.
	Request Role = 1 << iota
	// RequestEnd: the request is complete once this message ends.
	RequestEnd
	// NoResponse: the request expects no response (a quit command); it is
	// counted as a request but not as a transaction.
	NoResponse
	// EndsPrevious: opening this request completes the transaction whose
	// response is being received (turn-based protocols such as TNS, whose
	// responses carry no end marker the framer can see).
	EndsPrevious
	// Response: a server message that is part of the response to the
	// oldest outstanding request.
	Response
	// ResponseEnd: the response is complete once this message ends.
	ResponseEnd
	// Interim: an interim response (HTTP 1xx): counted as a response but
	// the transaction goes on.
	Interim
	// Error: the message reports an error (PostgreSQL ErrorResponse, MySQL
	// ERR packet, HTTP status 5xx); it marks its transaction.
	Error
)

// Has reports whether every bit of r2 is set in r.
func (r Role) Has(r2 Role) bool { return r&r2 == r2 }

// Frame is what a Parser's Split found at the start of the bytes it was
// given: a piece of one direction's stream, Len bytes long. A message is a
// run of frames from one with Start to one with End (a frame may be both).
type Frame struct {
	// Len is the number of bytes in the frame. It may exceed the bytes
	// given to Split: the Conn then skips the rest as it arrives, without
	// buffering it. Zero means Split needs more bytes to decide.
	Len int64
	// Start is set when the frame begins a message; End when it ends one.
	Start, End bool
	// Kind names the message (set with Start): "Data", "Query", "GET",
	// "COM_QUERY"... It must not refer to the bytes given to Split (use
	// constant strings): it is kept after Split returns.
	Kind string
	// Verb is, for a request, its first SQL keyword or HTTP method when
	// known ("SELECT", "FETCH", "GET"); a constant string, like Kind.
	Verb string
	// Role places the message in request/response pairing (set with Start).
	Role Role
	// Status is a protocol status code carried by a response, when there is
	// one (the HTTP status code; the MySQL error code).
	Status int
	// Unframe, set on a frame that ends a message, says the rest of both
	// directions is no longer in this protocol's framing (a protocol
	// upgrade, a switch to TLS): it is counted as unknown data.
	Unframe bool
	// Text, when not nil, is text the frame carries for its message. It
	// may point into the parser, and its slices into the bytes given to
	// Split: the Conn copies what it keeps before calling Split again.
	Text *FrameText
}

// FrameText is the text a frame carries for its message (see
// Transaction.Query): a statement or command name, an HTTP request's Host
// header and target. The first frame of a message that carries a text
// sets it; the Conn keeps at most MaxText bytes of each.
type FrameText struct {
	Query, Host, Path []byte
	// QueryCut says the statement goes on beyond Query (the rest of it
	// was not given to Split).
	QueryCut bool
}

// LenToEnd, as a Frame's Len, says the frame runs to the end of the
// connection (an HTTP body delimited by the server's close): it is
// complete if the capture holds the sender's FIN, cut short otherwise.
const LenToEnd int64 = 1 << 62

// Parser frames the two directions of one connection. It is created by a
// Protocol for each connection and may keep state across calls and
// directions (a negotiated version, the method of a pending request).
type Parser interface {
	// Split examines data, bytes of direction d that begin at a frame
	// boundary, and returns the first frame. It returns a Frame with Len 0
	// when it needs more bytes (it is called again with more), and an error
	// when the bytes cannot be framed: the rest of that direction is then
	// unknown. Split must not retain data, must check every read against
	// len(data), and must not allocate memory sized by a length field.
	Split(d Dir, data []byte) (Frame, error)
}

// Resyncer is implemented by parsers that can find a frame boundary again
// after a gap in the stream (lost or truncated bytes).
type Resyncer interface {
	// Resync returns the offset in data of a plausible frame start, or -1
	// when there is none in data.
	Resync(d Dir, data []byte) int
}

// Truncator is implemented by parsers that can recognise a message whose
// header a gap cut short (a snap length keeps only the first bytes of each
// packet).
type Truncator interface {
	// SplitTruncated examines data, the start of a frame that Split could
	// not complete before a gap, and returns the message it begins (Start,
	// Kind, Verb, Role, Status; Len and End are ignored: the message ends
	// at the gap) or ok=false when data does not say.
	SplitTruncated(d Dir, data []byte) (f Frame, ok bool)
}

// Protocol describes one application protocol to the Conn: how to
// recognise it and how to frame it.
type Protocol interface {
	// Name is the protocol's short name as reported ("tns", "http").
	Name() string
	// Ports lists the server ports the protocol usually uses; a match adds
	// to the confidence of a payload match and, alone, gives
	// ConfidencePort. Register copies them into the Registry's port table
	// (Registry.ServerPort).
	Ports() []uint16
	// Identify scores the first bytes a direction sent: 0 means not this
	// protocol, up to 1 for certain. more reports that a decision needs
	// more bytes (data is then a prefix of what may match).
	Identify(d Dir, data []byte) (score float64, more bool)
	// NewParser returns a parser for one connection. maxMessage bounds the
	// length a frame header may declare (Config.MaxMessage); a binary
	// protocol treats a larger length as a framing error.
	NewParser(maxMessage int64) Parser
}

// Confidence levels reported with an identification. A payload match is
// scored by the protocol; these are the fixed points.
const (
	// ConfidenceNone: no protocol identified ("unknown").
	ConfidenceNone = 0.0
	// ConfidencePort: identified by the server port alone.
	ConfidencePort = 0.3
	// ConfidenceConfirmed: a payload match, and both directions framed
	// without error.
	ConfidenceConfirmed = 1.0
)

// weakMatch is the score of payload that fits a protocol loosely: below
// the 0.5 threshold alone, above it with the server port's 0.05.
const weakMatch = 0.45

// roleNames name the Role bits, in bit order.
var roleNames = [...]string{"request", "request_end", "no_response", "ends_previous", "response", "response_end", "interim", "error"}

// String returns the set bits' names joined by "|", e.g.
// "request|request_end"; "" for none.
func (r Role) String() string {
	var b []byte
	for i, n := range roleNames {
		if r&(1<<i) != 0 {
			if len(b) > 0 {
				b = append(b, '|')
			}
			b = append(b, n...)
		}
	}
	return string(b)
}

// MarshalText makes a Role appear by name in JSON.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
