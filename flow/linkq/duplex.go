package linkq

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// Defaults for a zero DuplexConfig.
const (
	// DefaultDuplexSlot is the slot length: long enough to hold frames
	// of both directions at a busy moment (eight full frames at 10
	// Mbit/s), short against an application's one-way phases.
	DefaultDuplexSlot = 10 * time.Millisecond
	// DefaultDuplexPairs is the most host pairs the duplex check tracks.
	DefaultDuplexPairs = 256
	// DefaultDuplexSlots is the most slots with data remembered, all
	// pairs together (24 bytes each: 24 MiB; 2.9 hours of 10 ms slots
	// busy without a break).
	DefaultDuplexSlots = 1 << 20
	// DuplexConcentration is how many times higher the loss rate while
	// both directions carry data must be than the one-way rate for a
	// significant difference to fail the check.
	DuplexConcentration = 4
)

// duplexTimes is the number of packets whose capture times are kept, to
// place a loss at the packet tcpstate's label refers to (512 KiB).
const duplexTimes = 1 << 16

// DuplexTestName describes the test behind DuplexReport.PValue.
const DuplexTestName = "one-sided Fisher exact test of the loss rate of data frames sent while both directions carried data " +
	"against the rate of those sent while one direction did"

// DuplexAction is what a failed or warning duplex check asks for.
const DuplexAction = "check the duplex settings of the NIC and the switch port"

// DuplexConfig shapes the duplex-mismatch check. Its zero value is
// usable.
type DuplexConfig struct {
	// Slot is the length of the time slots a pair's traffic is cut
	// into; a slot is two-way when both directions sent data in it.
	// Zero means DefaultDuplexSlot.
	Slot time.Duration
	// MaxPairs is the most host pairs checked; further pairs' frames
	// are not counted. Zero means DefaultDuplexPairs.
	MaxPairs int
	// MaxSlots is the most slots with data remembered, all pairs
	// together; frames in further slots are counted in
	// DuplexReport.Unjudged and not judged. Zero means
	// DefaultDuplexSlots.
	MaxSlots int
	// Alpha is the level the test's p-value must fall below. Zero means
	// DefaultLossAlpha.
	Alpha float64
}

func (c DuplexConfig) slot() time.Duration {
	if c.Slot <= 0 {
		return DefaultDuplexSlot
	}
	return c.Slot
}

func (c DuplexConfig) alpha() float64 {
	if c.Alpha <= 0 {
		return DefaultLossAlpha
	}
	return c.Alpha
}

func (c DuplexConfig) maxPairs() int {
	if c.MaxPairs <= 0 {
		return DefaultDuplexPairs
	}
	return c.MaxPairs
}

func (c DuplexConfig) maxSlots() int {
	if c.MaxSlots <= 0 {
		return DefaultDuplexSlots
	}
	return c.MaxSlots
}

// DuplexReport is the duplex-mismatch check of one host pair: a side
// running half duplex against a full-duplex peer loses frames only while
// both directions send (collisions, late collisions, CRC errors on the
// full-duplex side), so its losses crowd into the moments when both
// directions carry data and spare the one-way phases.
//
// The pair's time is cut into slots of DuplexConfig.Slot: two-way when
// both directions sent data frames in it, one-way when one did. A data
// frame is a TCP segment with payload or any other IP packet (UDP, ICMP
// echoes); pure ACKs are not. A loss is a data frame known lost, placed
// in the slot in which the lost frame was sent: for TCP, a retransmission
// by tcpstate's labels (retransmission or fast retransmission, not
// spurious), placed at the packet the label refers to — the earlier copy
// of its bytes; when the capture never saw one (the frame was lost before
// the capture point), the sender's latest new segment; for a fast
// retransmission, the ACK its duplicate ACKs repeat, sent as the frame
// before the lost one arrived — so a loss is placed to within about a
// round trip, which matters only at the edges of a phase; for echoes, a
// request never answered, placed at the request.
//
// The check compares the two loss rates with DuplexTestName: Fail when
// the p-value is below Alpha and the two-way rate is at least
// DuplexConcentration times the one-way rate, Warning when it is below
// Alpha without that concentration, Pass otherwise, and Info when one of
// the classes carried no data frame (nothing to compare). Congestion can
// raise the loss of busy moments too; a duplex fault spares one-way
// phases however busy.
type DuplexReport struct {
	// A is the sender of the pair's first data frame (the first by
	// capture index).
	A    netip.Addr    `json:"a"`
	B    netip.Addr    `json:"b"`
	Slot time.Duration `json:"slot_ms"`
	// TwoWaySlots and OneWaySlots count the slots of each class.
	TwoWaySlots uint64 `json:"two_way_slots"`
	OneWaySlots uint64 `json:"one_way_slots"`
	// TwoWayFrames and OneWayFrames count the data frames sent in slots
	// of each class, TwoWayLost and OneWayLost the losses placed there.
	TwoWayFrames uint64 `json:"two_way_frames"`
	OneWayFrames uint64 `json:"one_way_frames"`
	TwoWayLost   uint64 `json:"two_way_lost"`
	OneWayLost   uint64 `json:"one_way_lost"`
	// Unplaced counts losses placed in a slot with no data frame
	// remembered (beyond DuplexConfig.MaxSlots); Unjudged the data frames
	// of slots beyond it.
	Unplaced uint64 `json:"unplaced"`
	Unjudged uint64 `json:"unjudged"`
	// TwoWayLoss and OneWayLoss are the loss rates.
	TwoWayLoss float64 `json:"two_way_loss"`
	OneWayLoss float64 `json:"one_way_loss"`
	Test       string  `json:"test"`
	PValue     float64 `json:"p_value"`
	// Check is the verdict, as a connection's verdict repeats it.
	Check Check `json:"check"`
}

// MarshalJSON writes the report with its slot in milliseconds.
func (r DuplexReport) MarshalJSON() ([]byte, error) { return units.MarshalJSON(r) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (r DuplexReport) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, r) }

// UnmarshalJSON reads what MarshalJSON writes.
func (r *DuplexReport) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, r) }

// slotRec is what one slot of a pair held: data frames by direction (0:
// from the pair's lower address) and the losses placed in it.
type slotRec struct {
	slot int64
	n    [2]uint32
	lost uint32
}

// duplexPair accumulates one host pair: its slots with data, in time
// order.
type duplexPair struct {
	key      [2]netip.Addr // lower address first
	a        netip.Addr    // sender of the first data frame
	first    uint64        // its capture index
	recs     []slotRec
	unplaced uint64
	unjudged uint64
}

// duplexAcc holds the pairs. Every Analyzer of a parallel pass has one;
// Merge puts the forks' slots together, so that the slots are judged
// with the frames of every connection of the pair whatever their shard.
type duplexAcc struct {
	cfg     DuplexConfig
	slotNs  int64
	index   map[[2]netip.Addr]int
	pairs   []*duplexPair
	slots   int     // records held, all pairs
	times   []int64 // capture times of the last duplexTimes packets seen, by index
	lastIdx uint64
}

func newDuplexAcc(cfg DuplexConfig) *duplexAcc {
	return &duplexAcc{cfg: cfg, slotNs: int64(cfg.slot()), index: make(map[[2]netip.Addr]int)}
}

func pairKey(x, y netip.Addr) [2]netip.Addr {
	if x.Compare(y) > 0 {
		return [2]netip.Addr{y, x}
	}
	return [2]netip.Addr{x, y}
}

// pair returns the pair of src and dst and the direction from src (0
// when src is the lower address), adding the pair — its first data frame
// the packet of index idx — if create is set and there is room; nil if
// none.
func (d *duplexAcc) pair(src, dst netip.Addr, idx uint64, create bool) (*duplexPair, int) {
	k := pairKey(src, dst)
	dir := 0
	if src != k[0] {
		dir = 1
	}
	i, ok := d.index[k]
	if !ok {
		if !create || len(d.pairs) >= d.cfg.maxPairs() {
			return nil, dir
		}
		i = len(d.pairs)
		d.index[k] = i
		d.pairs = append(d.pairs, &duplexPair{key: k, a: src, first: idx})
	}
	return d.pairs[i], dir
}

// carriesData reports whether p is a data frame for the check: a TCP
// segment with payload, or any IP packet of another protocol.
func carriesData(p *flow.PacketInfo) bool {
	if p.Seg != nil {
		return p.Seg.Len > 0 && !p.Seg.Flags.Has(tcpstate.RST)
	}
	return p.Kind != flow.KindTCP && p.Skip == flow.SkipNone
}

// add counts packet p and, for a TCP retransmission of lost data, the
// loss.
func (d *duplexAcc) add(p *flow.PacketInfo) {
	d.note(p.Index, p.Time)
	if !p.Src.IsValid() || !p.Dst.IsValid() || !carriesData(p) {
		return
	}
	pr, dir := d.pair(p.Src, p.Dst, p.Index, true)
	if pr == nil {
		return
	}
	if r := d.rec(pr, d.slotOf(p.Time), true); r != nil {
		r.n[dir]++
	} else {
		pr.unjudged++
	}
	an := p.Analysis
	if an == nil || p.Conn == nil || !lostData(an.Labels) {
		return
	}
	d.place(pr, d.slotOf(d.lostAt(p, an)))
}

// rec returns the record of slot s of pr, adding it when create is set
// and the slot limit allows; nil if none. Slots come in time order but
// for clocks stepping back and losses found later, which a binary search
// finds.
func (d *duplexAcc) rec(pr *duplexPair, s int64, create bool) *slotRec {
	n := len(pr.recs)
	if n > 0 && pr.recs[n-1].slot == s {
		return &pr.recs[n-1]
	}
	i := n
	if n > 0 && s < pr.recs[n-1].slot {
		i = sort.Search(n, func(j int) bool { return pr.recs[j].slot >= s })
		if i < n && pr.recs[i].slot == s {
			return &pr.recs[i]
		}
	}
	if !create || d.slots >= d.cfg.maxSlots() {
		return nil
	}
	d.slots++
	pr.recs = slices.Insert(pr.recs, i, slotRec{slot: s})
	return &pr.recs[i]
}

// place counts a loss of a frame sent in slot s.
func (d *duplexAcc) place(pr *duplexPair, s int64) {
	if r := d.rec(pr, s, false); r != nil {
		r.lost++
		return
	}
	pr.unplaced++
}

// lostData reports whether a segment with these labels resends data that
// was lost: a retransmission or fast retransmission, not a spurious one,
// a keep-alive or a zero-window probe.
func lostData(ls tcpstate.Labels) bool {
	if ls.Has(tcpstate.SpuriousRetransmission) || ls.Has(tcpstate.KeepAlive) || ls.Has(tcpstate.ZeroWindowProbe) {
		return false
	}
	return ls.Has(tcpstate.Retransmission) || ls.Has(tcpstate.FastRetransmission)
}

// lostAt returns when the frame the retransmission p replaces was sent,
// from the packet tcpstate's label refers to: for a retransmission, the
// earlier copy of its bytes when tcpstate remembers one, else the
// segment that last advanced the sender's highest byte (a hole the
// capture never saw filled: the frame was lost before the capture
// point); for a fast retransmission, the ACK the duplicate ACKs repeat,
// sent as the frame before the lost one arrived. p's own time when the
// packet is older than the times remembered.
func (d *duplexAcc) lostAt(p *flow.PacketInfo, an *tcpstate.Analysis) time.Time {
	ref := an.Ref[tcpstate.Retransmission]
	if an.Labels.Has(tcpstate.FastRetransmission) {
		ref = an.Ref[tcpstate.FastRetransmission]
	}
	if t, ok := d.timeOf(ref); ok {
		return t
	}
	return p.Time
}

// note remembers the capture time of packet idx.
func (d *duplexAcc) note(idx uint64, t time.Time) {
	if d.times == nil {
		d.times = make([]int64, duplexTimes)
	}
	d.times[idx%duplexTimes] = t.UnixNano()
	d.lastIdx = max(d.lastIdx, idx)
}

// timeOf returns the capture time of packet idx, when it is one of the
// last duplexTimes packets. In a fork the packets are those of its
// connections, whose labels refer to their own packets.
func (d *duplexAcc) timeOf(idx uint64) (time.Time, bool) {
	if idx == 0 || idx > d.lastIdx || d.lastIdx-idx >= duplexTimes || d.times == nil {
		return time.Time{}, false
	}
	return time.Unix(0, d.times[idx%duplexTimes]), true
}

// echoEnd places an echo request from src to dst sent at t that was lost.
func (d *duplexAcc) echoEnd(src, dst netip.Addr, t time.Time, lost bool) {
	if !lost {
		return
	}
	if pr, _ := d.pair(src, dst, 0, false); pr != nil {
		d.place(pr, d.slotOf(t))
	}
}

func (d *duplexAcc) slotOf(t time.Time) int64 { return floorDiv(t.UnixNano(), d.slotNs) }

// merge adds the pairs of o (a fork's): the slots of a pair both have
// are put together, frames and losses adding up.
func (d *duplexAcc) merge(o *duplexAcc) {
	for _, q := range o.pairs {
		i, ok := d.index[q.key]
		if !ok {
			i = len(d.pairs)
			d.index[q.key] = i
			d.pairs = append(d.pairs, &duplexPair{key: q.key, a: q.a, first: q.first})
		}
		p := d.pairs[i]
		if q.first < p.first {
			p.a, p.first = q.a, q.first
		}
		p.unplaced += q.unplaced
		p.unjudged += q.unjudged
		p.recs = mergeRecs(p.recs, q.recs)
	}
}

// mergeRecs merges two lists of slot records in time order.
func mergeRecs(a, b []slotRec) []slotRec {
	if len(a) == 0 {
		return append(a, b...)
	}
	out := make([]slotRec, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].slot < b[j].slot:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].slot < a[i].slot:
			out = append(out, b[j])
			j++
		default:
			r := a[i]
			r.n[0] += b[j].n[0]
			r.n[1] += b[j].n[1]
			r.lost += b[j].lost
			out = append(out, r)
			i, j = i+1, j+1
		}
	}
	return out
}

// sort puts the pairs in the order their first data frame came, within
// the pair limit.
func (d *duplexAcc) sort() {
	slices.SortStableFunc(d.pairs, func(x, y *duplexPair) int { return cmp.Compare(x.first, y.first) })
	if n := d.cfg.maxPairs(); len(d.pairs) > n {
		d.pairs = d.pairs[:n]
	}
	clear(d.index)
	for i, p := range d.pairs {
		d.index[p.key] = i
	}
}

// report judges pair p over its slots.
func (d *duplexAcc) report(p *duplexPair) DuplexReport {
	b := p.key[1]
	if p.a == b {
		b = p.key[0]
	}
	r := DuplexReport{A: p.a, B: b, Slot: time.Duration(d.slotNs), Test: DuplexTestName, PValue: 1,
		Unplaced: p.unplaced, Unjudged: p.unjudged}
	for _, x := range p.recs {
		frames, lost := uint64(x.n[0])+uint64(x.n[1]), uint64(x.lost)
		switch {
		case x.n[0] > 0 && x.n[1] > 0:
			r.TwoWaySlots++
			r.TwoWayFrames += frames
			r.TwoWayLost += lost
		case frames > 0:
			r.OneWaySlots++
			r.OneWayFrames += frames
			r.OneWayLost += lost
		default:
			r.Unplaced += lost
		}
	}
	r.TwoWayLoss = rate(r.TwoWayLost, r.TwoWayFrames)
	r.OneWayLoss = rate(r.OneWayLost, r.OneWayFrames)
	r.judge(d.cfg.alpha())
	return r
}

// judge sets the check from the counts.
func (r *DuplexReport) judge(alpha float64) {
	ck := Check{Name: "duplex", Measured: r.TwoWayLoss, Limit: r.OneWayLoss}
	lost := r.TwoWayLost + r.OneWayLost
	frames := r.TwoWayFrames + r.OneWayFrames
	what := fmt.Sprintf("loss %.2f%% (%d of %d data frames) while both directions carried data, %.2f%% (%d of %d) while one did",
		100*r.TwoWayLoss, r.TwoWayLost, r.TwoWayFrames, 100*r.OneWayLoss, r.OneWayLost, r.OneWayFrames)
	if lost > 0 && r.TwoWayFrames > 0 && r.OneWayFrames > 0 {
		r.PValue = fisherUpper(frames, lost, r.TwoWayFrames, r.TwoWayLost)
		what += fmt.Sprintf(" (p = %.2g)", r.PValue)
	}
	switch {
	case lost == 0:
		ck.Level = Pass
		ck.Message = fmt.Sprintf("no loss of data frames (%d sent): no sign of a duplex mismatch", frames)
	case r.TwoWayFrames == 0 || r.OneWayFrames == 0:
		ck.Level = Info
		ck.Message = what + ": traffic of one kind only, duplex not judged"
	case r.PValue < alpha && r.TwoWayLoss >= DuplexConcentration*r.OneWayLoss:
		ck.Level = Fail
		ck.Message = "losses crowd into the moments both directions send, as on a half-duplex link facing a full-duplex one: " + what
		ck.Action = DuplexAction
	case r.PValue < alpha:
		ck.Level = Warning
		ck.Message = "more loss while both directions send (a duplex mismatch, or congestion when busy): " + what
		ck.Action = DuplexAction + " (and look for congestion when both directions are busy)"
	default:
		ck.Level = Pass
		ck.Message = "loss does not depend on traffic both ways: " + what
	}
	r.Check = ck
}

// reports returns the check of every pair, in the order their first
// data frame came.
func (d *duplexAcc) reports() []DuplexReport {
	d.sort()
	out := make([]DuplexReport, 0, len(d.pairs))
	for _, p := range d.pairs {
		out = append(out, d.report(p))
	}
	return out
}

// addDuplexChecks gives each verdict its host pair's duplex check, last,
// and its overall level again; the verdicts' check lists are copied, not
// changed.
func addDuplexChecks(vs []Verdict, dx []DuplexReport) {
	for i := range vs {
		v := &vs[i]
		k := pairKey(v.Client.Addr(), v.Server.Addr())
		for j := range dx {
			if pairKey(dx[j].A, dx[j].B) == k {
				v.Checks = append(slices.Clip(v.Checks), dx[j].Check)
				v.Overall = max(v.Overall, dx[j].Check.Level)
				break
			}
		}
	}
}
