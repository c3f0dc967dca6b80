package tcpstate

import (
	"encoding/binary"
	"math"
	"slices"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// MaxRTTSamples bounds the samples a sampler keeps for its quantiles. Up
// to this many, the median and 95th percentile are exact; beyond it a
// deterministic reservoir (Vitter's algorithm R with a fixed-seed
// generator) keeps a uniform sample of them, so the quantiles are
// estimates whose rank error is about 1/sqrt(MaxRTTSamples) (±1.6 %
// of rank). Count, min and max are always exact.
const MaxRTTSamples = 4096

// RTTSummary is the distribution of a set of round-trip time samples, at
// microsecond resolution (JSON: milliseconds).
type RTTSummary struct {
	Samples uint64        `json:"samples"`
	Min     time.Duration `json:"min_ms"`
	Median  time.Duration `json:"median_ms"`
	P95     time.Duration `json:"p95_ms"`
	Max     time.Duration `json:"max_ms"`
}

// MarshalJSON writes the summary with its durations in milliseconds.
func (s RTTSummary) MarshalJSON() ([]byte, error) { return units.MarshalJSON(s) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (s RTTSummary) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, s) }

// UnmarshalJSON reads what MarshalJSON writes.
func (s *RTTSummary) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, s) }

// sampler collects RTT samples in bounded memory. The reservoir holds
// whole microseconds, all that a summary reports (ms): 4 bytes a sample
// (keep) until one exceeds 2^32-1 µs (71 minutes), 8 after (wide).
type sampler struct {
	n        uint64
	min, max time.Duration
	keep     []uint32 // reservoir in µs, at most MaxRTTSamples
	wide     []int64  // the reservoir in µs once a sample outgrew keep
	rnd      uint64
	// minWire: the wire lengths of the frames that timed the smallest
	// sample, the one timed and the one answering it (see addFrames).
	minWire [2]uint16
	// packed: keep holds the reservoir packed, as clip leaves a closed
	// connection's (see pack); add and summary unpack it.
	packed bool
}

// addFrames records one sample, timed from a frame of out wire bytes to
// its answer of back wire bytes, remembered when it is the smallest.
func (s *sampler) addFrames(d time.Duration, out, back uint16) {
	if s.add(d) {
		s.minWire = [2]uint16{out, back}
	}
}

// add records one sample, reporting whether it is the new smallest;
// negative samples are dropped (never reported).
func (s *sampler) add(d time.Duration) (smallest bool) {
	if d < 0 {
		return false
	}
	s.n++
	if s.n == 1 || d < s.min {
		s.min, smallest = d, true
	}
	if d > s.max {
		s.max = d
	}
	us := d.Microseconds()
	if s.packed {
		// a late sample of a closed connection (the ACK of its last FIN):
		// appended packed while the reservoir has room
		if int(s.keep[0]) < MaxRTTSamples && us <= math.MaxUint32 {
			s.keep = packAppend(s.keep, uint32(us))
			return smallest
		}
		s.unpack(8)
	}
	if s.wide == nil && us > math.MaxUint32 {
		s.wide = make([]int64, len(s.keep), max(cap(s.keep), 32))
		for i, v := range s.keep {
			s.wide[i] = int64(v)
		}
		s.keep = nil
	}
	j := s.slot()
	switch {
	case j < 0:
	case s.wide != nil && j == len(s.wide):
		s.wide = append(s.wide, us)
	case s.wide != nil:
		s.wide[j] = us
	case j == len(s.keep):
		if s.keep == nil {
			s.keep = make([]uint32, 0, 32)
		}
		s.keep = append(s.keep, uint32(us))
	default:
		s.keep[j] = uint32(us)
	}
	return smallest
}

// clip shrinks the reservoir's storage to the samples it holds, packed
// when that is smaller.
func (s *sampler) clip() {
	if !s.packed && len(s.keep) > 0 {
		if w := pack(s.keep); len(w) < len(s.keep) {
			s.keep, s.packed = w, true
			return
		}
	}
	if cap(s.keep) > len(s.keep) {
		s.keep = slices.Clone(s.keep)
	}
	if cap(s.wide) > len(s.wide) {
		s.wide = slices.Clone(s.wide)
	}
}

// Packed reservoirs (sampler.packed) are words: the count of samples,
// the last sample, the count of bytes, then the bytes, four a word from
// the low one, each sample the zigzag varint of its difference from the
// one before (the first from 0). A connection's RTTs are alike, so most
// take one or two bytes instead of four.
const packHeader = 3

// pack returns samples packed.
func pack(samples []uint32) []uint32 {
	size, prev := 0, int64(0)
	for _, v := range samples {
		size += uvarintLen(zigzag(int64(v) - prev))
		prev = int64(v)
	}
	w := make([]uint32, packHeader, packHeader+(size+3)/4)
	for _, v := range samples {
		w = packAppend(w, v)
	}
	return w
}

// packAppend appends sample v to packed w, growing it if need be.
func packAppend(w []uint32, v uint32) []uint32 {
	var buf [binary.MaxVarintLen64]byte
	b := binary.AppendUvarint(buf[:0], zigzag(int64(v)-int64(w[1])))
	i := int(w[2])
	if need := packHeader + (i+len(b)+3)/4; need > len(w) {
		if need > cap(w) {
			w = append(make([]uint32, 0, need+1), w...)
		}
		w = w[:need]
	}
	for _, c := range b {
		w[packHeader+i/4] |= uint32(c) << (8 * (i % 4))
		i++
	}
	w[0]++
	w[1], w[2] = v, uint32(i)
	return w
}

// unpack replaces the packed reservoir with its samples, in their order,
// with room for spare more.
func (s *sampler) unpack(spare int) {
	w := s.keep
	out := make([]uint32, 0, int(w[0])+spare)
	i, prev := 0, int64(0)
	for range w[0] {
		var z uint64
		for shift := 0; ; shift += 7 {
			c := byte(w[packHeader+i/4] >> (8 * (i % 4)))
			i++
			z |= uint64(c&0x7f) << shift
			if c < 0x80 {
				break
			}
		}
		prev += int64(z>>1) ^ -int64(z&1)
		out = append(out, uint32(prev))
	}
	s.keep, s.packed = out, false
}

// zigzag maps a signed difference to an unsigned one, small for small
// magnitudes of either sign.
func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// uvarintLen returns the bytes binary.AppendUvarint takes for v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// slot returns where the n-th sample goes in the reservoir: appended
// while it holds fewer than MaxRTTSamples, else (Algorithm R) a random
// slot with probability k/n, or -1 for none.
func (s *sampler) slot() int {
	if l := len(s.keep) + len(s.wide); l < MaxRTTSamples {
		return l
	}
	if s.rnd == 0 {
		s.rnd = 0x9e3779b97f4a7c15
	}
	s.rnd ^= s.rnd << 13
	s.rnd ^= s.rnd >> 7
	s.rnd ^= s.rnd << 17
	if j := s.rnd % s.n; j < MaxRTTSamples {
		return int(j)
	}
	return -1
}

// summary returns the distribution (nearest-rank quantiles).
func (s *sampler) summary() RTTSummary {
	if s.n == 0 {
		return RTTSummary{}
	}
	// Sorting in place is harmless: the reservoir's order carries no
	// meaning.
	var q func(p float64) time.Duration
	rank := func(p float64, n int) int { return max(0, min(int(p*float64(n)+0.999999)-1, n-1)) }
	if s.wide != nil {
		slices.Sort(s.wide)
		q = func(p float64) time.Duration { return time.Duration(s.wide[rank(p, len(s.wide))]) * time.Microsecond }
	} else {
		if s.packed {
			s.unpack(0)
		}
		slices.Sort(s.keep)
		q = func(p float64) time.Duration { return time.Duration(s.keep[rank(p, len(s.keep))]) * time.Microsecond }
	}
	return RTTSummary{Samples: s.n, Min: us(s.min), Median: q(0.5), P95: q(0.95), Max: us(s.max)}
}

// us returns d truncated to whole microseconds, the resolution reported.
func us(d time.Duration) time.Duration { return d.Truncate(time.Microsecond) }

// RTT is the round-trip time analysis of a connection.
//
// The capture point splits each round trip in two: from the capture point
// to the server and back (seen as SYN→SYN/ACK, and as client data → server
// ACK), and from the capture point to the client and back (SYN/ACK→ACK,
// server data → client ACK). Handshake is the sum, the whole round trip
// wherever the capture was taken.
//
// Samples, Min... describe the connection's round trip estimated from
// data→ACK samples: the samples of the direction whose receiver is far
// from the capture point (the larger handshake leg, or without handshake
// the direction with the larger minimum sample), each plus the other
// leg's handshake time when known. Per-direction figures are in C2S and
// S2C, from data→ACK samples (Karn's rule: no sample from an ACK of
// retransmitted data) and, apart, from timestamp echoes (RFC 7323).
type RTT struct {
	Handshake time.Duration `json:"handshake_ms"`
	// SynToSynAck and SynAckToAck are the two legs of the handshake
	// (zero when not seen).
	SynToSynAck time.Duration `json:"syn_synack_ms"`
	SynAckToAck time.Duration `json:"synack_ack_ms"`
	RTTSummary
	C2S DirRTT `json:"c2s"`
	S2C DirRTT `json:"s2c"`
}

// MarshalJSON writes the analysis with its durations in milliseconds (it
// must not be RTTSummary's, promoted).
func (r RTT) MarshalJSON() ([]byte, error) { return units.MarshalJSON(r) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (r RTT) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, r) }

// UnmarshalJSON reads what MarshalJSON writes.
func (r *RTT) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, r) }

// DirRTT holds one direction's RTT samples: the time from a segment of
// that direction to the reverse segment acknowledging it (Data) or
// echoing its timestamp (TS).
type DirRTT struct {
	Data RTTSummary `json:"data"`
	TS   RTTSummary `json:"ts"`
}

// Vantage is where the capture was taken on the path, inferred from the
// RTT split.
type Vantage uint8

// Vantage points.
const (
	// VantageUnknown: not enough RTT evidence.
	VantageUnknown Vantage = iota
	// VantageClient: near the client (the server leg is at least 80 % of
	// the round trip).
	VantageClient
	// VantageServer: near the server (the client leg is at least 80 %).
	VantageServer
	// VantageMiddle: neither leg dominates.
	VantageMiddle
)

var vantageNames = [...]string{"unknown", "near_client", "near_server", "middle"}

// String returns the vantage's name as written in reports.
func (v Vantage) String() string {
	if int(v) < len(vantageNames) {
		return vantageNames[v]
	}
	return "unknown"
}

// MarshalText makes a Vantage appear by name in JSON.
func (v Vantage) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// tsRingSize bounds the TSvals remembered per direction.
const tsRingSize = 32

// tsEntry is a TSval and when it was first seen (Unix nanoseconds), and
// whether it was first sent on a pure ACK.
type tsEntry struct {
	t    int64
	val  uint32
	wire uint16 // the frame's wire length, clamped (see clampWire)
	ack  bool
}

// clampWire clamps a frame's wire length to the 16 bits kept beside a
// timing sample (a merged offload frame may be longer; it never times a
// smallest leg).
func clampWire(n int) uint16 { return uint16(min(max(n, 0), math.MaxUint16)) }

// tsRing remembers when recent TSvals were first sent, oldest first.
// Entries older than a TSval echoed are dropped (they will not be echoed
// first any more), and while the ring holds tsRingSize entries no entry
// is added, so a TSval is either timed exactly or not at all. New TSvals
// are kept only when at least gap after the newest kept one (see
// half.tsGap), so the ring spans a round trip under load.
//
// Its storage e is tsRingSize entries while the connection is open;
// compact shrinks it to the entries held (at the close: a closed
// connection waits out flow's linger, and a busy capture holds thousands),
// and sent doubles it when a late segment adds one to a full storage (the
// last ACK after the FINs takes two slots, not 32). Either way the
// entries, their order and what the ring reports are the same.
type tsRing struct {
	e    []tsEntry
	head int // oldest entry
	n    int // entries used
	last uint32
	seen bool
}

// newTSRing returns an empty ring with its full storage.
func newTSRing() *tsRing { return &tsRing{e: make([]tsEntry, tsRingSize)} }

// at returns the i-th entry from the oldest.
func (r *tsRing) at(i int) tsEntry { return r.e[r.slot(i)] }

// slot is the index in r.e of the i-th entry from the oldest, for i up
// to len(r.e) (which wraps to head): the storage's length varies, so a
// subtraction rather than a modulo by a variable on the per-packet path.
func (r *tsRing) slot(i int) int {
	j := r.head + i
	if j >= len(r.e) {
		j -= len(r.e)
	}
	return j
}

// sent records the first time val was seen, unless it repeats the last
// value, is within gap of the newest entry, or the ring is full.
func (r *tsRing) sent(val uint32, t int64, wire uint16, ack bool, gap time.Duration) {
	if r.seen && r.last == val {
		return
	}
	r.last, r.seen = val, true
	if r.n == tsRingSize {
		return
	}
	if r.n > 0 && t-r.at(r.n-1).t < int64(gap) {
		return
	}
	if r.n == len(r.e) {
		r.resize(min(tsRingSize, max(2, 2*len(r.e))))
	}
	r.e[r.slot(r.n)] = tsEntry{t: t, val: val, wire: wire, ack: ack}
	r.n++
}

// echoed returns the entry of val if it is remembered, and drops it and
// the entries before it.
func (r *tsRing) echoed(val uint32) (tsEntry, bool) {
	for i := 0; i < r.n; i++ {
		if e := r.at(i); e.val == val {
			r.head = r.slot(i + 1)
			r.n -= i + 1
			return e, true
		}
	}
	return tsEntry{}, false
}

// compact shrinks the storage to the entries held (none: no storage).
func (r *tsRing) compact() {
	if len(r.e) > r.n {
		r.resize(r.n)
	}
}

// resize moves the entries, oldest first, into new storage of size
// entries (at least r.n).
func (r *tsRing) resize(size int) {
	var e []tsEntry
	if size > 0 {
		e = make([]tsEntry, size)
		for i := range r.n {
			e[i] = r.at(i)
		}
	}
	r.e, r.head = e, 0
}
