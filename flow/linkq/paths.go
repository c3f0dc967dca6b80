package linkq

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/flow/units"
)

// Source says where RTT samples came from.
type Source uint8

// Sample sources.
const (
	// SourceEcho: matched echo requests and replies (ICMP, ICMPv6, UDP).
	SourceEcho Source = iota
	// SourceTCP: a TCP data segment and the pure ACK that acknowledged
	// exactly its end (Karn's rule: never a retransmitted segment).
	SourceTCP
)

// String returns "echo" or "tcp".
func (s Source) String() string {
	if s == SourceTCP {
		return "tcp"
	}
	return "echo"
}

// MarshalText makes a Source appear by name in JSON.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// SizeBasis chooses what "packet size" means in a fit.
type SizeBasis uint8

// Size bases. The slope does not depend on the choice (the sizes differ
// by a constant for a given packet type); the intercept does, by that
// constant times the slope.
const (
	// SizeIP is the IP packet length: the transport length from the IP
	// header plus a 20-byte IPv4 or 40-byte IPv6 header (options and
	// extension headers, rare on echo packets, are not added). It is the
	// default because every link of the path carries it whatever the
	// capture's link type (Ethernet, Linux cooked, raw IP); each link's
	// own framing is a constant that moves into the intercept.
	SizeIP SizeBasis = iota
	// SizeFrame is the frame length on the capture's wire (what the
	// capture header calls the original length).
	SizeFrame
	// SizePayload is the echo data length (ping -s N) for echoes and the
	// TCP payload length for TCP samples.
	SizePayload
	numSizeBases
)

var sizeNames = [numSizeBases]string{"ip", "frame", "payload"}

// String returns "ip", "frame" or "payload".
func (b SizeBasis) String() string {
	if b < numSizeBases {
		return sizeNames[b]
	}
	return "unknown"
}

// MarshalText makes a SizeBasis appear by name in JSON.
func (b SizeBasis) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// Defaults for a zero FitConfig.
const (
	DefaultBinWidth  = 64
	DefaultMaxPoints = 10000
	DefaultMaxPaths  = 1024
)

// FitConfig shapes the RTT-versus-size fits. Its zero value is usable.
type FitConfig struct {
	// Size is what a sample's size measures; the zero value is SizeIP.
	Size SizeBasis
	// BinWidth is the width in bytes of the size bins whose minimum RTT
	// is reported. Zero means DefaultBinWidth.
	BinWidth int
	// MaxPoints is the most samples kept per path for the figure and the
	// outlier-resistant fit; the least-squares fit and the bins use every
	// sample. Zero means DefaultMaxPoints.
	MaxPoints int
	// MaxPaths is the most paths (source, requester, responder) tracked;
	// samples of further paths are counted in Report.DroppedPaths. Zero
	// means DefaultMaxPaths.
	MaxPaths int
	// LineSpeeds are the rates of the store-and-forward links a
	// packet crosses in each direction (for Meek et al., the access lines
	// at both ends); they give PathFit.EstimatedSlopeUsPerByte. See
	// EstimatedSlope.
	LineSpeeds []units.BitRate
}

func (c FitConfig) binWidth() int {
	if c.BinWidth <= 0 {
		return DefaultBinWidth
	}
	return c.BinWidth
}

func (c FitConfig) maxPoints() int {
	if c.MaxPoints <= 0 {
		return DefaultMaxPoints
	}
	return c.MaxPoints
}

func (c FitConfig) maxPaths() int {
	if c.MaxPaths <= 0 {
		return DefaultMaxPaths
	}
	return c.MaxPaths
}

// PathFit is the RTT-versus-size analysis of one path: the samples from one
// source between a requester (the sender of the echo request or of the
// TCP data) and a responder. It is one row of a Table-1 style report.
type PathFit struct {
	Source Source     `json:"source"`
	Src    netip.Addr `json:"src"`
	Dst    netip.Addr `json:"dst"`
	Size   SizeBasis  `json:"size_basis"`
	// Samples counts the RTT samples of the path; ICMP, ICMPv6 and UDP
	// count the echo samples by protocol.
	Samples int `json:"samples"`
	ICMP    int `json:"icmp,omitempty"`
	ICMPv6  int `json:"icmpv6,omitempty"`
	UDP     int `json:"udp,omitempty"`
	// Echoes counts the path's echo requests by outcome (echo paths only).
	Echoes  *PathEchoes `json:"echoes,omitempty"`
	SizeMin int         `json:"size_min"`
	SizeMax int         `json:"size_max"`
	// RTTMin and RTTMax bound the samples' RTTs.
	RTTMin time.Duration `json:"rtt_min_ms"`
	RTTMax time.Duration `json:"rtt_max_ms"`
	// Fit is the least-squares line over every sample (MaxResid over
	// the kept points only when some were dropped).
	Fit Line `json:"fit"`
	// Robust is the Theil–Sen line over the kept points.
	Robust Line `json:"robust"`
	// MinFit is the least-squares line through the per-bin minima.
	MinFit Line `json:"min_fit"`
	// EstimatedSlopeUsPerByte is the slope predicted by
	// FitConfig.LineSpeeds (0 when none were given), the "estimated"
	// column of Meek et al.'s Table 1; EstimatedSPerBit the same in
	// seconds per bit.
	EstimatedSlopeUsPerByte float64 `json:"estimated_slope_us_per_byte,omitempty"`
	EstimatedSPerBit        float64 `json:"estimated_slope_s_per_bit,omitempty"`
	// Bins lists the non-empty size bins in increasing size.
	Bins []Bin `json:"bins"`
	// Points are the samples kept (the first FitConfig.MaxPoints), in
	// capture order, for a scatter plot; PointsDropped counts the rest.
	Points        []Point `json:"points,omitempty"`
	PointsDropped int     `json:"points_dropped"`
	// PointTimes holds when each of Points ended (the echo reply, the
	// ACK), in the same order.
	PointTimes []time.Time `json:"point_times,omitempty"`
}

// MarshalJSON writes the fit with its RTTs in milliseconds.
func (f PathFit) MarshalJSON() ([]byte, error) { return units.MarshalJSON(f) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (f PathFit) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, f) }

// UnmarshalJSON reads what MarshalJSON writes.
func (f *PathFit) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, f) }

// RTTSamples returns the kept points as RTT samples over time, dated by
// the packet that ended them, all of direction ClientToServer (the
// requester's): an RTT figure's marks.
func (p *PathFit) RTTSamples() series.RTTSamples {
	out := make(series.RTTSamples, 0, len(p.Points))
	for i, pt := range p.Points {
		if i < len(p.PointTimes) {
			out = append(out, series.RTTSample{Time: p.PointTimes[i], RTT: pt.RTT})
		}
	}
	return out
}

// Lines returns the path's fitted lines that are determined, named as in
// a figure's legend: "least squares" (Fit), "through per-bin minima"
// (MinFit) and "Theil–Sen" (Robust), in that order.
func (p *PathFit) Lines() NamedLines {
	var out NamedLines
	for _, l := range []NamedLine{{"least squares", p.Fit}, {"through per-bin minima", p.MinFit}, {"Theil–Sen", p.Robust}} {
		if l.Line.OK {
			out = append(out, l)
		}
	}
	return out
}

// FigurePath returns the first path whose samples determine a line and
// that kept at least two points: the one an RTT-versus-size figure of the
// report draws. It returns nil when there is none.
func (r *Report) FigurePath() *PathFit {
	for i := range r.Paths {
		if p := &r.Paths[i]; p.Fit.OK && len(p.Points) >= 2 {
			return p
		}
	}
	return nil
}

// PathEchoes counts the echo requests of one path by outcome: a path
// whose every request was lost still appears, with no samples.
type PathEchoes struct {
	Requests  int `json:"requests"`
	Matched   int `json:"matched"`
	Lost      int `json:"lost"`
	Late      int `json:"late"`
	Corrupted int `json:"corrupted"`
	Errored   int `json:"errored"`
}

type pathKey struct {
	src      Source
	from, to netip.Addr
}

// pathAcc accumulates the samples of one path.
type pathAcc struct {
	key     pathKey
	first   uint64 // capture index of the packet that made the path
	echo    PathEchoes
	kinds   [numEchoKinds]int
	ols     olsAcc
	bins    []Bin    // indexed by size / width
	binIdx  []uint64 // capture index of each bin's smallest sample
	points  []Point
	times   []time.Time // when each point's sample ended
	index   []uint64    // capture index of each point's packet
	dropped int
	sizeMin int
	sizeMax int
	rttMin  time.Duration
	rttMax  time.Duration
}

// pathSet holds the paths in first-seen order.
type pathSet struct {
	cfg     FitConfig
	echoMin *series.MinAcc // echo samples' minimum per interval
	index   map[pathKey]int
	paths   []*pathAcc
	dropped uint64 // samples of paths beyond MaxPaths
}

func newPathSet(cfg FitConfig, minInterval time.Duration) *pathSet {
	return &pathSet{cfg: cfg, index: make(map[pathKey]int), echoMin: series.NewMinAcc(minInterval, DefaultMinBins)}
}

// maxBinSize bounds the sizes binned: nothing larger than an IPv6
// jumbogram-free packet plus framing exists; larger sizes share the last bin.
const maxBinSize = 1 << 17

// slot returns the index of path k, adding it if there is room (made by
// the packet of capture index index), or -1.
func (s *pathSet) slot(k pathKey, index uint64) int {
	if i, ok := s.index[k]; ok {
		return i
	}
	if len(s.paths) >= s.cfg.maxPaths() {
		return -1
	}
	i := len(s.paths)
	s.index[k] = i
	s.paths = append(s.paths, &pathAcc{key: k, first: index, sizeMin: math.MaxInt, rttMin: math.MaxInt64})
	return i
}

// add records one RTT sample of path k, taken at time at by the packet
// of the given capture index.
func (s *pathSet) add(k pathKey, kind EchoKind, size int, rtt time.Duration, at time.Time, index uint64) {
	s.addAt(s.slot(k, index), kind, size, rtt, at, index)
}

// addAt records one RTT sample of the path at index i (-1: no room).
func (s *pathSet) addAt(i int, kind EchoKind, size int, rtt time.Duration, at time.Time, index uint64) {
	if i < 0 {
		s.dropped++
		return
	}
	p := s.paths[i]
	if p.key.src == SourceEcho {
		s.echoMin.Add(at, rtt)
	}
	size = min(max(size, 0), maxBinSize)
	p.kinds[kind]++
	p.ols.add(size, rtt)
	p.sizeMin, p.sizeMax = min(p.sizeMin, size), max(p.sizeMax, size)
	p.rttMin, p.rttMax = min(p.rttMin, rtt), max(p.rttMax, rtt)
	w := s.cfg.binWidth()
	b := size / w
	for len(p.bins) <= b {
		lo := len(p.bins) * w
		p.bins = append(p.bins, Bin{Lo: lo, Hi: lo + w})
		p.binIdx = append(p.binIdx, 0)
	}
	bin := &p.bins[b]
	if bin.Count == 0 || rtt < bin.MinRTT {
		bin.MinRTT, bin.MinSize, p.binIdx[b] = rtt, size, index
	}
	bin.Count++
	if len(p.points) < s.cfg.maxPoints() {
		p.points = append(p.points, Point{Size: size, RTT: rtt})
		p.times = append(p.times, at)
		p.index = append(p.index, index)
	} else {
		p.dropped++
	}
}

// echoCount returns the echo counters of the path at index i, or nil.
func (s *pathSet) echoCount(i int32) *PathEchoes {
	if i < 0 || int(i) >= len(s.paths) {
		return nil
	}
	return &s.paths[i].echo
}

// fits returns the analysis of every path in first-seen order.
func (s *pathSet) fits() []PathFit {
	est := EstimatedSlope(s.cfg.LineSpeeds)
	out := make([]PathFit, 0, len(s.paths))
	for _, p := range s.paths {
		f := PathFit{
			Source: p.key.src, Src: p.key.from, Dst: p.key.to, Size: s.cfg.Size,
			Samples: p.ols.n, ICMP: p.kinds[EchoICMP], ICMPv6: p.kinds[EchoICMPv6], UDP: p.kinds[EchoUDP],
			Points: p.points, PointsDropped: p.dropped, PointTimes: p.times,
		}
		if p.ols.n > 0 {
			f.SizeMin, f.SizeMax, f.RTTMin, f.RTTMax = p.sizeMin, p.sizeMax, p.rttMin, p.rttMax
		}
		if p.key.src == SourceEcho {
			e := p.echo
			f.Echoes = &e
		}
		var icpt float64
		f.Fit, icpt = p.ols.line()
		if f.Fit.OK {
			ml := f.Fit
			ml.residuals(p.points, icpt)
			f.Fit.MaxResid = ml.MaxResid
			if p.dropped == 0 {
				f.Fit.RMSResid = ml.RMSResid // same value, computed directly
			}
		}
		f.Robust = TheilSen(p.points)
		var mins []Point
		for _, b := range p.bins {
			if b.Count > 0 {
				f.Bins = append(f.Bins, b)
				mins = append(mins, Point{Size: b.MinSize, RTT: b.MinRTT})
			}
		}
		f.MinFit = OLS(mins)
		if est > 0 {
			f.EstimatedSlopeUsPerByte = est * 1e6
			f.EstimatedSPerBit = est / 8
		}
		out = append(out, f)
	}
	return out
}

// UnmarshalText reads a Source by name.
func (s *Source) UnmarshalText(b []byte) error {
	switch string(b) {
	case "echo":
		*s = SourceEcho
	case "tcp":
		*s = SourceTCP
	default:
		return fmt.Errorf("unknown source %q", b)
	}
	return nil
}

// UnmarshalText reads a SizeBasis by name.
func (b *SizeBasis) UnmarshalText(t []byte) error {
	for i, n := range sizeNames {
		if n == string(t) {
			*b = SizeBasis(i)
			return nil
		}
	}
	return fmt.Errorf("unknown size basis %q", t)
}
