package series

import "time"

// Bins holds byte and packet counts in consecutive fixed-width time bins:
// bin i covers [Start+i*Width, Start+(i+1)*Width). Bins past the end of
// Bytes are zero.
type Bins struct {
	Start   time.Time     `json:"start"`
	Width   time.Duration `json:"width_ns"`
	Bytes   []uint64      `json:"bytes"`
	Packets []uint64      `json:"packets"`
}

// Len returns the number of bins held.
func (b *Bins) Len() int { return len(b.Bytes) }

// Edge returns the left edge of bin i.
func (b *Bins) Edge(i int) time.Time { return b.Start.Add(time.Duration(i) * b.Width) }

// TotalBytes returns the sum of all bins' bytes.
func (b *Bins) TotalBytes() uint64 {
	var n uint64
	for _, v := range b.Bytes {
		n += v
	}
	return n
}

// TotalPackets returns the sum of all bins' packets.
func (b *Bins) TotalPackets() uint64 {
	var n uint64
	for _, v := range b.Packets {
		n += v
	}
	return n
}

// Kbps returns bin i as a rate in kilobits (1000 bits) per second.
func (b *Bins) Kbps(i int) float64 {
	if i < 0 || i >= len(b.Bytes) || b.Width <= 0 {
		return 0
	}
	return float64(b.Bytes[i]) * 8 / 1000 / b.Width.Seconds()
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

// halve merges pairs of bins: the grid's width has doubled.
func (c *counts) halve() {
	c.bytes = merge(c.bytes)
	c.pkts = merge(c.pkts)
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

func merge(s []uint64) []uint64 {
	n := (len(s) + 1) / 2
	for i := range n {
		v := s[2*i]
		if 2*i+1 < len(s) {
			v += s[2*i+1]
		}
		s[i] = v
	}
	clear(s[n:])
	return s[:n]
}
