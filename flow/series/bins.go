package series

import "time"

// Bins holds byte and packet counts in consecutive fixed-width time bins:
// bin i covers [Start+i*Width, Start+(i+1)*Width). Bins past the end of
// Bytes are zero. Bins implements plot.ByteBinner, so a figure draws it
// as it is.
type Bins struct {
	Start   time.Time     `json:"start"`
	Width   time.Duration `json:"width_ns"`
	Bytes   []uint64      `json:"bytes"`
	Packets []uint64      `json:"packets"`
}

// Len returns the number of bins held.
func (b Bins) Len() int { return len(b.Bytes) }

// Grid returns the left edge of bin 0 and the bins' width.
func (b Bins) Grid() (start time.Time, width time.Duration) { return b.Start, b.Width }

// BinBytes returns the bytes counted in bin i, zero outside the bins held.
func (b Bins) BinBytes(i int) uint64 {
	if i < 0 || i >= len(b.Bytes) {
		return 0
	}
	return b.Bytes[i]
}

// Edge returns the left edge of bin i.
func (b Bins) Edge(i int) time.Time { return b.Start.Add(time.Duration(i) * b.Width) }

// TotalBytes returns the sum of all bins' bytes.
func (b Bins) TotalBytes() uint64 {
	var n uint64
	for _, v := range b.Bytes {
		n += v
	}
	return n
}

// TotalPackets returns the sum of all bins' packets.
func (b Bins) TotalPackets() uint64 {
	var n uint64
	for _, v := range b.Packets {
		n += v
	}
	return n
}

// Kbps returns bin i as a rate in kilobits (1000 bits) per second.
func (b Bins) Kbps(i int) float64 {
	if i < 0 || i >= len(b.Bytes) || b.Width <= 0 {
		return 0
	}
	return float64(b.Bytes[i]) * 8 / 1000 / b.Width.Seconds()
}

// Merge returns the bins with every k consecutive bins added into one:
// the same Start, k times the Width, ⌈Len/k⌉ bins. The result has slices
// of its own. For k ≤ 1 it returns b unchanged.
func (b Bins) Merge(k int) Bins {
	if k <= 1 {
		return b
	}
	return Bins{Start: b.Start, Width: b.Width * time.Duration(k), Bytes: sumGroups(b.Bytes, k), Packets: sumGroups(b.Packets, k)}
}

// sumGroups adds every k consecutive values into a new slice.
func sumGroups(s []uint64, k int) []uint64 {
	out := make([]uint64, (len(s)+k-1)/k)
	for i, v := range s {
		out[i/k] += v
	}
	return out
}

// minGroups keeps the smallest non-zero value of every k consecutive
// values (zero where a group has none) in a new slice.
func minGroups(s []time.Duration, k int) []time.Duration {
	out := make([]time.Duration, (len(s)+k-1)/k)
	for i, v := range s {
		if v > 0 && (out[i/k] == 0 || v < out[i/k]) {
			out[i/k] = v
		}
	}
	return out
}

// Coarsen merges every series of the result (Link, Classes, the chosen
// connections' Bins and MinRTT) to width w: groups of k = ⌊w/Width⌋ bins
// become one, and Width becomes k·Width — w itself when w is a multiple
// of Width, as the widths RoundWidth picks are of the collector's. The
// groups are aligned on multiples of the new width since the Unix epoch,
// as the collector's own bins are, so Start moves back to the start of
// its group. Nothing changes when k ≤ 1.
func (r *Result) Coarsen(w time.Duration) {
	if r.Width <= 0 {
		return
	}
	k := int(w / r.Width)
	if k <= 1 {
		return
	}
	nw := r.Width * time.Duration(k)
	start, pad := alignDown(r.Start, r.Width, nw)
	group := func(b Bins) Bins {
		b = Bins{Start: start, Width: r.Width, Bytes: append(make([]uint64, pad), b.Bytes...),
			Packets: append(make([]uint64, pad), b.Packets...)}
		return b.Merge(k)
	}
	for d := range 2 {
		r.MinRTT[d] = minGroups(append(make([]time.Duration, pad), r.MinRTT[d]...), k)
		r.Link[d] = group(r.Link[d])
		for i := range r.Classes {
			r.Classes[i].Bins[d] = group(r.Classes[i].Bins[d])
		}
		for _, c := range r.Conns {
			c.Bins[d] = group(c.Bins[d])
		}
	}
	r.Start, r.Width = start, nw
}

// roundWidths are the bin widths RoundWidth chooses from.
var roundWidths = []time.Duration{
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// RoundWidth returns the smallest round bin width (10, 20 or 50 ms, 0.1,
// 0.2, 0.5, 1, 2, 5, 10 or 30 s) that cuts span into fewer than n whole
// bins, or a minute when none does: a figure's interval, readable in its
// axis label, with at most about n bins.
func RoundWidth(span time.Duration, n int) time.Duration {
	for _, w := range roundWidths {
		if span/w < time.Duration(n) {
			return w
		}
	}
	return time.Minute
}

// counts is one growing series of bins on the collector's grid.
type counts struct {
	bytes, pkts []uint64
}

func (c *counts) add(i int, n int) {
	if i >= len(c.bytes) {
		c.bytes = grow(c.bytes, i+1)
		c.pkts = grow(c.pkts, i+1)
	}
	c.bytes[i] += uint64(n)
	c.pkts[i]++
}

// halve merges pairs of bins: the grid's width has doubled. odd says bin
// 0 is the second of its pair (its index since the epoch is odd).
func (c *counts) halve(odd bool) {
	c.bytes = merge(c.bytes, odd)
	c.pkts = merge(c.pkts, odd)
}

// prepend adds n empty bins before bin 0.
func (c *counts) prepend(n int) {
	if len(c.bytes) == 0 {
		return
	}
	c.bytes = append(make([]uint64, n, n+len(c.bytes)), c.bytes...)
	c.pkts = append(make([]uint64, n, n+len(c.pkts)), c.pkts...)
}

// addAt adds the bins of o, whose bin 0 is bin at of c.
func (c *counts) addAt(o *counts, at int) {
	if len(o.bytes) == 0 {
		return
	}
	n := at + len(o.bytes)
	if n > len(c.bytes) {
		c.bytes, c.pkts = grow(c.bytes, n), grow(c.pkts, n)
	}
	for j, v := range o.bytes {
		c.bytes[at+j] += v
		c.pkts[at+j] += o.pkts[j]
	}
}

func (c *counts) bins(start time.Time, width time.Duration, n int) Bins {
	b := Bins{Start: start, Width: width, Bytes: make([]uint64, n), Packets: make([]uint64, n)}
	copy(b.Bytes, c.bytes)
	copy(b.Packets, c.pkts)
	return b
}

func grow(s []uint64, n int) []uint64 {
	if n <= cap(s) {
		return s[:n]
	}
	t := make([]uint64, n, max(n, 2*cap(s), 64))
	copy(t, s)
	return t
}

// merge adds pairs of values in place; odd says s[0] is the second of its
// pair.
func merge(s []uint64, odd bool) []uint64 {
	if len(s) == 0 {
		return s
	}
	off := 0
	if odd {
		off = 1
	}
	n := (len(s) + off + 1) / 2
	for j := range n {
		var v uint64
		for _, k := range [2]int{2*j - off, 2*j + 1 - off} {
			if k >= 0 && k < len(s) {
				v += s[k]
			}
		}
		s[j] = v
	}
	clear(s[n:])
	return s[:n]
}
