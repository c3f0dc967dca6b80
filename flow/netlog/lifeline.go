package netlog

import "time"

// LifePoint is one point of a lifeline: a component and when the object
// was there. Components number a lifeline figure's rows as package plot
// does (RowClient, RowCapture, RowServer).
type LifePoint struct {
	Row Component
	At  time.Time
}

// Lifeline is the path of one object through a connection's components.
type Lifeline struct {
	// Kind is "handshake" or "transaction".
	Kind   string
	Points []LifePoint
}

// Lines is a connection's lifelines. It implements plot.Lifeliner.
type Lines []Lifeline

// Len returns the number of lifelines.
func (ls Lines) Len() int { return len(ls) }

// Lifeline returns lifeline i's kind and number of points.
func (ls Lines) Lifeline(i int) (string, int) { return ls[i].Kind, len(ls[i].Points) }

// LifelinePoint returns point j of lifeline i.
func (ls Lines) LifelinePoint(i, j int) (int, time.Time) {
	p := ls[i].Points[j]
	return int(p.Row), p.At
}

// Start returns the earliest point of the lines (zero if none): a
// figure's time origin, which the client's leg may put before the
// capture's first packet.
func (ls Lines) Start() time.Time {
	var t time.Time
	for _, l := range ls {
		for _, p := range l.Points {
			if t.IsZero() || p.At.Before(t) {
				t = p.At
			}
		}
	}
	return t
}

// Mark is a single event placed on a lifeline figure's capture-point
// row, where it was seen.
type Mark struct {
	Name Name
	At   time.Time
}

// Marks is a list of marks. It implements plot.LifeMarker.
type Marks []Mark

// Len returns the number of marks.
func (ms Marks) Len() int { return len(ms) }

// LifeMark returns mark i: its event name, the capture-point row and its
// time.
func (ms Marks) LifeMark(i int) (string, int, time.Time) {
	return ms[i].Name.String(), int(CapturePoint), ms[i].At
}

// Lifelines turns one connection's events (a Handler's block) into
// lifelines and marks, NetLogger-style:
//
//   - the handshake: the SYN from the client through the capture point to
//     the server, the SYN/ACK back, the handshake ACK to the server again;
//   - each transaction: its request leaving the client, passing the
//     capture point from its first to its last byte, reaching the server;
//     the server's time; the response leaving the server, passing the
//     capture point from its first to its last byte, reaching the client.
//
// Far ends' points are placed by the events' legs (Event.Sent,
// Event.Arrived); without legs a line keeps to the capture point's row.
// Retransmissions, RTOs, zero windows, FINs and RSTs become marks on the
// capture point's row. The handshake line takes the last SYN before the
// first SYN/ACK (the one it answers), that SYN/ACK and the handshake ACK;
// a connection without all three has none.
func Lifelines(events []Event) (Lines, Marks) {
	var lines Lines
	var marks Marks
	var hs [3]*Event // SYN, SYN/ACK, handshake ACK
	txns := map[int]*[4]*Event{}
	var order []int
	for i := range events {
		e := &events[i]
		switch e.Name {
		case SYN:
			if hs[1] == nil {
				hs[0] = e
			}
		case SYNACK:
			if hs[0] != nil && hs[1] == nil {
				hs[1] = e
			}
		case HandshakeACK:
			if hs[1] != nil && hs[2] == nil {
				hs[2] = e
			}
		case RequestStart, RequestEnd, ResponseStart, ResponseEnd:
			t := txns[e.Txn]
			if t == nil {
				t = &[4]*Event{}
				txns[e.Txn] = t
				order = append(order, e.Txn)
			}
			t[e.Name-RequestStart] = e
		case Retransmission, RTO, ZeroWindow, FIN, RST:
			marks = append(marks, Mark{e.Name, e.Time})
		}
	}
	if hs[2] != nil {
		var pts []LifePoint
		for _, e := range hs {
			pts = append(pts, crossing(e, e.Time, e.Time)...)
		}
		lines = append(lines, Lifeline{Kind: "handshake", Points: pts})
	}
	for _, id := range order {
		t := txns[id]
		if t[0] == nil || t[1] == nil || t[2] == nil || t[3] == nil {
			continue
		}
		pts := crossing(t[0], t[0].Time, t[1].Time)
		pts = append(pts, crossing(t[2], t[2].Time, t[3].Time)...)
		lines = append(lines, Lifeline{Kind: "transaction", Points: pts})
	}
	return lines, marks
}

// crossing returns the points of what e's sender sent from first to last
// (capture times): leaving the sender, passing the capture point from
// first to last, reaching the other side. Without legs only the capture
// point's points.
func crossing(e *Event, first, last time.Time) []LifePoint {
	from, to := Client, Server
	if e.Component == Server {
		from, to = to, from
	}
	pts := make([]LifePoint, 0, 4)
	sent, ok := e.Sent()
	if ok {
		pts = append(pts, LifePoint{from, sent.Add(first.Sub(e.Time))})
	}
	pts = append(pts, LifePoint{CapturePoint, first})
	if !last.Equal(first) {
		pts = append(pts, LifePoint{CapturePoint, last})
	}
	if arr, ok := e.Arrived(); ok {
		pts = append(pts, LifePoint{to, arr.Add(last.Sub(e.Time))})
	}
	return pts
}
