package census

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// Network-layer classes (Layers.Network), in report order.
const (
	netIPv4 = iota
	netIPv6
	netARP
	netNonIP
	netUnanalysed
	numNet
)

var netNames = [numNet]string{"ipv4", "ipv6", "arp", "non_ip", "unanalysed"}

// Cast classes (Layers.Casts), in report order.
const (
	castBroadcast = iota
	castSubnetBroadcast
	castMulticast4
	castMulticast6
	castEtherBroadcast
	castEtherMulticast
	numCasts
)

var castNames = [numCasts]string{"ip_broadcast", "subnet_broadcast", "ipv4_multicast", "ipv6_multicast",
	"ethernet_broadcast", "ethernet_multicast"}

// Routing classes (Layers.Routing), in report order.
const (
	routeOSPF = iota
	routeEIGRP
	routeRIP
	routeRIPng
	routeBGP
	numRouting
)

var routingNames = [numRouting]string{"ospf", "eigrp", "rip", "ripng", "bgp"}

// Metrics of the top-talker summaries.
const (
	mConns = iota
	mSent
	mRecv
	numMetrics
)

// IP protocol numbers and ports the census recognises.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoEIGRP  = 88
	protoOSPF   = 89
	portRIP     = 520
	portRIPng   = 521
	portBGP     = 179
)

// talkers holds the Space-Saving summaries of one key kind (hosts or
// subnets): per metric, one fed by the packets of no connection (in
// capture order) and one fed by the connections as they end (in the order
// they end).
type talkers struct {
	pkt  [numMetrics]*heavy // mConns unused
	conn [numMetrics]*heavy
}

func newTalkers(capacity int) talkers {
	var t talkers
	for m := range numMetrics {
		t.pkt[m], t.conn[m] = newHeavy(capacity), newHeavy(capacity)
	}
	return t
}

// svcKey is a service: the protocol (6 or 17) and the port.
type svcKey struct {
	proto uint8
	port  uint16
}

type svcAcc struct {
	conns uint64
	Count
}

type protoAcc struct {
	conns uint64
	Count
	red Redundancy
}

// connScan is the payload scan of one live connection.
type connScan struct {
	dir [2]dirScan
}

// Census counts who and what uses the wire in one capture. It is a
// flow.Consumer and a flow.Forker: list it in flow.Config.Consumers (Analyze
// does), then call Report after the Analyzer is closed. Memory is bounded
// by the Config's limits and by the connections flow keeps live; the
// per-packet path does not allocate once the summaries have filled. It is
// not safe for concurrent use.
//
// In a parallel pass (flow.Config.Workers) each shard's fork counts its
// packets and connections, and Merge adds them up. The counts that do not
// depend on order (traffic per direction and interval, classes, services,
// protocols, redundancy) are simply added. The top-talker summaries do
// depend on the order of their updates, so each is fed in an order that is
// the same however the pass is sharded: the summaries of packets of no
// connection (UDP, ICMP, ARP...) by the fork of shard 0, which flow gives
// every such packet in capture order, and those of TCP connections by the
// root Census as flow reports the connections' ends, in the order they
// ended. A merged Report is therefore identical to one worker's.
type Census struct {
	cfg  Config
	link func(*flow.PacketInfo) linkInfo

	isFork bool // a shard's fork: leaves the connection summaries to the root
	forked bool // the root of a parallel pass: receives ConnEnd only

	bcast []netip.Addr // subnet broadcast addresses

	hasTime    bool
	start, end time.Time
	total      [numDirs]Count
	bins       bins
	network    [numNet]Count
	transport  [256]Count
	casts      [numCasts]Count
	routing    [numRouting]Count
	etherTypes map[uint16]*Count
	unknownEth Count // non-IP frames whose EtherType was not shown
	linkKnown  uint64
	echo       [4]Count // requests, replies, big requests, big replies
	services   map[svcKey]*svcAcc

	live     map[int]*connScan
	free     []*connScan
	protos   map[string]*protoAcc
	redTotal Redundancy
	topConns []ConnRedundancy
	lz       *lz

	hosts, subnets talkers
	pingers        *heavy
}

var _ flow.Forker = (*Census)(nil)

// New returns a Census shaped by cfg.
func New(cfg Config) *Census {
	cfg = cfg.norm()
	c := &Census{cfg: cfg, link: linkOf}
	c.init()
	return c
}

func (c *Census) init() {
	cfg := &c.cfg
	c.bins = newBins(cfg.Interval.Microseconds(), cfg.MaxIntervals)
	c.etherTypes = map[uint16]*Count{}
	c.services = map[svcKey]*svcAcc{}
	c.live = map[int]*connScan{}
	c.protos = map[string]*protoAcc{}
	c.hosts, c.subnets = newTalkers(cfg.MaxHosts), newTalkers(cfg.MaxSubnets)
	c.pingers = newHeavy(cfg.MaxPingers)
	c.bcast = nil
	for _, p := range slices.Concat(cfg.Local, cfg.Subnets) {
		if p.Addr().Is4() && p.Bits() <= 30 {
			a := p.Addr().As4()
			v := binary.BigEndian.Uint32(a[:]) | (1<<(32-p.Bits()) - 1)
			binary.BigEndian.PutUint32(a[:], v)
			if b := netip.AddrFrom4(a); !slices.Contains(c.bcast, b) {
				c.bcast = append(c.bcast, b)
			}
		}
	}
}

// micros is t in microseconds since the Unix epoch (valid for the years 1
// to 9999, which flow guarantees).
func micros(t time.Time) int64 { return t.Unix()*1e6 + int64(t.Nanosecond()/1e3) }

func (c *Census) isLocal(a netip.Addr) bool {
	for _, p := range c.cfg.Local {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// dir is the direction of a packet from src to dst.
func (c *Census) dir(src, dst netip.Addr) Dir {
	if len(c.cfg.Local) == 0 || !src.IsValid() || !dst.IsValid() {
		return DirUnknown
	}
	switch s, d := c.isLocal(src), c.isLocal(dst); {
	case s && d:
		return DirInternal
	case s:
		return DirOut
	case d:
		return DirIn
	}
	return DirTransit
}

// host is the key of an address in the host summaries.
func host(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

// subnet is the key of an address in the subnet summaries.
func (c *Census) subnet(a netip.Addr) netip.Prefix {
	best := netip.Prefix{}
	for _, p := range c.cfg.Subnets {
		if p.Contains(a) && (!best.IsValid() || p.Bits() > best.Bits()) {
			best = p
		}
	}
	if best.IsValid() {
		return best
	}
	bits := c.cfg.IPv6Bits
	if a.Is4() {
		bits = c.cfg.IPv4Bits
	}
	p, _ := a.Prefix(bits)
	return p
}

// Packet counts one packet. It keeps neither p nor the bytes it refers
// to.
func (c *Census) Packet(p *flow.PacketInfo) {
	wl := p.WireLen
	d := c.dir(p.Src, p.Dst)
	c.total[d].add(wl)
	if p.Skip != flow.SkipTimestamp {
		t := p.Time
		if !c.hasTime || t.Before(c.start) {
			c.start = t
		}
		if !c.hasTime || t.After(c.end) {
			c.end = t
		}
		c.hasTime = true
		c.bins.add(micros(t), d, wl)
	}
	c.classify(p, c.link(p))
	if p.Conn != nil && p.Seg != nil {
		c.segment(p)
		return
	}
	if p.Src.IsValid() && p.Dst.IsValid() {
		c.packetTalkers(p)
	}
}

// classify counts p in its class at each layer.
func (c *Census) classify(p *flow.PacketInfo, l linkInfo) {
	wl := p.WireLen
	if l.known {
		c.linkKnown++
		switch l.cast {
		case linkBroadcast:
			c.casts[castEtherBroadcast].add(wl)
		case linkMulticast:
			c.casts[castEtherMulticast].add(wl)
		}
	}
	switch {
	case p.Src.IsValid():
		if p.Src.Is4() {
			c.network[netIPv4].add(wl)
		} else {
			c.network[netIPv6].add(wl)
		}
		c.transport[p.Proto].add(wl)
		c.ipCast(p.Dst, wl)
		c.transportClass(p)
	case p.Kind == flow.KindARP:
		c.network[netARP].add(wl)
	case p.Kind == flow.KindNonIP:
		c.network[netNonIP].add(wl)
		if !l.known {
			c.unknownEth.add(wl)
			break
		}
		e := c.etherTypes[l.etherType]
		if e == nil {
			e = &Count{}
			c.etherTypes[l.etherType] = e
		}
		e.add(wl)
	default:
		c.network[netUnanalysed].add(wl)
	}
}

// ipCast counts a packet to dst if it is a broadcast or multicast address.
func (c *Census) ipCast(dst netip.Addr, wl int) {
	switch {
	case dst.Is4() && dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		c.casts[castBroadcast].add(wl)
	case dst.Is4() && dst.IsMulticast():
		c.casts[castMulticast4].add(wl)
	case dst.Is6() && dst.IsMulticast():
		c.casts[castMulticast6].add(wl)
	case dst.Is4() && slices.Contains(c.bcast, dst):
		c.casts[castSubnetBroadcast].add(wl)
	}
}

// ports returns the source and destination ports of a TCP or UDP header.
func ports(l4 []byte) (src, dst uint16, ok bool) {
	if len(l4) < 4 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:]), true
}

// transportClass counts routing protocols, UDP services and echoes.
func (c *Census) transportClass(p *flow.PacketInfo) {
	wl := p.WireLen
	switch p.Proto {
	case protoOSPF:
		c.routing[routeOSPF].add(wl)
	case protoEIGRP:
		c.routing[routeEIGRP].add(wl)
	case protoICMP, protoICMPv6:
		c.echoPacket(p)
	case protoTCP:
		sp, dp, ok := ports(p.L4)
		if p.Conn != nil {
			sp, dp, ok = p.Conn.Client.Port(), p.Conn.Server.Port(), true
		}
		if ok && (sp == portBGP || dp == portBGP) {
			c.routing[routeBGP].add(wl)
		}
	case protoUDP:
		sp, dp, ok := ports(p.L4)
		if !ok {
			return
		}
		switch {
		case sp == portRIP || dp == portRIP:
			c.routing[routeRIP].add(wl)
		case sp == portRIPng || dp == portRIPng:
			c.routing[routeRIPng].add(wl)
		}
		k := svcKey{protoUDP, udpService(sp, dp)}
		s := c.services[k]
		if s == nil {
			s = &svcAcc{}
			c.services[k] = s
		}
		s.add(wl)
	}
}

// udpService picks a datagram's service port: the one below 1024 when
// exactly one is, else the lower (ephemeral ports are high).
func udpService(sp, dp uint16) uint16 {
	switch {
	case sp < 1024 && dp >= 1024:
		return sp
	case dp < 1024 && sp >= 1024:
		return dp
	}
	return min(sp, dp)
}

// echoPacket counts an ICMP or ICMPv6 echo request or reply, and big pings.
func (c *Census) echoPacket(p *flow.PacketInfo) {
	if len(p.L4) < 1 {
		return
	}
	req, rep := uint8(8), uint8(0)
	if p.Proto == protoICMPv6 {
		req, rep = 128, 129
	}
	typ := p.L4[0]
	if typ != req && typ != rep {
		return
	}
	wl := p.WireLen
	big := p.L4Len-8 > c.cfg.BigPing
	if typ == req {
		c.echo[0].add(wl)
		if big {
			c.echo[2].add(wl)
			c.pingers.add(host(p.Src), uint64(wl), 1, micros(p.Time))
		}
		return
	}
	c.echo[1].add(wl)
	if big {
		c.echo[3].add(wl)
		c.pingers.add(host(p.Dst), uint64(wl), 0, micros(p.Time))
	}
}

// packetTalkers counts a packet of no connection for its hosts and subnets.
func (c *Census) packetTalkers(p *flow.PacketInfo) {
	w, t := uint64(p.WireLen), micros(p.Time)
	c.hosts.pkt[mSent].add(host(p.Src), w, 1, t)
	c.hosts.pkt[mRecv].add(host(p.Dst), w, 1, t)
	c.subnets.pkt[mSent].add(c.subnet(p.Src), w, 1, t)
	c.subnets.pkt[mRecv].add(c.subnet(p.Dst), w, 1, t)
}

// segment scans a TCP segment's payload.
func (c *Census) segment(p *flow.PacketInfo) {
	s := p.Seg
	if s.Len == 0 && len(s.Payload) == 0 {
		return
	}
	cs := c.live[p.Conn.ID]
	if cs == nil {
		if n := len(c.free); n > 0 {
			cs, c.free = c.free[n-1], c.free[:n-1]
		} else {
			cs = &connScan{}
		}
		c.live[p.Conn.ID] = cs
	}
	d := &cs.dir[p.Dir&1]
	d.runs(s.Seq, s.Payload, s.Len, c.cfg.MinRun)
	if c.cfg.SampleBytes > 0 && len(s.Payload) > 0 && d.red.SampledBytes < uint64(c.cfg.SampleBytes) {
		if c.lz == nil {
			c.lz = &lz{}
		}
		d.sample(c.lz, s.Payload, uint64(c.cfg.SampleBytes))
	}
}

// ConnEnd counts a connection that ended: its service, protocol and
// payload redundancy (where its packets were seen) and its hosts (at the
// root, in the order connections end).
func (c *Census) ConnEnd(conn *flow.Conn) {
	if !c.forked {
		c.connCounts(conn)
	}
	if !c.isFork {
		c.connTalkers(conn)
	}
}

// connCounts adds up what a connection carried.
func (c *Census) connCounts(conn *flow.Conn) {
	all := Count{Packets: conn.C2S.Packets + conn.S2C.Packets, Bytes: conn.C2S.WireBytes + conn.S2C.WireBytes}
	k := svcKey{protoTCP, conn.Server.Port()}
	s := c.services[k]
	if s == nil {
		s = &svcAcc{}
		c.services[k] = s
	}
	s.conns++
	s.plus(all)
	name := conn.Proto
	if name == "" {
		name = "unknown"
	}
	pa := c.protos[name]
	if pa == nil {
		pa = &protoAcc{}
		c.protos[name] = pa
	}
	pa.conns++
	pa.plus(all)
	cs := c.live[conn.ID]
	if cs == nil {
		return
	}
	delete(c.live, conn.ID)
	cr := ConnRedundancy{ID: conn.ID, Client: conn.Client, Server: conn.Server, Proto: name,
		C2S: cs.dir[tcpstate.ClientToServer].red, S2C: cs.dir[tcpstate.ServerToClient].red}
	*cs = connScan{}
	c.free = append(c.free, cs)
	cr.Both = cr.C2S
	cr.Both.plus(&cr.S2C)
	pa.red.plus(&cr.Both)
	c.redTotal.plus(&cr.Both)
	cr.C2S.finish()
	cr.S2C.finish()
	cr.Both.finish()
	c.topConns = insertTop(c.topConns, cr, c.cfg.TopN)
}

// insertTop inserts cr into the list of the top n connections by
// redundant bytes (ties by ID).
func insertTop(top []ConnRedundancy, cr ConnRedundancy, n int) []ConnRedundancy {
	if cr.Both.CapturedBytes == 0 {
		return top
	}
	i, _ := slices.BinarySearchFunc(top, cr, compareRedundant)
	if i >= n {
		return top
	}
	top = slices.Insert(top, i, cr)
	if len(top) > n {
		top = top[:n]
	}
	return top
}

func compareRedundant(a, b ConnRedundancy) int {
	if a.Both.RedundantBytes != b.Both.RedundantBytes {
		if a.Both.RedundantBytes > b.Both.RedundantBytes {
			return -1
		}
		return 1
	}
	return a.ID - b.ID
}

// connTalkers counts a connection for its hosts and subnets.
func (c *Census) connTalkers(conn *flow.Conn) {
	cl, sv := conn.Client.Addr(), conn.Server.Addr()
	up, down := conn.C2S, conn.S2C
	t := micros(conn.First)
	for _, tk := range []struct {
		t      *talkers
		cl, sv netip.Prefix
	}{{&c.hosts, host(cl), host(sv)}, {&c.subnets, c.subnet(cl), c.subnet(sv)}} {
		tk.t.conn[mConns].add(tk.cl, 1, 0, t)
		if tk.sv != tk.cl {
			tk.t.conn[mConns].add(tk.sv, 1, 0, t)
		}
		tk.t.conn[mSent].add(tk.cl, up.WireBytes, up.Packets, t)
		tk.t.conn[mSent].add(tk.sv, down.WireBytes, down.Packets, t)
		tk.t.conn[mRecv].add(tk.sv, up.WireBytes, up.Packets, t)
		tk.t.conn[mRecv].add(tk.cl, down.WireBytes, down.Packets, t)
	}
}

// Fork returns a Census for one shard of a parallel pass (see
// flow.Forker): it counts its shard's packets and connections, the
// connections' hosts being left to c.
func (c *Census) Fork() flow.Consumer {
	c.forked = true
	f := &Census{cfg: c.cfg, link: c.link, isFork: true}
	f.init()
	return f
}

// Merge adds up what the forks counted (see Census for why the result is
// what one worker would have counted).
func (c *Census) Merge(forks []flow.Consumer) {
	var pkt [2][numMetrics][]*heavy
	pingers := []*heavy{c.pingers}
	for m := range numMetrics {
		pkt[0][m] = []*heavy{c.hosts.pkt[m]}
		pkt[1][m] = []*heavy{c.subnets.pkt[m]}
	}
	for _, x := range forks {
		f, ok := x.(*Census)
		if !ok {
			continue
		}
		c.add(f)
		pingers = append(pingers, f.pingers)
		for m := range numMetrics {
			pkt[0][m] = append(pkt[0][m], f.hosts.pkt[m])
			pkt[1][m] = append(pkt[1][m], f.subnets.pkt[m])
		}
	}
	for m := range numMetrics {
		c.hosts.pkt[m] = pick(c.cfg.MaxHosts, pkt[0][m])
		c.subnets.pkt[m] = pick(c.cfg.MaxSubnets, pkt[1][m])
	}
	c.pingers = pick(c.cfg.MaxPingers, pingers)
}

// add adds the order-free counts of fork f into c.
func (c *Census) add(f *Census) {
	if f.hasTime {
		if !c.hasTime || f.start.Before(c.start) {
			c.start = f.start
		}
		if !c.hasTime || f.end.After(c.end) {
			c.end = f.end
		}
		c.hasTime = true
	}
	addCounts(c.total[:], f.total[:])
	c.bins.merge(&f.bins)
	addCounts(c.network[:], f.network[:])
	addCounts(c.transport[:], f.transport[:])
	addCounts(c.casts[:], f.casts[:])
	addCounts(c.routing[:], f.routing[:])
	addCounts(c.echo[:], f.echo[:])
	c.unknownEth.plus(f.unknownEth)
	c.linkKnown += f.linkKnown
	for k, v := range f.etherTypes {
		e := c.etherTypes[k]
		if e == nil {
			e = &Count{}
			c.etherTypes[k] = e
		}
		e.plus(*v)
	}
	for k, v := range f.services {
		s := c.services[k]
		if s == nil {
			s = &svcAcc{}
			c.services[k] = s
		}
		s.conns += v.conns
		s.plus(v.Count)
	}
	for k, v := range f.protos {
		pa := c.protos[k]
		if pa == nil {
			pa = &protoAcc{}
			c.protos[k] = pa
		}
		pa.conns += v.conns
		pa.plus(v.Count)
		pa.red.plus(&v.red)
	}
	c.redTotal.plus(&f.redTotal)
	for _, cr := range f.topConns {
		c.topConns = insertTop(c.topConns, cr, c.cfg.TopN)
	}
}

func addCounts(dst, src []Count) {
	for i := range src {
		dst[i].plus(src[i])
	}
}
