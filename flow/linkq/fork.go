package linkq

import (
	"cmp"
	"net/netip"
	"slices"
	"sync"

	"github.com/netecology/netecology/flow"
)

// verdictBox hands the verdicts the forks of a parallel pass make to
// their root, which takes each in its own ConnEnd, in the order the
// connections ended.
type verdictBox struct {
	mu sync.Mutex
	m  map[*flow.Conn]Verdict
}

var _ flow.Forker = (*Analyzer)(nil)

// Fork returns an Analyzer for one shard of a parallel pass (see
// flow.Forker), with the same Config.
func (a *Analyzer) Fork() flow.Consumer {
	if a.box == nil {
		a.box = &verdictBox{m: map[*flow.Conn]Verdict{}}
	}
	f := New(a.cfg)
	f.toRoot = a.box
	return f
}

// Merge puts the forks' analyses together into a, which has received no
// packet itself: the report is what one Analyzer fed the whole capture
// would give. Echoes all reach the first shard (they are packets of no
// connection), which matches them in capture order; each TCP connection's
// counters and verdict come from its shard; samples are kept in capture
// order (by packet index) and the fits, made from exact sums, do not
// depend on the order; paths and host pairs are in the order their first
// packet came. The one exception is a limit reached in a shard of its own
// (FitConfig.MaxPaths, UseConfig.MaxPairs or MaxBins): which paths, pairs
// or bins it kept may then differ from one Analyzer's.
func (a *Analyzer) Merge(forks []flow.Consumer) {
	for _, c := range forks {
		f, ok := c.(*Analyzer)
		if !ok {
			continue
		}
		f.echo.close() // unanswered requests are lost, as Report counts them
		f.done = true
		a.echo.stats.add(&f.echo.stats)
		a.tcp.stats.add(&f.tcp.stats)
		a.paths.merge(f.paths)
		a.use.merge(f.use)
		a.sizes.merge(f.sizes)
		a.duplex.merge(f.duplex)
	}
	a.paths.sort()
	a.use.sort()
	a.sizes.sort()
	a.duplex.sort()
}

// add adds the counters of o.
func (s *EchoStats) add(o *EchoStats) {
	s.Requests += o.Requests
	s.Replies += o.Replies
	s.Matched += o.Matched
	s.Unverified += o.Unverified
	s.Corrupted += o.Corrupted
	s.Late += o.Late
	s.Lost += o.Lost
	s.Evicted += o.Evicted
	s.Duplicates += o.Duplicates
	s.DuplicateRequests += o.DuplicateRequests
	s.Orphans += o.Orphans
	s.ICMPErrors += o.ICMPErrors
	s.Errored += o.Errored
	s.Truncated += o.Truncated
	s.Malformed += o.Malformed
}

// add adds the counters of o.
func (s *TCPStats) add(o *TCPStats) {
	s.DataSegments += o.DataSegments
	s.Retransmitted += o.Retransmitted
	s.RTTSamples += o.RTTSamples
	s.Ambiguous += o.Ambiguous
	s.Forgotten += o.Forgotten
}

// merge adds the paths of o: a path both have gets the samples of both.
func (s *pathSet) merge(o *pathSet) {
	s.dropped += o.dropped
	s.echoMin.Merge(o.echoMin)
	for _, q := range o.paths {
		i, ok := s.index[q.key]
		if !ok {
			i = len(s.paths)
			s.index[q.key] = i
			s.paths = append(s.paths, &pathAcc{key: q.key, first: q.first, sizeMin: q.sizeMin, rttMin: q.rttMin})
		}
		s.paths[i].merge(q, s.cfg.maxPoints())
	}
}

// sort puts the paths in the order their first packet came, within
// MaxPaths.
func (s *pathSet) sort() {
	slices.SortStableFunc(s.paths, func(x, y *pathAcc) int { return cmp.Compare(x.first, y.first) })
	if n := s.cfg.maxPaths(); len(s.paths) > n {
		for _, p := range s.paths[n:] {
			s.dropped += uint64(p.ols.n)
		}
		s.paths = s.paths[:n]
	}
	clear(s.index)
	for i, p := range s.paths {
		s.index[p.key] = i
	}
}

// merge adds the samples of q: sums add, extremes and per-size minima
// combine (the earlier sample on a tie), the kept points are the first
// limit in capture order.
func (p *pathAcc) merge(q *pathAcc, limit int) {
	p.first = min(p.first, q.first)
	p.echo.Requests += q.echo.Requests
	p.echo.Matched += q.echo.Matched
	p.echo.Lost += q.echo.Lost
	p.echo.Late += q.echo.Late
	p.echo.Corrupted += q.echo.Corrupted
	p.echo.Errored += q.echo.Errored
	for k := range p.kinds {
		p.kinds[k] += q.kinds[k]
	}
	p.ols.merge(&q.ols)
	p.sizeMin, p.sizeMax = min(p.sizeMin, q.sizeMin), max(p.sizeMax, q.sizeMax)
	p.rttMin, p.rttMax = min(p.rttMin, q.rttMin), max(p.rttMax, q.rttMax)
	for len(p.bins) < len(q.bins) {
		p.bins = append(p.bins, q.bins[len(p.bins)])
		p.bins[len(p.bins)-1].Count, p.bins[len(p.bins)-1].MinRTT = 0, 0
		p.binIdx = append(p.binIdx, 0)
	}
	for j, b := range q.bins {
		if b.Count == 0 {
			continue
		}
		x := &p.bins[j]
		if x.Count == 0 || b.MinRTT < x.MinRTT || b.MinRTT == x.MinRTT && q.binIdx[j] < p.binIdx[j] {
			x.MinRTT, x.MinSize, p.binIdx[j] = b.MinRTT, b.MinSize, q.binIdx[j]
		}
		x.Count += b.Count
	}
	p.mergePoints(q, limit)
}

// mergePoints keeps the first limit points of p and q by capture index.
func (p *pathAcc) mergePoints(q *pathAcc, limit int) {
	total := len(p.points) + p.dropped + len(q.points) + q.dropped
	n := len(p.points) + len(q.points)
	pts, times, idx := make([]Point, 0, n), p.times[:0:0], make([]uint64, 0, n)
	i, j := 0, 0
	for len(pts) < limit && (i < len(p.points) || j < len(q.points)) {
		if j == len(q.points) || i < len(p.points) && p.index[i] < q.index[j] {
			pts, times, idx = append(pts, p.points[i]), append(times, p.times[i]), append(idx, p.index[i])
			i++
		} else {
			pts, times, idx = append(pts, q.points[j]), append(times, q.times[j]), append(idx, q.index[j])
			j++
		}
	}
	p.points, p.times, p.index = pts, times, idx
	if len(pts) == 0 {
		p.points, p.times, p.index = nil, nil, nil
	}
	p.dropped = total - len(pts)
}

// merge adds the host pairs of o: a pair both have gets the traffic of
// both, each direction by its sender.
func (u *useAcc) merge(o *useAcc) {
	u.dropped += o.dropped
	for _, q := range o.pairs {
		k := [2]netip.Addr{q.a, q.b}
		if q.a.Compare(q.b) > 0 {
			k = [2]netip.Addr{q.b, q.a}
		}
		i, ok := u.index[k]
		if !ok {
			i = len(u.pairs)
			u.index[k] = i
			u.pairs = append(u.pairs, &pairAcc{a: q.a, b: q.b, first: q.first, index: q.index})
		}
		u.pairs[i].merge(q)
	}
}

// merge adds q's bins; if q saw the pair first, its sender is A.
func (p *pairAcc) merge(q *pairAcc) {
	flip := q.a != p.a
	if q.index < p.index {
		if flip {
			p.a, p.b = q.a, q.b
			for i := range p.bins {
				b := &p.bins[i]
				b.BytesAB, b.BytesBA, b.PacketsAB, b.PacketsBA = b.BytesBA, b.BytesAB, b.PacketsBA, b.PacketsAB
			}
			flip = false
		}
		p.index = q.index
	}
	if len(q.bins) == 0 {
		return
	}
	if len(p.bins) == 0 {
		p.first = q.first
	}
	if q.first < p.first {
		p.bins = append(make([]UseBin, p.first-q.first, int64(len(p.bins))+p.first-q.first), p.bins...)
		p.first = q.first
	}
	for n := q.first - p.first + int64(len(q.bins)); int64(len(p.bins)) < n; {
		p.bins = append(p.bins, UseBin{})
	}
	for j, b := range q.bins {
		x := &p.bins[q.first-p.first+int64(j)]
		if flip {
			b.BytesAB, b.BytesBA, b.PacketsAB, b.PacketsBA = b.BytesBA, b.BytesAB, b.PacketsBA, b.PacketsAB
		}
		x.BytesAB += b.BytesAB
		x.BytesBA += b.BytesBA
		x.PacketsAB += b.PacketsAB
		x.PacketsBA += b.PacketsBA
	}
}

// sort puts the pairs in the order their first packet came, within
// MaxPairs, and counts the bins kept.
func (u *useAcc) sort() {
	slices.SortStableFunc(u.pairs, func(x, y *pairAcc) int { return cmp.Compare(x.index, y.index) })
	maxPairs := u.cfg.MaxPairs
	if maxPairs <= 0 {
		maxPairs = DefaultMaxPairs
	}
	if len(u.pairs) > maxPairs {
		for _, p := range u.pairs[maxPairs:] {
			for _, b := range p.bins {
				u.dropped += b.PacketsAB + b.PacketsBA
			}
		}
		u.pairs = u.pairs[:maxPairs]
	}
	clear(u.index)
	u.bins = 0
	for i, p := range u.pairs {
		k := [2]netip.Addr{p.a, p.b}
		if p.a.Compare(p.b) > 0 {
			k = [2]netip.Addr{p.b, p.a}
		}
		u.index[k] = i
		u.bins += int64(len(p.bins))
	}
}
