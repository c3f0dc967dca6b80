package explain

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// Spacing histogram: per-byte spacing, in quarter octaves of nanoseconds
// per byte from 2^-2 ns/B (32 Gbit/s) up.
const (
	nbins     = 112
	binOrigin = -2.0
	binsPerOc = 4.0
)

func spacingBin(nsPerByte float64) int {
	if nsPerByte <= 0 {
		return 0
	}
	i := int(math.Floor((math.Log2(nsPerByte) - binOrigin) * binsPerOc))
	return min(max(i, 0), nbins-1)
}

func binLo(i int) float64 { return math.Exp2(binOrigin + float64(i)/binsPerOc) }
func binHi(i int) float64 { return binLo(i + 1) }

// spacing is a histogram of nanoseconds per byte between segments (or
// ACKs), allocated with its first sample. Its bins are kept sparse, in
// bin order, like gapHist's: a direction's spacings fill a few of the
// nbins (a dense histogram took 1.4 KB, up to four a connection), and
// last, the bin the latest sample went to, is where the next one usually
// goes.
type spacing struct {
	bins  []spacingBinSum
	last  int
	total int
}

// spacingBinSum is one bin of a spacing histogram: its samples and their
// sum, ns per byte.
type spacingBinSum struct {
	sum float64
	n   uint32
	bin uint8
}

// add records one sample, allocating s if needed, and returns s.
func (s *spacing) add(nsPerByte float64) *spacing {
	if s == nil {
		s = new(spacing)
	}
	b := uint8(spacingBin(nsPerByte))
	i := s.last
	if i >= len(s.bins) || s.bins[i].bin != b {
		s.bins, i = sparseBin(s.bins, b, func(x spacingBinSum) uint8 { return x.bin }, spacingBinSum{bin: b})
		s.last = i
	}
	s.bins[i].n++
	s.bins[i].sum += nsPerByte
	s.total++
	return s
}

// sparseBin returns the index of the bin of key k in bins, kept sorted
// by key (keyOf), and bins with empty (the bin of k with nothing in it)
// inserted there when none has k. The sparse histograms (spacing,
// gapHist) hold the few bins a connection fills this way.
func sparseBin[B any, K cmp.Ordered](bins []B, k K, keyOf func(B) K, empty B) ([]B, int) {
	i, ok := slices.BinarySearchFunc(bins, k, func(x B, k K) int { return cmp.Compare(keyOf(x), k) })
	if !ok {
		bins = slices.Insert(bins, i, empty)
	}
	return bins, i
}

// reset empties s for reuse, keeping its bins' storage (nil stays nil).
func (s *spacing) reset() *spacing {
	if s != nil {
		*s = spacing{bins: s.bins[:0]}
	}
	return s
}

// quantile returns the mean, in seconds per byte, of the bin holding the
// k-th smallest of the samples, k = want(total); 0 with fewer than three
// samples.
func (s *spacing) quantile(want func(n int) int) float64 {
	if s == nil || s.total < 3 {
		return 0
	}
	w, n := want(s.total), 0
	for _, b := range s.bins {
		n += int(b.n)
		if n >= w {
			return b.sum / float64(b.n) * 1e-9
		}
	}
	return 0
}

func lowerQuartile(n int) int { return (n + 3) / 4 }
func median(n int) int        { return (n + 1) / 2 }

// sigma returns the bottleneck's seconds per wire byte for direction d's
// data (0: unknown), from the side of the capture that sees it: after the
// bottleneck (near the receiver) the lower quartile of the spacing of
// back-to-back data segments; before it (near the sender, whose own data
// leaves at its interface's rate, never the path's) the median spacing of
// the ACKs per byte they acknowledge: the ACK clock.
func (cs *connState) sigma(d tcpstate.Dir) float64 {
	if r := cs.opts.CaptureRate; r > 0 {
		return 8 / float64(r)
	}
	ds := &cs.d[d]
	if cs.downstream(d) {
		return ds.dataSp.quantile(lowerQuartile)
	}
	return ds.ackSp.quantile(median)
}

// vlink is the bottleneck's backlog of one direction's data when the
// capture is upstream of it: since start the bottleneck has been busy
// with bytes wire bytes, done at start + bytes x sigma.
type vlink struct {
	start int64
	bytes uint64
}

// until returns when the backlog is serialized at sigma seconds per byte.
func (l *vlink) until(sigma float64) int64 {
	return l.start + int64(float64(l.bytes)*sigma*1e9)
}

// send adds a segment of wire bytes sent at t; with the rate unknown the
// backlog keeps growing from its start.
func (l *vlink) send(t int64, wire int, sigma float64) {
	w := uint64(max(wire, 0))
	if l.bytes == 0 || sigma > 0 && t >= l.until(sigma) {
		l.start, l.bytes = t, w
		return
	}
	l.bytes += w
}

// upstream returns the transfer time within the gap of length gap from a:
// the part of it an upstream bottleneck (the capture before it, near the
// sender) was still serializing data sent before a. pend is set when the
// rate of a direction whose sends are logged (see preRate) is not known
// yet: the gap then waits for it.
func (cs *connState) upstream(a int64, gap time.Duration) (tr time.Duration, pend bool) {
	for k := range cs.d {
		d := tcpstate.Dir(k)
		l := &cs.d[k].link
		if cs.downstream(d) || l.bytes == 0 {
			continue
		}
		sigma := cs.sigma(d)
		if sigma == 0 {
			pend = pend || cs.pre != nil && cs.pre.dir == d
			continue
		}
		tr += max(0, min(time.Duration(l.until(sigma)-a), gap))
	}
	return min(tr, gap), pend
}

// preRate logs what an upstream sender did before its rate was known
// (its ACK clock needs a few ACKs, a round trip after its first flight):
// its sends and the gaps (of a millisecond or more) that may hold their
// serialization. Once the rate is known they are replayed: each gap's
// transfer moves out of the bucket it was booked to, and the backlog
// carries on. At most 32 sends and 8 gaps; more are not logged.
type preRate struct {
	dir   tcpstate.Dir
	sends [32]preSend
	ns    int
	gaps  [8]preGap
	ng    int
}

type preSend struct {
	t    int64
	wire uint32
}

// preGap is a logged gap: its bucket (a cause's sum, or numCauses + d:
// the think part of crossings toward d), start, length, and the transfer
// already given it.
type preGap struct {
	bucket uint8
	a      int64
	gap    time.Duration
	up     time.Duration
}

// logSend logs a send of d at t when d is upstream with no rate yet and
// sends a burst (a second segment within a millisecond of the first,
// prev at prevT with prevWire bytes): a bulk sender whose first flights
// the bottleneck serializes after the capture point.
func (cs *connState) logSend(d tcpstate.Dir, t int64, wire int, prevT int64, prevWire int) {
	if cs.pre == nil {
		if prevT == 0 || t-prevT > int64(time.Millisecond) {
			return
		}
		cs.pre = &preRate{dir: d}
		cs.pre.add(prevT, prevWire)
	}
	if cs.pre.dir == d {
		cs.pre.add(t, wire)
	}
}

func (p *preRate) add(t int64, wire int) {
	if p.ns < len(p.sends) {
		p.sends[p.ns] = preSend{t: t, wire: uint32(min(max(wire, 0), 1<<31))}
		p.ns++
	}
}

// pendGap logs g, booked to bucket, for the replay.
func (cs *connState) pendGap(g *gapCtx, bucket uint8) {
	p := cs.pre
	if !g.pend || p == nil || p.ng == len(p.gaps) || g.gap-g.up < time.Millisecond {
		return
	}
	p.gaps[p.ng] = preGap{bucket: bucket, a: g.a, gap: g.gap, up: g.up}
	p.ng++
}

// resolvePending replays the logged sends once the logged direction's
// rate is known (or, final, drops the log when it never was).
func (cs *connState) resolvePending(final bool) {
	p := cs.pre
	if p == nil || p.ns == 0 && p.ng == 0 {
		return
	}
	sigma := cs.sigma(p.dir)
	if sigma == 0 && !final {
		return
	}
	if sigma > 0 {
		var l vlink
		i := 0
		for _, g := range p.gaps[:p.ng] {
			for ; i < p.ns && p.sends[i].t <= g.a; i++ {
				l.send(p.sends[i].t, int(p.sends[i].wire), sigma)
			}
			tr := max(0, min(time.Duration(l.until(sigma)-g.a), g.gap))
			cs.moveToTransfer(g.bucket, tr-g.up)
		}
		for ; i < p.ns; i++ {
			l.send(p.sends[i].t, int(p.sends[i].wire), sigma)
		}
		if l.until(sigma) > cs.d[p.dir].link.until(sigma) {
			cs.d[p.dir].link = l
		}
	}
	*p = preRate{dir: p.dir}
	p.ns = len(p.sends) // logging stops: the rate is known, or never will be
}

// moveToTransfer moves up to extra from a bucket to the transfer.
func (cs *connState) moveToTransfer(bucket uint8, extra time.Duration) {
	if extra <= 0 {
		return
	}
	var v *time.Duration
	if int(bucket) < int(numCauses) {
		v = &cs.sum[bucket]
	} else {
		v = &cs.turn[int(bucket)-int(numCauses)].rest
	}
	extra = min(extra, *v)
	*v -= extra
	cs.sum[CauseTransfer] += extra
}

// gapHist holds the gaps whose split between transfer and a waiting
// cause needs the bottleneck rate, known only at the end: the gap before
// each data segment, by the segment's direction, cause (histIndex) and
// spacing per wire byte. Its bins are kept sparse, in (direction, cause,
// bin) order: a connection fills a few of the 2 x 4 x nbins.
type gapHist struct{ bins []gapBin }

// gapBin is one bin of a gapHist.
type gapBin struct {
	key uint32  // (direction * 4 + cause row) * nbins + spacing bin
	g   float64 // seconds of gap
	w   float64 // wire bytes of the segments ending the gaps
}

// add adds a gap of g seconds before a segment of direction d of w wire
// bytes to row k, spacing bin b.
func (h *gapHist) add(d tcpstate.Dir, k, b int, g, w float64) {
	key := uint32((int(d)*4+k)*nbins + b)
	var i int
	h.bins, i = sparseBin(h.bins, key, func(x gapBin) uint32 { return x.key }, gapBin{key: key})
	h.bins[i].g += g
	h.bins[i].w += w
}

// histIndex returns the gapHist row of cause c, -1 if it is not split.
func histIndex(c Cause) int {
	switch c {
	case CauseWindowWait:
		return 0
	case CauseReceiverWindow:
		return 1
	case CauseClientThink, CauseServerThink:
		return 2
	case CauseLossRecovery:
		return 3
	}
	return -1
}

// farGap keeps a gap of length gap before a data segment of d of wire
// bytes, attributed to c, for the split at the end.
func (cs *connState) farGap(d tcpstate.Dir, c Cause, gap time.Duration, wire int) {
	w := float64(max(wire, 1))
	if cs.gh == nil {
		cs.gh = new(gapHist)
	}
	cs.gh.add(d, histIndex(c), spacingBin(float64(gap)/w), gap.Seconds(), w)
}

// splitGaps splits direction d's kept gaps with its rate sigma:
// serialization of the segment ending each gap is transfer; a gap up to
// 1.5 times that is all transfer (jitter).
func (cs *connState) splitGaps(b *budgetS, d tcpstate.Dir, sigma float64) {
	if cs.gh == nil {
		return
	}
	causes := [4]Cause{CauseWindowWait, CauseReceiverWindow, think(d), CauseLossRecovery}
	for _, x := range cs.gh.bins {
		if tcpstate.Dir(x.key/(4*nbins)) != d {
			continue
		}
		c, i := causes[x.key/nbins%4], int(x.key%nbins)
		g, w := x.g, x.w
		if g == 0 {
			continue
		}
		if sigma > 0 && binHi(i)*1e-9 <= 1.5*sigma {
			b.p[CauseTransfer] += g
			continue
		}
		tr := min(g, w*sigma)
		b.p[CauseTransfer] += tr
		b.p[c] += g - tr
	}
}
