package tcpstate

import "time"

// State summarises how a connection began and ended, as far as the capture
// shows.
type State uint8

const (
	// StateOpen: the connection was still open when the capture (or its
	// tracking) ended.
	StateOpen State = iota
	// StateComplete: both directions sent a FIN and no RST was seen.
	StateComplete
	// StateReset: a RST was seen in either direction.
	StateReset
	// StateMidstream: the capture holds no SYN (the connection was picked
	// up after it opened) and it neither completed nor was reset.
	StateMidstream
)

var stateNames = [...]string{"open", "complete", "reset", "midstream"}

// String returns the state's name as written in reports: "open",
// "complete", "reset" or "midstream".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// MarshalText makes a State appear by name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// DirStats counts one direction of a connection.
type DirStats struct {
	Packets      uint64 `json:"packets"`
	WireBytes    uint64 `json:"wire_bytes"`    // original frame lengths
	PayloadBytes uint64 `json:"payload_bytes"` // TCP payload, retransmissions included
	// UniqueBytes is the payload sequence space covered, each byte once:
	// retransmitted bytes are not counted twice.
	UniqueBytes uint64 `json:"unique_bytes"`
	SYN         uint64 `json:"syn"`
	FIN         uint64 `json:"fin"`
	RST         uint64 `json:"rst"`
	// Truncated counts segments whose payload the capture cut short.
	Truncated uint64 `json:"truncated"`
}

// HandshakeOptions are the options a side announced in its SYN (or
// SYN/ACK), the ones that shape the rest of the connection (RFC 9293,
// RFC 7323, RFC 2018). Zero values mean the option was not seen.
type HandshakeOptions struct {
	MSS           uint16 `json:"mss,omitempty"`
	WScale        int8   `json:"wscale"` // -1: no window scale option seen
	SACKPermitted bool   `json:"sack_permitted"`
	Timestamps    bool   `json:"timestamps"`
}

// Conn accumulates the state and counters of one TCP connection, fed its
// segments in capture order with Add. It knows nothing of capture formats.
// A Conn is not safe for concurrent use.
type Conn struct {
	// Stats holds the counters of each direction, indexed by Dir.
	Stats [2]DirStats
	// Options holds each side's handshake options, indexed by the
	// direction that side sends in.
	Options [2]HandshakeOptions
	// SynSeen is set when a segment with SYN was seen, in either direction.
	SynSeen bool
	// First and Last are the timestamps of the first and last segments.
	First, Last time.Time

	cov    [2]coverage
	isn    [2]Seq
	hasISN [2]bool
}

// NewConn returns an empty connection.
func NewConn() *Conn {
	c := &Conn{}
	c.Options[0].WScale, c.Options[1].WScale = -1, -1
	return c
}

// Add feeds one segment travelling in direction d.
func (c *Conn) Add(d Dir, s *Segment) {
	st := &c.Stats[d]
	if st.Packets == 0 && c.Stats[d.Reverse()].Packets == 0 {
		c.First = s.Time
	}
	if s.Time.After(c.Last) {
		c.Last = s.Time
	}
	st.Packets++
	st.WireBytes += uint64(s.WireLen)
	st.PayloadBytes += uint64(s.Len)
	if s.Truncated() {
		st.Truncated++
	}
	if s.Flags.Has(RST) {
		st.RST++
	}
	if s.Flags.Has(FIN) {
		st.FIN++
	}
	first := s.Seq
	if s.Flags.Has(SYN) {
		st.SYN++
		c.SynSeen = true
		c.isn[d], c.hasISN[d] = s.Seq, true
		first = first.Add(1)
		o := &c.Options[d]
		if s.Opts.HasMSS {
			o.MSS = s.Opts.MSS
		}
		if s.Opts.HasWScale {
			o.WScale = int8(min(s.Opts.WScale, 127))
		}
		o.SACKPermitted = o.SACKPermitted || s.Opts.SACKPermitted
		o.Timestamps = o.Timestamps || s.Opts.HasTimestamps
	}
	// A RST's payload is diagnostic text, not stream data (RFC 9293 3.5.3).
	if s.Len > 0 && !s.Flags.Has(RST) {
		st.UniqueBytes += c.cov[d].add(first, Size(s.Len))
	}
}

// ISN returns the initial sequence number direction d sent in its SYN.
func (c *Conn) ISN(d Dir) (Seq, bool) { return c.isn[d], c.hasISN[d] }

// State returns how the connection stands after the segments fed so far.
func (c *Conn) State() State {
	switch {
	case c.Stats[0].RST+c.Stats[1].RST > 0:
		return StateReset
	case c.Stats[0].FIN > 0 && c.Stats[1].FIN > 0:
		return StateComplete
	case !c.SynSeen:
		return StateMidstream
	}
	return StateOpen
}

// Closed reports whether the connection has ended: a RST was seen, or both
// directions sent a FIN.
func (c *Conn) Closed() bool {
	s := c.State()
	return s == StateReset || s == StateComplete
}
