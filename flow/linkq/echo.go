package linkq

import (
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow"
)

// Defaults for a zero EchoConfig.
const (
	DefaultEchoTimeout    = 10 * time.Second
	DefaultMaxOutstanding = 4096
	DefaultMinInterval    = time.Second
	// DefaultMinBins is the most intervals Report.EchoMinRTT holds: past
	// it, the interval doubles.
	DefaultMinBins = 4096
)

// EchoConfig bounds echo matching. Its zero value is usable.
type EchoConfig struct {
	// UDPPorts are the UDP echo ports. Nil means port 7 (RFC 862).
	UDPPorts []uint16
	// Timeout is how long a request waits for its reply, in capture
	// time; a reply later than that is counted Late and not fitted.
	// Zero means DefaultEchoTimeout.
	Timeout time.Duration
	// MaxOutstanding is the most requests remembered at once (answered
	// ones included, for telling duplicate replies). When full, the oldest
	// is forgotten; if unanswered it counts as Lost and Evicted. Zero
	// means DefaultMaxOutstanding.
	MaxOutstanding int
	// MinInterval is the interval of Report.EchoMinRTT, the echoes'
	// smallest RTT per interval (it doubles as needed to keep at most
	// DefaultMinBins intervals). Zero means DefaultMinInterval.
	MinInterval time.Duration
}

func (c EchoConfig) minInterval() time.Duration {
	if c.MinInterval <= 0 {
		return DefaultMinInterval
	}
	return c.MinInterval
}

func (c EchoConfig) ports() []uint16 {
	if c.UDPPorts == nil {
		return defaultUDPPorts
	}
	return c.UDPPorts
}

var defaultUDPPorts = []uint16{7}

func (c EchoConfig) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultEchoTimeout
	}
	return c.Timeout
}

func (c EchoConfig) maxOutstanding() int {
	if c.MaxOutstanding <= 0 {
		return DefaultMaxOutstanding
	}
	return c.MaxOutstanding
}

// EchoStats counts the echo traffic of a capture. Every request ends as
// exactly one of Matched, Corrupted, Late, Errored, Lost or
// DuplicateRequests; every reply is one of Matched, Corrupted, Late,
// Duplicates or Orphans.
type EchoStats struct {
	Requests uint64 `json:"requests"`
	Replies  uint64 `json:"replies"`
	// Matched counts replies paired with their request within the timeout
	// whose data equal the request's: the RTT samples.
	Matched uint64 `json:"matched"`
	// Unverified counts matched replies whose data could not be compared
	// because the capture cut the request or the reply differently.
	Unverified uint64 `json:"unverified"`
	// Corrupted counts replies paired with a request (same ICMP id and
	// sequence, or same UDP ports and length) whose data differ from it.
	Corrupted uint64 `json:"corrupted"`
	// Late counts replies that came after the timeout.
	Late uint64 `json:"late"`
	// Lost counts requests never answered (by the end of the capture, or
	// before MaxOutstanding forgot them: Evicted).
	Lost    uint64 `json:"lost"`
	Evicted uint64 `json:"evicted"`
	// Duplicates counts further replies to an answered request;
	// DuplicateRequests counts ICMP requests repeating an outstanding id
	// and sequence (the first is kept).
	Duplicates        uint64 `json:"duplicates"`
	DuplicateRequests uint64 `json:"duplicate_requests"`
	// Orphans counts replies without a remembered request.
	Orphans uint64 `json:"orphans"`
	// ICMPErrors counts ICMP/ICMPv6 errors quoting an echo request
	// (unreachable, time exceeded...): counted, never taken as replies.
	ICMPErrors uint64 `json:"icmp_errors"`
	// Errored counts requests answered by such an error instead of a
	// reply (traceroute's probes, an unreachable host): not lost.
	Errored uint64 `json:"errored"`
	// Truncated and Malformed count ICMP and UDP packets whose headers
	// the capture cut or whose length fields are invalid.
	Truncated uint64 `json:"truncated"`
	Malformed uint64 `json:"malformed"`
}

// echoKey identifies a request. For ICMP: addresses, identifier and
// sequence. For UDP (no sequence number): addresses, ports, data length and
// data hash, so that equal requests queue in order.
type echoKey struct {
	kind     EchoKind
	src, dst netip.Addr
	id, seq  uint16
	wireLen  int32
	hash     uint64
}

const (
	stateActive uint8 = iota
	stateAnswered
)

// pending is one remembered request, a slot of the ring.
type pending struct {
	key     echoKey
	t       time.Time
	size    int
	hash    uint64
	capLen  int32
	wireLen int32
	state   uint8
	next    int32 // next slot with the same key, -1 at the end
	path    int32 // index of the path in the pathSet, -1 if none
	loss    int32 // index of the path in the sizeLossAcc, -1 if none
}

type chain struct{ head, tail int32 }

// echoMatcher pairs echo requests and replies. Requests live in a ring in
// arrival order; requests with equal keys are chained in that order, so
// the oldest slot of the ring is always the head of its chain.
type echoMatcher struct {
	cfg    EchoConfig
	paths  *pathSet
	sizes  *sizeLossAcc
	duplex *duplexAcc
	ports  []uint16
	ring   []pending
	first  int // slot of the oldest request
	n      int // requests in the ring
	keys   map[echoKey]chain
	stats  EchoStats
}

func newEchoMatcher(cfg EchoConfig, paths *pathSet, sizes *sizeLossAcc, duplex *duplexAcc) *echoMatcher {
	return &echoMatcher{cfg: cfg, paths: paths, sizes: sizes, duplex: duplex, ports: cfg.ports(), keys: make(map[echoKey]chain)}
}

// How a request ended, for its path's counters.
const (
	outMatched = iota
	outLost
	outLate
	outCorrupted
	outErrored
)

// outcome counts how the request in slot i ended, on its path, in its
// path's loss by size and, when lost, for the duplex check (a request
// answered by an ICMP error is neither sent nor lost there: the path
// refused it).
func (m *echoMatcher) outcome(i int32, o int) {
	if r := &m.ring[i]; o != outErrored {
		m.sizes.count(r.loss, r.size, o == outLost)
		m.duplex.echoEnd(r.key.src, r.key.dst, r.t, o == outLost)
	}
	c := m.paths.echoCount(m.ring[i].path)
	if c == nil {
		return
	}
	switch o {
	case outMatched:
		c.Matched++
	case outLost:
		c.Lost++
	case outLate:
		c.Late++
	case outCorrupted:
		c.Corrupted++
	case outErrored:
		c.Errored++
	}
}

// fnv64 is FNV-1a over b: a 64-bit hash of echo data, so that only 8 bytes
// per request are kept to compare the reply with.
func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// sizeOf returns the size of the packet p for a fit, per basis b;
// payloadLen is the echo data or TCP payload length.
func sizeOf(b SizeBasis, p *flow.PacketInfo, payloadLen int) int {
	switch b {
	case SizeFrame:
		return p.WireLen
	case SizePayload:
		return payloadLen
	}
	if p.Src.Is4() {
		return p.L4Len + 20
	}
	return p.L4Len + 40
}

// add handles one packet; a matched reply becomes a sample in paths.
func (m *echoMatcher) add(p *flow.PacketInfo, basis SizeBasis) {
	if p.Proto != protoICMP && p.Proto != protoICMPv6 && p.Proto != protoUDP || !p.Src.IsValid() {
		return
	}
	e, res := ParseEcho(p.Proto, p.L4, p.L4Len, m.ports)
	switch res {
	case ParseTruncated:
		m.stats.Truncated++
	case ParseMalformed:
		m.stats.Malformed++
	case ParseErrorQuotingEcho:
		m.icmpError(&e, p.Time)
	case ParseRequest:
		m.request(p, &e, basis)
	case ParseReply:
		m.reply(p, &e)
	}
}

func (m *echoMatcher) keyOf(e *Echo, src, dst netip.Addr, h uint64) echoKey {
	k := echoKey{kind: e.Kind, src: src, dst: dst, id: e.ID, seq: e.Seq}
	if e.Kind == EchoUDP {
		k.wireLen, k.hash = int32(e.PayloadLen), h
	}
	return k
}

func (m *echoMatcher) request(p *flow.PacketInfo, e *Echo, basis SizeBasis) {
	m.stats.Requests++
	m.expire(p.Time)
	h := fnv64(e.Payload)
	k := m.keyOf(e, p.Src, p.Dst, h)
	c, ok := m.keys[k]
	if ok && e.Kind != EchoUDP {
		// The same identifier and sequence again while the first is
		// awaiting its reply: a repeat. After the timeout it is a new
		// request (sequence numbers came round).
		for i := c.head; i >= 0; i = m.ring[i].next {
			if m.ring[i].state == stateActive && p.Time.Sub(m.ring[i].t) <= m.cfg.timeout() {
				m.stats.DuplicateRequests++
				return
			}
		}
	}
	if m.ring == nil {
		m.ring = make([]pending, m.cfg.maxOutstanding())
	}
	if m.n == len(m.ring) {
		m.pop()
		c, ok = m.keys[k]
	}
	slot := int32((m.first + m.n) % len(m.ring))
	m.n++
	pi := int32(m.paths.slot(pathKey{SourceEcho, k.src, k.dst}, p.Index))
	if c := m.paths.echoCount(pi); c != nil {
		c.Requests++
	}
	m.ring[slot] = pending{key: k, t: p.Time, size: sizeOf(basis, p, e.PayloadLen), hash: h,
		capLen: int32(len(e.Payload)), wireLen: int32(e.PayloadLen), state: stateActive, next: -1, path: pi,
		loss: m.sizes.slot(pathKey{SourceEcho, k.src, k.dst}, p.Index)}
	if ok {
		m.ring[c.tail].next = slot
		c.tail = slot
	} else {
		c = chain{slot, slot}
	}
	m.keys[k] = c
}

// pop forgets the oldest request, counting it lost if unanswered.
func (m *echoMatcher) pop() {
	e := &m.ring[m.first]
	if e.state == stateActive {
		m.stats.Lost++
		m.stats.Evicted++
		m.outcome(int32(m.first), outLost)
	}
	m.unchain(int32(m.first))
	m.first = (m.first + 1) % len(m.ring)
	m.n--
}

// unchain removes slot, the oldest of its key, from the key's chain.
func (m *echoMatcher) unchain(slot int32) {
	e := &m.ring[slot]
	c, ok := m.keys[e.key]
	if !ok || c.head != slot {
		return // cannot happen: chains are in ring order
	}
	if e.next < 0 {
		delete(m.keys, e.key)
		return
	}
	c.head = e.next
	m.keys[e.key] = c
}

// expire forgets answered requests at the front of the ring, which no
// longer help but for telling duplicates, once they are older than the
// timeout; unanswered ones stay until the ring is full or the capture ends
// (so a late reply is still recognised).
func (m *echoMatcher) expire(now time.Time) {
	to := m.cfg.timeout()
	for m.n > 0 {
		e := &m.ring[m.first]
		if e.state != stateAnswered || now.Sub(e.t) <= to {
			return
		}
		m.unchain(int32(m.first))
		m.first = (m.first + 1) % len(m.ring)
		m.n--
	}
}

func (m *echoMatcher) reply(p *flow.PacketInfo, e *Echo) {
	m.stats.Replies++
	h := fnv64(e.Payload)
	// The reply travels from the responder back to the requester.
	k := m.keyOf(e, p.Dst, p.Src, h)
	if e.Kind == EchoUDP {
		k.id, k.seq = e.Seq, e.ID
	}
	slot, answered := m.find(k, p.Time)
	corrupt := false
	if slot < 0 && e.Kind == EchoUDP && !answered {
		slot = m.findUDPByLength(k)
		corrupt = slot >= 0
	}
	if slot < 0 {
		if answered {
			m.stats.Duplicates++
		} else {
			m.stats.Orphans++
		}
		return
	}
	r := &m.ring[slot]
	r.state = stateAnswered
	rtt := p.Time.Sub(r.t)
	switch {
	case corrupt || r.wireLen != int32(e.PayloadLen) || r.capLen == int32(len(e.Payload)) && r.hash != h:
		m.stats.Corrupted++
		m.outcome(slot, outCorrupted)
		return
	case rtt > m.cfg.timeout() || rtt < 0:
		m.stats.Late++
		m.outcome(slot, outLate)
		return
	}
	if r.capLen != int32(len(e.Payload)) || int(r.capLen) < int(r.wireLen) {
		m.stats.Unverified++
	}
	m.stats.Matched++
	m.outcome(slot, outMatched)
	m.paths.addAt(int(r.path), e.Kind, r.size, rtt, p.Time, p.Index)
}

// icmpError counts an ICMP error quoting an echo request and, if that
// request is remembered and unanswered, resolves it as Errored: the path
// refused it (unreachable, TTL exceeded...), it was not lost on the way.
func (m *echoMatcher) icmpError(e *Echo, now time.Time) {
	m.stats.ICMPErrors++
	k := echoKey{kind: e.Kind, src: e.Quoted[0], dst: e.Quoted[1], id: e.ID, seq: e.Seq}
	var slot int32 = -1
	if e.Kind == EchoUDP {
		k.wireLen = int32(e.PayloadLen)
		slot = m.findUDPByLength(k)
	} else {
		slot, _ = m.find(k, now)
	}
	if slot >= 0 {
		m.ring[slot].state = stateAnswered
		m.stats.Errored++
		m.outcome(slot, outErrored)
	}
}

// find returns the oldest unanswered request with key k, or -1 and
// whether an answered one exists. An unanswered request older than the
// timeout (at now) with a younger unanswered one of the same key behind it
// is taken as lost: the reply is the younger one's (a tool repeating equal
// UDP data, or ICMP sequence numbers coming round again).
func (m *echoMatcher) find(k echoKey, now time.Time) (int32, bool) {
	c, ok := m.keys[k]
	if !ok {
		return -1, false
	}
	to := m.cfg.timeout()
	found := int32(-1)
	for i := c.head; i >= 0; i = m.ring[i].next {
		if m.ring[i].state != stateActive {
			continue
		}
		if found >= 0 {
			m.ring[found].state = stateAnswered
			m.stats.Lost++
			m.outcome(found, outLost)
		}
		found = i
		if now.Sub(m.ring[i].t) <= to {
			break
		}
	}
	if found >= 0 {
		return found, false
	}
	return -1, true
}

// findUDPByLength returns the oldest unanswered UDP request between the
// same ports with the data length of k, whatever its data: the request a
// corrupted reply answers. It scans the ring: only replies that match no
// request get here.
func (m *echoMatcher) findUDPByLength(k echoKey) int32 {
	for j := 0; j < m.n; j++ {
		i := int32((m.first + j) % len(m.ring))
		q := &m.ring[i].key
		if m.ring[i].state == stateActive && q.kind == EchoUDP && q.src == k.src && q.dst == k.dst &&
			q.id == k.id && q.seq == k.seq && q.wireLen == k.wireLen {
			return i
		}
	}
	return -1
}

// close counts the requests still unanswered as lost.
func (m *echoMatcher) close() {
	for j := 0; j < m.n; j++ {
		i := int32((m.first + j) % len(m.ring))
		if m.ring[i].state == stateActive {
			m.stats.Lost++
			m.outcome(i, outLost)
		}
	}
	m.n = 0
	clear(m.keys)
}
