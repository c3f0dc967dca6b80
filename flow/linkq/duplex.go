package linkq

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// Defaults for a zero DuplexConfig.
const (
	// DefaultDuplexSlot is the slot length: long enough to hold frames
	// of both directions at a busy moment (eight full frames at 10
	// Mbit/s), short against an application's one-way phases.
	DefaultDuplexSlot = 10 * time.Millisecond
	// DefaultDuplexPairs is the most host pairs the duplex check tracks
	// (each remembers the class of its last 65536 slots in 16 KiB).
	DefaultDuplexPairs = 256
	// DuplexConcentration is how many times higher the loss rate while
	// both directions carry data must be than the one-way rate for a
	// significant difference to fail the check.
	DuplexConcentration = 4
)

// duplexTimes is the number of packets whose capture times are kept, to
// place a loss at the packet tcpstate's label refers to (512 KiB).
const duplexTimes = 1 << 16

// duplexHorizon is the number of past slots whose class a pair
// remembers, for losses found after the frame was sent (a retransmission
// after a timeout, an echo found unanswered at the end of the capture):
// 11 minutes of 10 ms slots.
const duplexHorizon = 1 << 16

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
	// MaxPairs is the most host pairs checked; further pairs' packets
	// are counted in DroppedPackets. Zero means DefaultDuplexPairs.
	MaxPairs int
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
	// A is the sender of the pair's first data frame.
	A      netip.Addr `json:"a"`
	B      netip.Addr `json:"b"`
	SlotMs float64    `json:"slot_ms"`
	// TwoWaySlots and OneWaySlots count the slots of each class.
	TwoWaySlots uint64 `json:"two_way_slots"`
	OneWaySlots uint64 `json:"one_way_slots"`
	// TwoWayFrames and OneWayFrames count the data frames sent in slots
	// of each class, TwoWayLost and OneWayLost the losses placed there.
	TwoWayFrames uint64 `json:"two_way_frames"`
	OneWayFrames uint64 `json:"one_way_frames"`
	TwoWayLost   uint64 `json:"two_way_lost"`
	OneWayLost   uint64 `json:"one_way_lost"`
	// Unplaced counts losses whose frame was sent longer ago than the
	// slots remembered (65536 slots).
	Unplaced uint64 `json:"unplaced"`
	// TwoWayLoss and OneWayLoss are the loss rates.
	TwoWayLoss float64 `json:"two_way_loss"`
	OneWayLoss float64 `json:"one_way_loss"`
	Test       string  `json:"test"`
	PValue     float64 `json:"p_value"`
	// Check is the verdict, as a connection's verdict repeats it.
	Check Check `json:"check"`
}

// Slot classes.
const (
	slotIdle = iota
	slotOneWay
	slotTwoWay
)

// duplexPair accumulates one host pair.
type duplexPair struct {
	a, b    netip.Addr
	cur     int64 // the slot being filled
	started bool
	n       [2]uint64 // data frames of the current slot, by direction (0: from a)
	pend    uint64    // losses placed in the current slot
	classes []uint64  // two bits per past slot, a ring over duplexHorizon slots
	slots   [3]uint64 // by class
	frames  [3]uint64
	lost    [3]uint64
	unplace uint64
}

// duplexAcc holds the pairs in first-seen order.
type duplexAcc struct {
	cfg     DuplexConfig
	slotNs  int64
	index   map[[2]netip.Addr]int
	pairs   []*duplexPair
	dropped uint64
	times   []int64 // capture times of the last duplexTimes packets, by index
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

// pair returns the pair of src and dst and the direction from src, adding
// the pair if create is set and there is room; nil if none.
func (d *duplexAcc) pair(src, dst netip.Addr, create bool) (*duplexPair, int) {
	k := pairKey(src, dst)
	i, ok := d.index[k]
	if !ok {
		if !create {
			return nil, 0
		}
		maxPairs := d.cfg.MaxPairs
		if maxPairs <= 0 {
			maxPairs = DefaultDuplexPairs
		}
		if len(d.pairs) >= maxPairs {
			d.dropped++
			return nil, 0
		}
		i = len(d.pairs)
		d.index[k] = i
		d.pairs = append(d.pairs, &duplexPair{a: src, b: dst, classes: make([]uint64, duplexHorizon/32)})
	}
	p := d.pairs[i]
	if src == p.a {
		return p, 0
	}
	return p, 1
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
	pr, dir := d.pair(p.Src, p.Dst, true)
	if pr == nil {
		return
	}
	now := d.slotOf(p.Time)
	pr.advance(now)
	switch c := pr.class(now); {
	case c == -1:
		pr.n[dir]++
	case c >= 0:
		// time went backwards: the frame joins its past slot's class
		pr.frames[c]++
	}
	an := p.Analysis
	if an == nil || p.Conn == nil || !lostData(an.Labels) {
		return
	}
	pr.place(d.slotOf(d.lostAt(p, an)))
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
// last duplexTimes packets.
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
	if pr, _ := d.pair(src, dst, false); pr != nil {
		pr.place(d.slotOf(t))
	}
}

func (d *duplexAcc) slotOf(t time.Time) int64 { return floorDiv(t.UnixNano(), d.slotNs) }

// class returns the class of past slot s, or -1 for the current slot or
// a later one, or -2 for a slot older than the horizon.
func (p *duplexPair) class(s int64) int {
	switch {
	case !p.started || s >= p.cur:
		return -1
	case p.cur-s >= duplexHorizon:
		return -2
	}
	i := uint64(s) % duplexHorizon
	return int(p.classes[i/32] >> (2 * (i % 32)) & 3)
}

func (p *duplexPair) setClass(s int64, c int) {
	i := uint64(s) % duplexHorizon
	w := &p.classes[i/32]
	sh := 2 * (i % 32)
	*w = *w&^(3<<sh) | uint64(c)<<sh
}

// place counts a loss of a frame sent in slot s.
func (p *duplexPair) place(s int64) {
	switch c := p.class(s); {
	case c == -1: // the current slot (a later one cannot be: a loss is found after its frame)
		p.pend++
	case c == -2:
		p.unplace++
	default:
		p.lost[c]++
	}
}

// advance moves the current slot to s, closing the slots before it.
func (p *duplexPair) advance(s int64) {
	if !p.started {
		p.cur, p.started = s, true
		return
	}
	if s <= p.cur {
		return
	}
	p.finish()
	if s-p.cur > duplexHorizon {
		clear(p.classes)
	} else {
		for x := p.cur + 1; x < s; x++ {
			p.setClass(x, slotIdle)
		}
	}
	p.cur = s
}

// finish classifies the current slot and adds it to the totals.
func (p *duplexPair) finish() {
	c := slotIdle
	switch {
	case p.n[0] > 0 && p.n[1] > 0:
		c = slotTwoWay
	case p.n[0]+p.n[1] > 0:
		c = slotOneWay
	}
	p.setClass(p.cur, c)
	p.slots[c]++
	p.frames[c] += p.n[0] + p.n[1]
	if c == slotIdle {
		p.unplace += p.pend // a loss in a slot without data: cannot be placed
	} else {
		p.lost[c] += p.pend
	}
	p.n, p.pend = [2]uint64{}, 0
}

// report returns the pair's check; with final set, the current slot is
// closed first (the end of the capture), else its counts are left out.
func (d *duplexAcc) report(p *duplexPair, final bool) DuplexReport {
	if final && p.started {
		p.finish()
		p.n = [2]uint64{}
		p.started = false
	}
	r := DuplexReport{A: p.a, B: p.b, SlotMs: float64(d.slotNs) / 1e6, Test: DuplexTestName, PValue: 1,
		TwoWaySlots: p.slots[slotTwoWay], OneWaySlots: p.slots[slotOneWay],
		TwoWayFrames: p.frames[slotTwoWay], OneWayFrames: p.frames[slotOneWay],
		TwoWayLost: p.lost[slotTwoWay], OneWayLost: p.lost[slotOneWay], Unplaced: p.unplace}
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

// check returns, for the verdict of a connection between x and y, the
// duplex check of their pair so far; ok is false when the pair is not
// tracked.
func (d *duplexAcc) check(x, y netip.Addr) (Check, bool) {
	p, _ := d.pair(x, y, false)
	if p == nil {
		return Check{}, false
	}
	return d.report(p, false).Check, true
}

// reports returns the check of every pair, the capture over.
func (d *duplexAcc) reports() []DuplexReport {
	out := make([]DuplexReport, 0, len(d.pairs))
	for _, p := range d.pairs {
		out = append(out, d.report(p, true))
	}
	return out
}

// checkDuplex adds the duplex check of the connection's host pair to the
// verdict, when the pair is tracked.
func (v *Verdict) checkDuplex(dx *duplexAcc) {
	if dx == nil {
		return
	}
	if ck, ok := dx.check(v.Client.Addr(), v.Server.Addr()); ok {
		v.Checks = append(v.Checks, ck)
	}
}
