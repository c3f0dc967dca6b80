package linkq

import (
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/flow/units"
)

// Defaults for a zero UseConfig.
const (
	DefaultInterval = 5 * time.Minute
	DefaultMaxPairs = 1024
	DefaultMaxBins  = 100000
)

// UseConfig shapes the link-use report. Its zero value is usable.
type UseConfig struct {
	// Interval is the length of a bin; bins start at multiples of it
	// since the Unix epoch (so 5-minute bins start on :00, :05...). Zero
	// means DefaultInterval.
	Interval time.Duration
	// Rate is the committed (CIR) or line rate that percentages are of;
	// zero leaves them out.
	Rate units.BitRate
	// MaxPairs is the most host pairs tracked; packets of further pairs
	// are counted in UseReport.DroppedPackets. Zero means DefaultMaxPairs.
	MaxPairs int
	// MaxBins is the most bins kept, all pairs together; packets that
	// would need more are counted in UseReport.DroppedPackets. Zero means
	// DefaultMaxBins.
	MaxBins int
}

func (c UseConfig) interval() time.Duration {
	if c.Interval <= 0 {
		return DefaultInterval
	}
	return c.Interval
}

// UseBin is the traffic of one host pair in one interval, each direction
// apart: A→B and B→A. Bytes are frame lengths on the wire (link header
// included), what occupies a link.
type UseBin struct {
	Start     time.Time `json:"start"`
	BytesAB   uint64    `json:"bytes_ab"`
	BytesBA   uint64    `json:"bytes_ba"`
	PacketsAB uint64    `json:"packets_ab"`
	PacketsBA uint64    `json:"packets_ba"`
	// RateAB and RateBA are the mean rates over the whole interval.
	RateAB units.BitRate `json:"bps_ab"`
	RateBA units.BitRate `json:"bps_ba"`
	// PctAB and PctBA are those rates in percent of UseConfig.Rate (zero
	// when no rate was given).
	PctAB float64 `json:"pct_ab"`
	PctBA float64 `json:"pct_ba"`
}

// MarshalJSON writes the bin with its rates in bit/s.
func (b UseBin) MarshalJSON() ([]byte, error) { return units.MarshalJSON(b) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (b UseBin) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, b) }

// UnmarshalJSON reads what MarshalJSON writes.
func (b *UseBin) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, b) }

// PairUse is the link use of one host pair. A is the sender of the pair's
// first packet. Bins are contiguous from the first interval with traffic
// to the last (empty intervals in between included, with zeros).
type PairUse struct {
	A    netip.Addr `json:"a"`
	B    netip.Addr `json:"b"`
	Bins []UseBin   `json:"bins"`
}

// UseReport is the link use of a capture.
type UseReport struct {
	Interval time.Duration `json:"interval_s"`
	Rate     units.BitRate `json:"rate_bps"`
	Pairs    []PairUse     `json:"pairs"`
	// DroppedPackets counts packets beyond MaxPairs or MaxBins.
	DroppedPackets uint64 `json:"dropped_packets"`
}

// MarshalJSON writes the report with its interval in seconds.
func (r UseReport) MarshalJSON() ([]byte, error) { return units.MarshalJSON(r) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (r UseReport) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, r) }

// UnmarshalJSON reads what MarshalJSON writes.
func (r *UseReport) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, r) }

type pairAcc struct {
	a, b  netip.Addr
	first int64 // index of the first bin: start / interval
	bins  []UseBin
	index uint64 // capture index of the pair's first packet
}

type useAcc struct {
	cfg     UseConfig
	index   map[[2]netip.Addr]int
	pairs   []*pairAcc
	bins    int64 // bins kept, all pairs
	dropped uint64
}

func newUseAcc(cfg UseConfig) *useAcc {
	return &useAcc{cfg: cfg, index: make(map[[2]netip.Addr]int)}
}

func (u *useAcc) add(p *flow.PacketInfo) {
	if !p.Src.IsValid() || !p.Dst.IsValid() {
		return
	}
	k := [2]netip.Addr{p.Src, p.Dst}
	if p.Src.Compare(p.Dst) > 0 {
		k = [2]netip.Addr{p.Dst, p.Src}
	}
	iv := int64(u.cfg.interval())
	bi := floorDiv(p.Time.UnixNano(), iv)
	i, ok := u.index[k]
	if !ok {
		maxPairs := u.cfg.MaxPairs
		if maxPairs <= 0 {
			maxPairs = DefaultMaxPairs
		}
		if len(u.pairs) >= maxPairs {
			u.dropped++
			return
		}
		i = len(u.pairs)
		u.index[k] = i
		u.pairs = append(u.pairs, &pairAcc{a: p.Src, b: p.Dst, first: bi, index: p.Index})
	}
	pa := u.pairs[i]
	maxBins := int64(u.cfg.MaxBins)
	if maxBins <= 0 {
		maxBins = DefaultMaxBins
	}
	if bi < pa.first { // a packet out of time order, before the first bin
		n := pa.first - bi
		if n > maxBins-u.bins {
			u.dropped++
			return
		}
		pa.bins = append(make([]UseBin, n, n+int64(len(pa.bins))), pa.bins...)
		pa.first = bi
		u.bins += n
	}
	j := bi - pa.first
	if grow := j + 1 - int64(len(pa.bins)); grow > 0 {
		if grow > maxBins-u.bins {
			u.dropped++
			return
		}
		u.bins += grow
		pa.bins = append(pa.bins, make([]UseBin, grow)...)
	}
	b := &pa.bins[j]
	if p.Src == pa.a {
		b.BytesAB += uint64(p.WireLen)
		b.PacketsAB++
	} else {
		b.BytesBA += uint64(p.WireLen)
		b.PacketsBA++
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (u *useAcc) report() UseReport {
	iv := u.cfg.interval()
	r := UseReport{Interval: iv, Rate: u.cfg.Rate, DroppedPackets: u.dropped, Pairs: []PairUse{}}
	for _, pa := range u.pairs {
		pu := PairUse{A: pa.a, B: pa.b, Bins: make([]UseBin, len(pa.bins))}
		for j, b := range pa.bins {
			b.Start = time.Unix(0, (pa.first+int64(j))*int64(iv)).UTC()
			b.RateAB = units.BitRate(float64(b.BytesAB) * 8 / iv.Seconds())
			b.RateBA = units.BitRate(float64(b.BytesBA) * 8 / iv.Seconds())
			if u.cfg.Rate > 0 {
				b.PctAB = 100 * float64(b.RateAB) / float64(u.cfg.Rate)
				b.PctBA = 100 * float64(b.RateBA) / float64(u.cfg.Rate)
			}
			pu.Bins[j] = b
		}
		r.Pairs = append(r.Pairs, pu)
	}
	return r
}

// PairBins is one host pair's link use on a grid shared with the other
// pairs: Bins[0] holds A→B, Bins[1] B→A (frame bytes and packets per
// interval).
type PairBins struct {
	A, B netip.Addr
	Bins [2]series.Bins
}

// String names the pair "A ↔ B".
func (p PairBins) String() string { return p.A.String() + " ↔ " + p.B.String() }

// OnGrid returns the pairs' link use on one grid, for a figure that
// stacks them: every pair's bins start at the earliest bin of any pair
// (padded with empty intervals before its own first) and have the
// report's interval as width. Pairs without bins are left out; the order
// is the report's.
func (u UseReport) OnGrid() []PairBins {
	var start time.Time
	iv := u.Interval
	for _, p := range u.Pairs {
		if len(p.Bins) > 0 && (start.IsZero() || p.Bins[0].Start.Before(start)) {
			start = p.Bins[0].Start
		}
	}
	if iv <= 0 {
		return nil
	}
	var out []PairBins
	for _, p := range u.Pairs {
		if len(p.Bins) == 0 {
			continue
		}
		pad := int(p.Bins[0].Start.Sub(start) / iv)
		pb := PairBins{A: p.A, B: p.B}
		for d := range 2 {
			pb.Bins[d] = series.Bins{Start: start, Width: iv, Bytes: make([]uint64, pad+len(p.Bins)), Packets: make([]uint64, pad+len(p.Bins))}
		}
		for i, b := range p.Bins {
			pb.Bins[0].Bytes[pad+i], pb.Bins[0].Packets[pad+i] = b.BytesAB, b.PacketsAB
			pb.Bins[1].Bytes[pad+i], pb.Bins[1].Packets[pad+i] = b.BytesBA, b.PacketsBA
		}
		out = append(out, pb)
	}
	return out
}
