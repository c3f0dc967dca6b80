package series

import (
	"cmp"
	"slices"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// Fork returns a Collector for one shard of a parallel pass (see
// flow.Forker), with the same Config.
func (c *Collector) Fork() flow.Consumer { return NewCollector(c.cfg) }

// Merge puts the series of the forks (Collectors made by Fork, in shard
// order) together into c, which has received no packet itself: the
// result is what one Collector fed the whole capture holds. The grid is
// the same since its bins are aligned on the epoch and widen by the
// capture's span alone; counts add and minima are minima; the classes are
// the first MaxClasses seen in the capture (by packet index), exactly so
// as long as no shard saw more than MaxClasses classes of its own (past
// that, a class the shard counted under "other" stays there); the chosen
// connections each come from the one shard that had them, in ID order.
func (c *Collector) Merge(forks []flow.Consumer) {
	var fs []*Collector
	for _, f := range forks {
		if fc, ok := f.(*Collector); ok && fc.started {
			fs = append(fs, fc)
		}
	}
	if len(fs) == 0 {
		return
	}
	// One width, then one span.
	for _, f := range fs {
		for c.width < f.width {
			c.width *= 2
		}
	}
	for _, f := range fs {
		for f.width < c.width {
			f.widen()
		}
	}
	c.mergeSpan(fs)
	for _, f := range fs {
		c.packets += f.packets
		at := int(f.origin - c.origin)
		for d := range 2 {
			for j, v := range f.minRTT[d] {
				if v > 0 {
					c.addRTT(tcpstate.Dir(d), at+j, v)
				}
			}
		}
		c.conns = append(c.conns, f.conns...)
		for _, s := range f.conns {
			s.st.bins[0].shiftTo(at)
			s.st.bins[1].shiftTo(at)
		}
	}
	slices.SortStableFunc(c.conns, func(a, b *ConnSeries) int { return cmp.Compare(a.ID, b.ID) })
	c.mergeClasses(fs)
	for d := range 2 {
		if len(c.minRTT[d]) > c.nbins {
			c.minRTT[d] = c.minRTT[d][:c.nbins]
		}
	}
}

// mergeSpan sets c's grid to cover the forks' (all at c's width),
// widening all of them until it fits MaxBins.
func (c *Collector) mergeSpan(fs []*Collector) {
	for {
		lo, hi := fs[0].origin, fs[0].origin+int64(fs[0].nbins)-1
		for _, f := range fs[1:] {
			lo, hi = min(lo, f.origin), max(hi, f.origin+int64(f.nbins)-1)
		}
		if hi-lo < int64(c.maxBins) {
			c.origin, c.nbins, c.started = lo, int(hi-lo+1), true
			break
		}
		c.width *= 2
		for _, f := range fs {
			f.widen()
		}
	}
	c.first, c.last = fs[0].first, fs[0].last
	for _, f := range fs[1:] {
		if f.first.Before(c.first) {
			c.first = f.first
		}
		if f.last.After(c.last) {
			c.last = f.last
		}
	}
}

// mergeClasses keeps apart the first MaxClasses classes of the forks, by
// the index of their first packet, and adds the rest to "other".
func (c *Collector) mergeClasses(fs []*Collector) {
	byKey := map[classKey]*class{}
	var all []*class
	var other *class
	add := func(to *class, from *class, at int) {
		to.bins[0].addAt(&from.bins[0], at)
		to.bins[1].addAt(&from.bins[1], at)
	}
	for _, f := range fs {
		at := int(f.origin - c.origin)
		for _, k := range f.classes {
			m := byKey[k.key]
			if m == nil {
				m = &class{key: k.key, name: k.name, first: k.first}
				byKey[k.key] = m
				all = append(all, m)
			}
			m.first = min(m.first, k.first)
			add(m, k, at)
		}
		if f.other != nil {
			if other == nil {
				other = &class{name: "other"}
			}
			add(other, f.other, at)
		}
	}
	slices.SortStableFunc(all, func(a, b *class) int { return cmp.Compare(a.first, b.first) })
	if len(all) > MaxClasses {
		if other == nil {
			other = &class{name: "other"}
		}
		for _, k := range all[MaxClasses:] {
			add(other, k, 0)
		}
		all = all[:MaxClasses]
	}
	c.classes, c.other = all, other
}

// shiftTo moves the bins at positions from 0 to start at bin at.
func (c *counts) shiftTo(at int) {
	if at > 0 {
		c.prepend(at)
	}
}

// Fork returns a TurnLog for one shard of a parallel pass (see
// flow.Forker), for the same connection and limit.
func (l *TurnLog) Fork() flow.Consumer { return NewTurnLog(l.conn, l.limit) }

// Merge takes the transactions of the forks: the connection was in one
// shard, whose fork kept them in the order they completed.
func (l *TurnLog) Merge(forks []flow.Consumer) {
	for _, f := range forks {
		if t, ok := f.(*TurnLog); ok {
			l.turns = append(l.turns, t.turns...)
			l.disordered += t.disordered
		}
	}
	if len(l.turns) > l.limit {
		l.turns = l.turns[:l.limit]
	}
}

// Coarsen returns the minima merged to width w: groups of k = ⌊w/Width⌋
// intervals, aligned on multiples of k·Width since the Unix epoch (when
// Start is aligned on Width), become one. For k ≤ 1 it returns m.
func (m MinRTT) Coarsen(w time.Duration) MinRTT {
	if m.Width <= 0 {
		return m
	}
	k := int64(w / m.Width)
	if k <= 1 {
		return m
	}
	nw := m.Width * time.Duration(k)
	start, pad := alignDown(m.Start, m.Width, nw)
	out := MinRTT{Start: start, Width: nw, Min: minGroups(append(make([]time.Duration, pad), m.Min...), int(k))}
	return out
}

// alignDown returns t rounded down to a multiple of nw since the epoch,
// and how many intervals of w lie between it and t.
func alignDown(t time.Time, w, nw time.Duration) (time.Time, int) {
	at, ok := epochOffset(t)
	if !ok || w <= 0 {
		return t, 0
	}
	a := time.Duration(floorDiv(int64(at), int64(nw)) * int64(nw))
	return time.Unix(0, 0).UTC().Add(a), int((at - a) / w)
}
