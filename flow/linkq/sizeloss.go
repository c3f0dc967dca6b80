package linkq

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"

	"github.com/netecology/netecology/flow"
)

// Defaults for a zero LossConfig.
const (
	// DefaultLossBinWidth is the width of the size bins of the loss by
	// size, in bytes: the lab emulator counts frames per 100-byte bin of
	// IP length, so that the two compare bin for bin, and a 200-echo
	// sweep over 0..1500 bytes puts about 13 echoes in each.
	DefaultLossBinWidth = 100
	// DefaultLossAlpha is the significance level of the size-dependent
	// loss and duplex tests.
	DefaultLossAlpha = 0.001
	// DefaultLossMinStep is the smallest difference of loss rates (0.02:
	// two percentage points) the size test flags as a failure.
	DefaultLossMinStep = 0.02
)

// SizeLossTestName describes the test behind SizeTest.PValue.
const SizeLossTestName = "one-sided Fisher exact test of the loss at and above each split between size bins " +
	"against the loss below it; p-value of the best split times the number of splits (Bonferroni)"

// LossConfig shapes the loss-by-size report and its test. Its zero value
// is usable.
type LossConfig struct {
	// BinWidth is the width in bytes of the size bins (sizes as
	// FitConfig.Size measures them). Zero means DefaultLossBinWidth.
	BinWidth int
	// Alpha is the level the test's adjusted p-value must fall below for
	// a size-dependent loss to be flagged. Zero means DefaultLossAlpha.
	Alpha float64
	// MinStep is the smallest rise in loss rate above the split that is
	// flagged as a failure; a significant smaller rise is a warning.
	// Zero means DefaultLossMinStep.
	MinStep float64
}

func (c LossConfig) binWidth() int {
	if c.BinWidth <= 0 {
		return DefaultLossBinWidth
	}
	return c.BinWidth
}

func (c LossConfig) alpha() float64 {
	if c.Alpha <= 0 {
		return DefaultLossAlpha
	}
	return c.Alpha
}

func (c LossConfig) minStep() float64 {
	if c.MinStep <= 0 {
		return DefaultLossMinStep
	}
	return c.MinStep
}

// LossBin counts the packets of one size bin [Lo, Hi): how many were sent
// and how many of them were lost.
type LossBin struct {
	Lo       int     `json:"lo"`
	Hi       int     `json:"hi"`
	Sent     uint64  `json:"sent"`
	Lost     uint64  `json:"lost"`
	LossRate float64 `json:"loss_rate"`
}

// SizeLoss is the loss by packet size of one path, and the test of
// whether it depends on the size (Meek et al.'s router whose 966-byte
// buffer dropped every other larger packet, which only a per-size view
// showed).
//
// For echoes (Source "echo") a request is sent when it ends as matched,
// lost, late or corrupted, and lost when no reply came (EchoStats.Lost);
// requests answered by an ICMP error are left out. For TCP (Source "tcp",
// Src the data sender) every data segment is sent, retransmissions
// included, and a retransmission — data ending at or before the highest
// byte already seen, as TCPStats.Retransmitted counts it — is lost: it
// stands for an earlier copy that was, in the same size bin when the
// sender did not repacketize. Retransmissions later shown needless are
// not taken off.
type SizeLoss struct {
	Source Source     `json:"source"`
	Src    netip.Addr `json:"src"`
	Dst    netip.Addr `json:"dst"`
	// Size is what the bins measure, BinWidth their width in bytes.
	Size     SizeBasis `json:"size_basis"`
	BinWidth int       `json:"bin_width"`
	// Sent and Lost are the totals over the bins.
	Sent uint64 `json:"sent"`
	Lost uint64 `json:"lost"`
	// LossBySize lists the non-empty bins in increasing size.
	LossBySize []LossBin `json:"loss_by_size"`
	// SizeDependentLoss is the test's verdict.
	SizeDependentLoss SizeTest `json:"size_dependent_loss"`
}

// SizeTest is the verdict on size-dependent loss: the split between two
// size bins that best separates a low loss below from a higher loss at
// and above it, and how sure that is.
//
// The test (SizeLossTestName): for each of the Splits boundaries between
// consecutive non-empty bins, Fisher's exact test, one-sided, of the loss
// at and above the boundary against the loss below it, on the 2×2 table
// of packets sent and lost; the boundary with the smallest p-value is
// Split, and PValue is that p-value times Splits (Bonferroni's bound for
// having tried them all), at most 1. Fisher's test is exact for the
// small counts of an echo sweep and makes no assumption on the loss
// rate; under loss that does not depend on size (Bernoulli loss) PValue
// falls below Alpha with probability at most Alpha.
//
// Level is Fail when PValue < Alpha and Step ≥ MinStep (see LossConfig),
// Warning when PValue < Alpha with a smaller step, Pass otherwise, and
// Info when fewer than two bins hold packets (nothing to compare).
type SizeTest struct {
	Level Level  `json:"level"`
	Test  string `json:"test"`
	// Split is the first size (bytes) of the upper part: the lower edge
	// of the first bin above the boundary; zero when not tested.
	Split int `json:"split"`
	// Splits is the number of boundaries tried.
	Splits int `json:"splits"`
	// SentBelow, LostBelow, SentAbove and LostAbove are the two parts'
	// counts; LossBelow and LossAbove their loss rates and Step =
	// LossAbove - LossBelow.
	SentBelow uint64  `json:"sent_below"`
	LostBelow uint64  `json:"lost_below"`
	SentAbove uint64  `json:"sent_above"`
	LostAbove uint64  `json:"lost_above"`
	LossBelow float64 `json:"loss_below"`
	LossAbove float64 `json:"loss_above"`
	Step      float64 `json:"step"`
	// PValue is the Bonferroni-adjusted p-value; Alpha the level it was
	// held to.
	PValue  float64 `json:"p_value"`
	Alpha   float64 `json:"alpha"`
	Message string  `json:"message"`
	Action  string  `json:"action,omitempty"`
}

// sizePath accumulates one path's packets by size bin.
type sizePath struct {
	key   pathKey
	first uint64    // capture index of the packet that made the path
	bins  []LossBin // indexed by size / width
}

// sizeLossAcc holds the paths' loss by size in first-seen order.
type sizeLossAcc struct {
	cfg      LossConfig
	maxPaths int
	index    map[pathKey]int
	paths    []*sizePath
	dropped  uint64
}

func newSizeLossAcc(cfg LossConfig, maxPaths int) *sizeLossAcc {
	return &sizeLossAcc{cfg: cfg, maxPaths: maxPaths, index: make(map[pathKey]int)}
}

// slot returns the index of path k, adding it (made by packet index) if
// there is room, or -1.
func (s *sizeLossAcc) slot(k pathKey, index uint64) int32 {
	if i, ok := s.index[k]; ok {
		return int32(i)
	}
	if len(s.paths) >= s.maxPaths {
		return -1
	}
	s.index[k] = len(s.paths)
	s.paths = append(s.paths, &sizePath{key: k, first: index})
	return int32(len(s.paths) - 1)
}

// count adds one packet of the given size to path i (-1: no room).
func (s *sizeLossAcc) count(i int32, size int, lost bool) {
	if i < 0 || int(i) >= len(s.paths) {
		s.dropped++
		return
	}
	p := s.paths[i]
	w := s.cfg.binWidth()
	b := min(max(size, 0), maxBinSize) / w
	for len(p.bins) <= b {
		lo := len(p.bins) * w
		p.bins = append(p.bins, LossBin{Lo: lo, Hi: lo + w})
	}
	p.bins[b].Sent++
	if lost {
		p.bins[b].Lost++
	}
}

// tcp counts a TCP data segment on its path (sender to receiver): before
// holds the TCP counters before the tracker saw p, which tell whether p
// carried data and whether it was a retransmission.
func (s *sizeLossAcc) tcp(p *flow.PacketInfo, basis SizeBasis, before, after TCPStats) {
	if after.DataSegments == before.DataSegments {
		return
	}
	s.count(s.slot(pathKey{SourceTCP, p.Src, p.Dst}, p.Index), sizeOf(basis, p, p.Seg.Len), after.Retransmitted > before.Retransmitted)
}

// merge adds the paths of o (a fork's): a path both have gets the
// packets of both.
func (s *sizeLossAcc) merge(o *sizeLossAcc) {
	s.dropped += o.dropped
	for _, q := range o.paths {
		i, ok := s.index[q.key]
		if !ok {
			i = len(s.paths)
			s.index[q.key] = i
			s.paths = append(s.paths, &sizePath{key: q.key, first: q.first})
		}
		p := s.paths[i]
		p.first = min(p.first, q.first)
		for len(p.bins) < len(q.bins) {
			p.bins = append(p.bins, LossBin{Lo: q.bins[len(p.bins)].Lo, Hi: q.bins[len(p.bins)].Hi})
		}
		for j, b := range q.bins {
			p.bins[j].Sent += b.Sent
			p.bins[j].Lost += b.Lost
		}
	}
}

// sort puts the paths in the order their first packet came, within the
// path limit.
func (s *sizeLossAcc) sort() {
	slices.SortStableFunc(s.paths, func(x, y *sizePath) int { return cmp.Compare(x.first, y.first) })
	if len(s.paths) > s.maxPaths {
		for _, p := range s.paths[s.maxPaths:] {
			for _, b := range p.bins {
				s.dropped += b.Sent
			}
		}
		s.paths = s.paths[:s.maxPaths]
	}
	clear(s.index)
	for i, p := range s.paths {
		s.index[p.key] = i
	}
}

// report returns the loss by size of every path with packets, in
// first-seen order.
func (s *sizeLossAcc) report(basis SizeBasis) []SizeLoss {
	out := make([]SizeLoss, 0, len(s.paths))
	for _, p := range s.paths {
		sl := SizeLoss{Source: p.key.src, Src: p.key.from, Dst: p.key.to, Size: basis, BinWidth: s.cfg.binWidth(),
			LossBySize: []LossBin{}}
		for _, b := range p.bins {
			if b.Sent == 0 {
				continue
			}
			b.LossRate = float64(b.Lost) / float64(b.Sent)
			sl.Sent += b.Sent
			sl.Lost += b.Lost
			sl.LossBySize = append(sl.LossBySize, b)
		}
		if sl.Sent == 0 {
			continue
		}
		sl.SizeDependentLoss = SizeDependence(sl.LossBySize, s.cfg)
		out = append(out, sl)
	}
	return out
}

// SizeDependence tests whether the loss in bins (non-empty, in increasing
// size) rises at some size: see SizeTest for the test and its levels.
func SizeDependence(bins []LossBin, cfg LossConfig) SizeTest {
	st := SizeTest{Test: SizeLossTestName, Alpha: cfg.alpha(), PValue: 1}
	var sent, lost uint64
	for _, b := range bins {
		sent += b.Sent
		lost += b.Lost
	}
	if len(bins) < 2 {
		st.Level = Info
		st.Message = fmt.Sprintf("packets of one size bin only (%d sent, %d lost): loss against size not tested", sent, lost)
		return st
	}
	st.Splits = len(bins) - 1
	best := math.Inf(1)
	var sb, lb uint64 // sent and lost below the boundary
	for k := 1; k < len(bins); k++ {
		sb += bins[k-1].Sent
		lb += bins[k-1].Lost
		p := fisherUpper(sent, lost, sent-sb, lost-lb)
		if p < best {
			best = p
			st.Split = bins[k].Lo
			st.SentBelow, st.LostBelow, st.SentAbove, st.LostAbove = sb, lb, sent-sb, lost-lb
		}
	}
	st.LossBelow = rate(st.LostBelow, st.SentBelow)
	st.LossAbove = rate(st.LostAbove, st.SentAbove)
	st.Step = st.LossAbove - st.LossBelow
	st.PValue = min(1, best*float64(st.Splits))
	st.judge(cfg.minStep())
	return st
}

func rate(lost, sent uint64) float64 {
	if sent == 0 {
		return 0
	}
	return float64(lost) / float64(sent)
}

// judge sets the level, message and action from the test's figures.
func (st *SizeTest) judge(minStep float64) {
	what := fmt.Sprintf("loss %.1f%% (%d of %d) from %d bytes up against %.1f%% (%d of %d) below (p = %.2g, %d splits tried)",
		100*st.LossAbove, st.LostAbove, st.SentAbove, st.Split, 100*st.LossBelow, st.LostBelow, st.SentBelow, st.PValue, st.Splits)
	switch {
	case st.LostAbove+st.LostBelow == 0:
		st.Level = Pass
		st.Message = fmt.Sprintf("no loss in %d packets of any size", st.SentAbove+st.SentBelow)
	case st.PValue >= st.Alpha:
		st.Level = Pass
		st.Message = "no size-dependent loss: at the best split, " + what
	case st.Step >= minStep:
		st.Level = Fail
		st.Message = fmt.Sprintf("size-dependent loss: %s, a step of %.1f points", what, 100*st.Step)
		st.Action = fmt.Sprintf("find what drops packets of %d bytes and more on this path (a buffer too small for them, "+
			"as Meek et al.'s 966-byte router buffer; an MTU or fragmentation fault); confirm with echoes just below and above that size",
			st.Split)
	default:
		st.Level = Warning
		st.Message = fmt.Sprintf("slightly size-dependent loss: %s, a step of only %.2f points", what, 100*st.Step)
		st.Action = fmt.Sprintf("watch the loss of packets of %d bytes and more on this path; larger packets lose more", st.Split)
	}
}
