package netlog

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// Name is what happened: the event's NL.EVNT.
type Name uint8

// Event names, one per critical point of a connection.
const (
	// SYN: a segment with SYN and without ACK (tshark: tcp.flags.syn==1
	// && tcp.flags.ack==0), retransmitted ones included.
	SYN Name = iota
	// SYNACK: a segment with SYN and ACK.
	SYNACK
	// HandshakeACK: the segment that completed tcpstate's handshake
	// (tcpstate.Handshake): the first ACK of the server's SYN/ACK
	// (acknowledging its sequence number plus one) from the SYN's sender
	// after a SYN and SYN/ACK that match, once per connection: the third
	// packet of the handshake (RFC 9293 section 3.5).
	HandshakeACK
	// RequestStart and RequestEnd: the segments that carried a
	// request's first and last bytes (package appproto's transactions).
	RequestStart
	RequestEnd
	// ResponseStart and ResponseEnd: the same for its response.
	ResponseStart
	ResponseEnd
	// Retransmission: a segment tcpstate labels a retransmission, fast
	// retransmission or spurious retransmission: the packets tshark
	// flags tcp.analysis.retransmission. Event.Label says which,
	// Event.Cause why it was sent.
	Retransmission
	// ZeroWindow: a segment advertising a zero receive window
	// (tcp.analysis.zero_window).
	ZeroWindow
	// RTO: the sender's retransmission timer expired (RFC 6298): a
	// retransmission whose cause tcpstate judges a timeout, logged just
	// before it; Event.Wait is the sender's silence before it.
	RTO
	// FIN and RST: a segment with FIN, and one with RST.
	FIN
	RST
	// Truncated ends a connection whose events beyond Config.MaxEvents
	// were dropped; Event.Dropped counts them.
	Truncated
	// NumNames is the number of names.
	NumNames
)

var nameText = [NumNames]string{
	"tcp.syn", "tcp.synack", "tcp.handshake.ack",
	"app.request.start", "app.request.end", "app.response.start", "app.response.end",
	"tcp.retransmission", "tcp.zero_window", "tcp.rto", "tcp.fin", "tcp.rst", "netlog.truncated",
}

// String returns the name as NL.EVNT gives it, e.g. "tcp.syn".
func (n Name) String() string {
	if n < NumNames {
		return nameText[n]
	}
	return "unknown"
}

// MarshalText makes a Name appear as its string in JSON.
func (n Name) MarshalText() ([]byte, error) {
	if n >= NumNames {
		return nil, fmt.Errorf("netlog: event name %d out of range", n)
	}
	return []byte(n.String()), nil
}

// UnmarshalText reads a Name from its string.
func (n *Name) UnmarshalText(b []byte) error {
	for i, s := range nameText {
		if s == string(b) {
			*n = Name(i)
			return nil
		}
	}
	return fmt.Errorf("netlog: unknown event %q", b)
}

// Level is the ULM importance of an event (the LVL field).
type Level uint8

// Levels used: Usage for the ordinary course of a connection, Warning
// for what slows or breaks it (retransmissions, timeouts, zero windows,
// resets, dropped events).
const (
	Usage Level = iota
	Warning
)

// String returns "Usage" or "Warning", as ULM writes them.
func (l Level) String() string {
	if l == Warning {
		return "Warning"
	}
	return "Usage"
}

// MarshalText makes a Level appear as its string in JSON.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a Level from its string.
func (l *Level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "Usage":
		*l = Usage
	case "Warning":
		*l = Warning
	default:
		return fmt.Errorf("netlog: unknown level %q", b)
	}
	return nil
}

// Component is a place along a connection's path: the lifeline
// figure's rows.
type Component uint8

// Components, in the order a request crosses them.
const (
	Client Component = iota
	CapturePoint
	Server
)

// String returns "client", "capture" or "server".
func (c Component) String() string {
	switch c {
	case Client:
		return "client"
	case CapturePoint:
		return "capture"
	}
	return "server"
}

// MarshalText makes a Component appear as its string in JSON.
func (c Component) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a Component from its string.
func (c *Component) UnmarshalText(b []byte) error {
	for _, x := range []Component{Client, CapturePoint, Server} {
		if x.String() == string(b) {
			*c = x
			return nil
		}
	}
	return fmt.Errorf("netlog: unknown component %q", b)
}

// Legs are the one-way times between the capture point and each end of
// a connection (JSON and ULM: milliseconds), from tcpstate's handshake split: half of
// SYN→SYN/ACK (capture point to server and back) and half of SYN/ACK→ACK
// (to the client and back). They place the far ends' events on a
// lifeline: a segment a side sent was sent one leg before the capture
// saw it, and arrived at the other side that side's leg after.
type Legs struct {
	Client time.Duration `json:"client_ms"`
	Server time.Duration `json:"server_ms"`
}

// MarshalJSON writes the legs in milliseconds.
func (l Legs) MarshalJSON() ([]byte, error) { return units.MarshalJSON(l) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (l Legs) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, l) }

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Legs) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, l) }

// Event is one critical point of a connection, seen at the capture
// point. Fields that do not apply to the event are zero (and left out of
// the JSON and ULM forms).
type Event struct {
	// Time is when the capture saw the event (the DATE field).
	Time time.Time `json:"time"`
	// Host is the address of the side that acted (the HOST field): the
	// sender of the segment; the client for a request, the server for a
	// response.
	Host  netip.Addr `json:"host"`
	Level Level      `json:"level"`
	Name  Name       `json:"event"`
	// Conn is flow's connection ID; Component is Client or Server, the
	// side that acted.
	Conn      int            `json:"conn"`
	Component Component      `json:"component"`
	Src       netip.AddrPort `json:"src"`
	Dst       netip.AddrPort `json:"dst"`
	// Packet is the capture index of the segment (for a request or
	// response, of its first or last segment when appproto gives it).
	Packet uint64 `json:"packet,omitempty"`
	// Len is the segment's payload length.
	Len int `json:"len,omitempty"`
	// Label, Cause and Orig describe a retransmission: tcpstate's label
	// ("retransmission", "fast_retransmission" or
	// "spurious_retransmission"), its cause ("fast", "tlp", "timeout",
	// "unknown") and the packet the label refers to (the first copy of
	// the bytes for a retransmission, the acknowledged packet for a
	// spurious one, the ACK the duplicate ACKs repeat for a fast one).
	Label string `json:"label,omitempty"`
	Cause string `json:"cause,omitempty"`
	Orig  uint64 `json:"orig,omitempty"`
	// Wait is, for an RTO, the time since the sender's previous
	// segment with data, SYN or FIN.
	Wait time.Duration `json:"wait_ms,omitempty"`
	// Txn, Proto, Kind, Verb, Bytes and Status describe a request or
	// response: the transaction's ID, the protocol, the kind and verb of
	// the request's first message (appproto.Transaction's), the request's
	// or response's bytes and the response's status.
	Txn    int    `json:"txn,omitempty"`
	Proto  string `json:"proto,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Verb   string `json:"verb,omitempty"`
	Bytes  int64  `json:"bytes,omitempty"`
	Status int    `json:"status,omitempty"`
	// Dropped counts the events a Truncated event stands for.
	Dropped uint64 `json:"dropped,omitempty"`
	// Legs are the connection's legs, when its handshake was seen.
	Legs *Legs `json:"legs,omitempty"`
}

// MarshalJSON writes the event with its durations in milliseconds.
func (e Event) MarshalJSON() ([]byte, error) { return units.MarshalJSON(e) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (e Event) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, e) }

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, e) }

// Sent returns when the event's sender acted, by the legs: the capture
// time less the sender's leg; ok is false without legs.
func (e *Event) Sent() (at time.Time, ok bool) {
	if e.Legs == nil {
		return time.Time{}, false
	}
	leg := e.Legs.Client
	if e.Component == Server {
		leg = e.Legs.Server
	}
	return e.Time.Add(-leg), true
}

// Arrived returns when what the event's sender sent reached the other
// side, by the legs; ok is false without legs.
func (e *Event) Arrived() (at time.Time, ok bool) {
	if e.Legs == nil {
		return time.Time{}, false
	}
	leg := e.Legs.Server
	if e.Component == Server {
		leg = e.Legs.Client
	}
	return e.Time.Add(leg), true
}
