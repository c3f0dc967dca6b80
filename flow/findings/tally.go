package findings

import (
	"fmt"
	"time"

	"github.com/netecology/netecology/flow/explain"
)

// Tally sums up explanations as they come, in bounded memory: what
// explain.Summarize, Capture and Compare need of a group of connections
// (a capture, a protocol, the connections a table leaves out), without
// keeping the connections, so that a tool can summarize a capture of any
// size as its connections end. Fed the connections in the order
// Summarize is given them, Row equals Summarize to the last bit: the
// budgets are added by explain's own arithmetic (Summarize over the sums
// so far and the next connection), so that a cause explain adds later is
// summed too. It belongs in package flow/explain (see the package doc).
type Tally struct {
	at  explain.WhatIf
	n   int
	sum explain.Conn // the sums so far, as one connection
	// weight is each limit's summed duration (Summarize's weights and
	// Capture's byLimit alike).
	weight map[explain.Limit]time.Duration
	proj   explain.Projection
	lost   time.Duration
	worst  *explain.Conn
	first  *explain.Conn
}

// NewTally returns an empty tally that projects onto at (none when at is
// zero), as Summarize(label, conns, at) does.
func NewTally(at explain.WhatIf) *Tally {
	t := &Tally{at: at, weight: map[explain.Limit]time.Duration{}}
	t.proj = explain.Projection{RTT: at.RTT, Rate: at.Rate}
	return t
}

// Len returns the connections added.
func (t *Tally) Len() int { return t.n }

// Add adds one connection's explanation. The tally may keep c (the first
// and the one that lost most, for the sentences).
func (t *Tally) Add(c *explain.Conn) {
	r := explain.Summarize("", []*explain.Conn{&t.sum, c}, explain.WhatIf{})
	s := &t.sum
	s.Budget = r.Budget
	s.SegmentsC2S.Bytes, s.SegmentsC2S.Segments = r.Bytes, r.Segments
	s.SegmentsC2S.Small += c.SegmentsC2S.Small + c.SegmentsS2C.Small
	s.AcksC2S.Advances += c.AcksC2S.Advances + c.AcksS2C.Advances
	s.Turns, s.Model.RoundTrips, s.RTT, s.Rate = r.Turns, r.RoundTrips, r.RTT, r.Rate
	t.weight[c.Limit] += c.Budget.Duration
	if t.at != (explain.WhatIf{}) {
		t.proj.Add(c.ProjectTo(t.at.Target()))
	}
	l := TimeLost(&c.Budget)
	t.lost += l
	if t.worst == nil || l > TimeLost(&t.worst.Budget) {
		t.worst = c
	}
	if t.n == 0 {
		t.first = c
	}
	t.n++
}

// Row returns the group's row, as explain.Summarize(label, conns, at).
func (t *Tally) Row(label string) explain.Row {
	r := explain.Summarize(label, []*explain.Conn{&t.sum}, explain.WhatIf{})
	r.Conns = t.n
	r.Limit = explain.LimitUnknown
	best := time.Duration(-1)
	for l := explain.LimitUnknown; l <= explain.LimitLoss; l++ {
		if w, ok := t.weight[l]; ok && w > best {
			best, r.Limit = w, l
		}
	}
	if t.at != (explain.WhatIf{}) {
		p := t.proj
		r.Projected = &p
	}
	return r
}

// Lost returns the time the group lost to the network (TimeLost summed).
func (t *Tally) Lost() time.Duration { return t.lost }

// Capture returns the sentence of Capture for the connections added.
func (t *Tally) Capture() string {
	switch t.n {
	case 0:
		return "no TCP connection to explain"
	case 1:
		return Conclusion(t.first)
	}
	var top explain.Limit
	for l, s := range t.weight {
		if s > t.weight[top] || s == t.weight[top] && l < top {
			top = l
		}
	}
	return fmt.Sprintf("%d connections, %s of connection time, %s of it lost to the network; most of it (%s) in connections limited by %s; "+
		"the connection that lost most, #%d %s: %s",
		t.n, Secs(t.sum.Budget.Duration), Secs(t.lost), Secs(t.weight[top]), LimitPhrase(top), t.worst.ID, t.worst.Proto, Conclusion(t.worst))
}

// CompareTallies returns the sentence of Compare for two tallies.
func CompareTallies(la string, a *Tally, lb string, b *Tally) string {
	ra, rb := a.Row(la), b.Row(lb)
	slow, fast := ra, rb
	st, ft := a, b
	if rb.Duration > ra.Duration {
		slow, fast, st, ft = rb, ra, b, a
	}
	s := fmt.Sprintf("%s took %s", slow.Label, Secs(slow.Duration))
	if fast.Duration > 0 {
		s += fmt.Sprintf(", %.1f× %s's %s", float64(slow.Duration)/float64(fast.Duration), fast.Label, Secs(fast.Duration))
	}
	if st.n > 0 {
		s += ": " + st.Capture()
	}
	if ft.n == 1 {
		s += "; " + fast.Label + ": " + Conclusion(ft.first)
	}
	return s
}

// tallyOf tallies conns in their order.
func tallyOf(conns []*explain.Conn) *Tally {
	t := NewTally(explain.WhatIf{})
	for _, c := range conns {
		t.Add(c)
	}
	return t
}
