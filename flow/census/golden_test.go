package census_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/census"
	"github.com/netecology/netecology/flow/flowtest"
)

// censusGolden is one file written by testdata/golden/census/gen_census.py
// from tshark's statistics (io,phs, endpoints, conv, io,stat and fields).
type censusGolden struct {
	File        string               `json:"file"`
	Tshark      string               `json:"tshark"`
	TsharkError string               `json:"tshark_error"`
	FramesRead  uint64               `json:"frames_read"`
	Total       [2]uint64            `json:"total"`
	PHS         map[string][2]uint64 `json:"phs"`
	Endpoints   []struct {
		Addr     string `json:"addr"`
		TxFrames uint64 `json:"tx_frames"`
		TxBytes  uint64 `json:"tx_bytes"`
		RxFrames uint64 `json:"rx_frames"`
		RxBytes  uint64 `json:"rx_bytes"`
	} `json:"endpoints"`
	Conversations []struct {
		A        string `json:"a"`
		B        string `json:"b"`
		FramesAB uint64 `json:"frames_ab"`
		BytesAB  uint64 `json:"bytes_ab"`
		FramesBA uint64 `json:"frames_ba"`
		BytesBA  uint64 `json:"bytes_ba"`
	} `json:"conversations"`
	TCPStreams   map[string]uint64    `json:"tcp_streams"`
	CastsRouting map[string][2]uint64 `json:"casts_routing"`
	Echo         struct {
		EchoRequests [2]uint64 `json:"echo_requests"`
		EchoReplies  [2]uint64 `json:"echo_replies"`
		Requests     [2]uint64 `json:"requests"`
		Replies      [2]uint64 `json:"replies"`
		BySource     map[string]struct {
			Pings uint64 `json:"pings"`
			Bytes uint64 `json:"bytes"`
		} `json:"by_source"`
	} `json:"echo"`
	Local   string `json:"local"`
	Subnet  string `json:"subnet"`
	BigPing int    `json:"big_ping"`
}

// censusKnown lists, per golden file, the kinds of difference from tshark
// that are deliberate, each with its reason (testdata/golden/census/
// DIFFERENCES.md explains them). A listed capture must show a difference
// of every kind listed and none of another; so the list stays true.
var censusKnown = map[string]map[string]string{
	"public_broken_ndpi_fuzz-2021-06-07-c6c72a0a56.pcap.json": {
		"endpoint":  "the record's original length 0xf3fdfe30: census 4093509168 as the pcap field says (tshark's io,phs agrees), tshark's endpoints 2^64-201458128",
		"subnet":    "the same length, summed",
		"direction": "tshark's conv prints that length as -201458128 and its frame.len as 2147483647",
	},
	"public_broken_ndpi_fuzz-2021-10-13.pcap.json": {
		"total":     "the file header's snap length is 0 and record 1 holds 524501 bytes: flow stops there (ReadError), tshark reads it",
		"direction": "the same record",
	},
	"public_broken_ppp_tcp-malformed.pcap.json": {
		"streams": "TCP data offset (28 B) beyond the segment (20 B): flow attributes neither packet to a connection (testdata/golden/CONV-DIFFERENCES.md)",
	},
	"public_broken_sv_fuzz_bug-6875.pcap.json": {
		"total":     "record 2's capture length (1409179648) is beyond the snap length: flow stops; tshark takes the file for a pcap variant with 8 more bytes per record header",
		"phs:ip":    "so tshark's frame 1 starts 8 bytes later than the record's data and is no IPv4 packet; ours is",
		"phs:tcp":   "the same frame",
		"endpoint":  "the same frame's addresses, 192.168.0.0 and 0.0.16.64 (a fuzzed IPv4 header)",
		"subnet":    "and their subnets",
		"direction": "the same frames",
	},
}

// censusLinkHidden lists the captures where tshark counts Ethernet
// broadcasts or multicasts that the census cannot see because flow showed
// it no link layer (DIFFERENCES.md, "by rule"): none since flow reports
// each frame's EtherType and destination (flow.PacketInfo.EtherType,
// LinkDst). Ethernet and Linux cooked captures are compared exactly.
var censusLinkHidden []string

// diff is one difference from tshark: its kind (what DIFFERENCES.md
// lists) and what differs.
type diff struct{ kind, what string }

func (d diff) String() string { return d.kind + ": " + d.what }

// TestCensusGolden checks the census of every capture with a golden file
// (with one worker and, identical, with three) against tshark's statistics: every host's frames and bytes sent and
// received (endpoints), the traffic per direction around the busiest
// host (conv), the frames and bytes per protocol (io,phs), broadcasts,
// multicasts and routing protocols (io,stat filters), TCP connections per
// host (tcp.stream) and big pings (ICMP fields).
func TestCensusGolden(t *testing.T) {
	root := flowtest.RepoRoot()
	files, err := filepath.Glob(filepath.Join(root, "testdata", "golden", "census", "*.json"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 10, "run python3 testdata/golden/census/gen_census.py")
	agree, ran := 0, 0
	var linkHidden, noIOStat []string
	for _, gf := range files {
		raw, err := os.ReadFile(gf)
		require.NoError(t, err)
		var g censusGolden
		require.NoError(t, json.Unmarshal(raw, &g), gf)
		name := filepath.Base(gf)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			if rel, ok := strings.CutPrefix(g.File, "../shared/corpus/"); ok {
				flowtest.CorpusDir(t, strings.SplitN(rel, "/", 2)[0])
			}
			ran++
			cfg := census.Config{TopN: 1 << 20, MaxHosts: 1 << 16, MaxSubnets: 1 << 16, MaxPingers: 1 << 16, BigPing: g.BigPing}
			if g.Local != "" {
				a := netip.MustParseAddr(g.Local)
				cfg.Local = []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}
			}
			if g.Subnet != "" {
				cfg.Subnets = []netip.Prefix{netip.MustParsePrefix(g.Subnet)}
			}
			rep, err := census.AnalyzeFile(filepath.Join(root, g.File), cfg)
			if rep == nil {
				t.Fatalf("no report: %v", err)
			}
			// Every packet flow read is counted once, by direction and by
			// network class.
			require.NotNil(t, rep.Summary)
			assert.Equal(t, rep.Summary.Packets, rep.Total.Sum().Packets, "packets by direction")
			var byNet uint64
			for _, c := range rep.Layers.Network {
				byNet += c.Packets
			}
			assert.Equal(t, rep.Summary.Packets, byNet, "packets by network class")
			// Three workers give the same census, byte for byte.
			cfg.Workers = 3
			par, _ := census.AnalyzeFile(filepath.Join(root, g.File), cfg)
			require.NotNil(t, par)
			assert.Equal(t, jsonOf(t, rep), jsonOf(t, par), "3 workers")
			diffs, hidden := compareCensus(&g, rep)
			if hidden {
				linkHidden = append(linkHidden, name)
			}
			if g.CastsRouting == nil {
				noIOStat = append(noIOStat, name)
			}
			known := censusKnown[name]
			kinds := map[string]bool{}
			for _, d := range diffs {
				kinds[d.kind] = true
				if _, ok := known[d.kind]; !ok {
					t.Errorf("differs from tshark: %s", d)
				}
			}
			for k, why := range known {
				assert.True(t, kinds[k], "%s is listed as differing in %q (%s) but agrees: update DIFFERENCES.md and censusKnown", name, k, why)
			}
			if len(diffs) == 0 {
				agree++
			}
		})
	}
	t.Logf("%d of %d captures agree with tshark in every figure", agree, len(files))
	if !t.Failed() && ran == len(files) { // the whole corpus was there
		assert.Equal(t, censusLinkHidden, linkHidden, "DIFFERENCES.md lists the captures whose Ethernet broadcasts or multicasts flow does not show")
		assert.Len(t, noIOStat, 6, "DIFFERENCES.md counts the captures without an io,stat row: %v", noIOStat)
	}
}

// compareCensus lists the differences between a census and tshark's
// statistics of the same capture. hidden reports a capture whose Ethernet
// broadcasts or multicasts tshark counts while flow did not show the
// census any link layer (see DIFFERENCES.md); those rows are then required
// to be zero rather than equal.
func compareCensus(g *censusGolden, rep *census.Report) (diffs []diff, hidden bool) {
	add := func(kind, format string, args ...any) {
		diffs = append(diffs, diff{kind, fmt.Sprintf(format, args...)})
	}
	cmp2 := func(kind string, want [2]uint64, got census.Count) {
		if want != [2]uint64{got.Packets, got.Bytes} {
			add(kind, "tshark %d frames %d bytes, census %d packets %d bytes", want[0], want[1], got.Packets, got.Bytes)
		}
	}
	all := rep.Total.Sum()
	cmp2("total", g.Total, census.Count{Packets: all.Packets, Bytes: all.Bytes})

	classes := map[string]census.Count{}
	for _, l := range [][]census.Class{rep.Layers.Network, rep.Layers.Transport, rep.Layers.Casts, rep.Layers.Routing, rep.Layers.EtherTypes} {
		for _, c := range l {
			x := classes[c.Name]
			x.Packets += c.Packets
			x.Bytes += c.Bytes
			classes[c.Name] = x
		}
	}
	ipx := classes["0x8137 ipx"]
	ipx.Packets += classes["0x8138 ipx"].Packets
	ipx.Bytes += classes["0x8138 ipx"].Bytes
	classes["ipx"] = ipx
	// tshark's protocol names for the census's network classes.
	ours := map[string]string{"ip": "ipv4"}
	for _, n := range slices.Sorted(maps.Keys(g.PHS)) {
		o := n
		if m, ok := ours[n]; ok {
			o = m
		}
		if n == "ipx" && rep.Layers.LinkKnown == 0 {
			continue // checked with the link-layer rows below
		}
		cmp2("phs:"+n, g.PHS[n], classes[o])
	}
	// CastsRouting is nil for captures of one instant, where tshark's
	// io,stat prints no row: nothing to compare.
	linkRows := map[string]bool{"ethernet_broadcast": true, "ethernet_multicast": true, "ipx": true}
	for _, n := range slices.Sorted(maps.Keys(g.CastsRouting)) {
		want := g.CastsRouting[n]
		if linkRows[n] && rep.Layers.LinkKnown == 0 {
			if want[0] > 0 {
				hidden = true
			}
			if c := classes[n]; c.Packets != 0 {
				add("link:"+n, "the link layer was not shown, yet %d packets counted", c.Packets)
			}
			continue
		}
		cmp2("iostat:"+n, want, classes[n])
	}

	hosts := map[netip.Prefix]census.Talker{}
	for _, l := range [][]census.Talker{rep.Hosts.ByConnections, rep.Hosts.BySent, rep.Hosts.ByReceived} {
		for _, h := range l {
			hosts[h.Prefix] = h
		}
	}
	if !rep.Hosts.Exact {
		add("inexact", "host summaries overflowed")
	}
	seen := map[netip.Prefix]bool{}
	for _, e := range g.Endpoints {
		a := netip.MustParseAddr(e.Addr)
		k := netip.PrefixFrom(a, a.BitLen())
		seen[k] = true
		h := hosts[k]
		want := [4]uint64{e.TxFrames, e.TxBytes, e.RxFrames, e.RxBytes}
		got := [4]uint64{h.SentPackets, h.SentBytes, h.ReceivedPackets, h.ReceivedBytes}
		if want != got {
			add("endpoint", "%s: tshark tx %d/%d rx %d/%d, census %d/%d %d/%d", a, want[0], want[1], want[2], want[3], got[0], got[1], got[2], got[3])
		}
		if h.Connections != g.TCPStreams[e.Addr] {
			add("streams", "%s: tshark %d TCP streams, census %d connections", a, g.TCPStreams[e.Addr], h.Connections)
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(hosts), comparePrefixes) {
		if !seen[k] {
			add("endpoint", "%s: census counts a host tshark does not list", k)
		}
	}
	// Subnets: tshark's endpoints summed by /24 and /64 (the golden's
	// subnet is the local host's /24).
	type sums struct{ txf, txb, rxf, rxb uint64 }
	wantNet := map[netip.Prefix]sums{}
	for _, e := range g.Endpoints {
		a := netip.MustParseAddr(e.Addr)
		bits := 64
		if a.Is4() {
			bits = 24
		}
		k, _ := a.Prefix(bits)
		x := wantNet[k]
		x.txf, x.txb, x.rxf, x.rxb = x.txf+e.TxFrames, x.txb+e.TxBytes, x.rxf+e.RxFrames, x.rxb+e.RxBytes
		wantNet[k] = x
	}
	gotNet := map[netip.Prefix]sums{}
	for _, l := range [][]census.Talker{rep.Subnets.BySent, rep.Subnets.ByReceived} {
		for _, n := range l {
			gotNet[n.Prefix] = sums{n.SentPackets, n.SentBytes, n.ReceivedPackets, n.ReceivedBytes}
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(wantNet), comparePrefixes) {
		if wantNet[k] != gotNet[k] {
			add("subnet", "%s: tshark's endpoints sum to %+v, census %+v", k, wantNet[k], gotNet[k])
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(gotNet), comparePrefixes) {
		if _, ok := wantNet[k]; !ok {
			add("subnet", "%s: census counts a subnet tshark's endpoints do not fall in", k)
		}
	}
	diffs = append(diffs, compareDirections(g, rep)...)
	diffs = append(diffs, compareEcho(g, rep)...)
	return diffs, hidden
}

// compareDirections derives the traffic per direction from tshark's
// conversations, with the golden's local host as the local side: A→B is
// outbound when A is local and B not, and so on; what no conversation
// carries (ARP, non-IP) has no direction.
func compareDirections(g *censusGolden, rep *census.Report) []diff {
	var want [5][2]uint64 // out, in, internal, transit, unknown
	dir := func(a, b string) int {
		la, lb := a == g.Local, b == g.Local
		switch {
		case la && lb:
			return 2
		case la:
			return 0
		case lb:
			return 1
		}
		return 3
	}
	var ip [2]uint64
	for _, c := range g.Conversations {
		for _, x := range []struct {
			a, b          string
			frames, bytes uint64
		}{{c.A, c.B, c.FramesAB, c.BytesAB}, {c.B, c.A, c.FramesBA, c.BytesBA}} {
			d := dir(x.a, x.b)
			want[d][0] += x.frames
			want[d][1] += x.bytes
			ip[0] += x.frames
			ip[1] += x.bytes
		}
	}
	want[4] = [2]uint64{g.Total[0] - ip[0], g.Total[1] - ip[1]}
	var out []diff
	for i, u := range []census.Use{rep.Total.Out, rep.Total.In, rep.Total.Internal, rep.Total.Transit, rep.Total.Unknown} {
		if want[i] != [2]uint64{u.Packets, u.Bytes} {
			out = append(out, diff{"direction", fmt.Sprintf("%s: from tshark's conversations %d frames %d bytes, census %d/%d",
				[]string{"out", "in", "internal", "transit", "unknown"}[i], want[i][0], want[i][1], u.Packets, u.Bytes)})
		}
	}
	return out
}

// compareEcho checks echo counts and big pings per source.
func compareEcho(g *censusGolden, rep *census.Report) []diff {
	var out []diff
	e := &rep.ICMP
	for _, x := range []struct {
		name string
		want [2]uint64
		got  census.Count
	}{{"echo_requests", g.Echo.EchoRequests, e.EchoRequests}, {"echo_replies", g.Echo.EchoReplies, e.EchoReplies},
		{"big_requests", g.Echo.Requests, e.BigRequests}, {"big_replies", g.Echo.Replies, e.BigReplies}} {
		if x.want != [2]uint64{x.got.Packets, x.got.Bytes} {
			out = append(out, diff{"echo", fmt.Sprintf("%s: tshark %v, census %d/%d", x.name, x.want, x.got.Packets, x.got.Bytes)})
		}
	}
	got := map[string][2]uint64{}
	for _, p := range e.Pingers {
		got[p.Host.String()] = [2]uint64{p.Pings, p.Bytes}
	}
	want := map[string][2]uint64{}
	for h, s := range g.Echo.BySource {
		want[h] = [2]uint64{s.Pings, s.Bytes}
	}
	for _, h := range slices.Sorted(maps.Keys(want)) {
		if want[h] != got[h] {
			out = append(out, diff{"echo", fmt.Sprintf("pinger %s: tshark %v, census %v", h, want[h], got[h])})
		}
	}
	for _, h := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[h]; !ok {
			out = append(out, diff{"echo", fmt.Sprintf("pinger %s: census %v, tshark none", h, got[h])})
		}
	}
	return out
}

func comparePrefixes(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

func jsonOf(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestForkerEquivalenceCorpus runs captures with many hosts and
// connections through summaries far too small for them, so that every
// top-talker summary evicts, and requires three workers to give the same
// census as one.
func TestForkerEquivalenceCorpus(t *testing.T) {
	pub := flowtest.CorpusDir(t, "public")
	for _, f := range []string{"http/ppp_example_http_mix.pcap", "http/zeek_wikipedia.pcap", "echo/cs_icmp_traceroute.pcapng", "linktypes/ppp_many_interfaces.pcapng",
		"linktypes/ppp_sll.pcap"} {
		cfg := census.Config{MaxHosts: 3, MaxSubnets: 2, MaxPingers: 1, TopN: 5, MaxIntervals: 4, Interval: time.Second}
		one, err := census.AnalyzeFile(filepath.Join(pub, f), cfg)
		require.NoError(t, err)
		cfg.Workers = 3
		three, err := census.AnalyzeFile(filepath.Join(pub, f), cfg)
		require.NoError(t, err)
		assert.Equal(t, jsonOf(t, one), jsonOf(t, three), f)
		assert.False(t, one.Hosts.Exact, "%s: the host summaries should have overflowed", f)
	}
}

// TestCrashers runs the captures that once crashed netecology's tools
// through the census, with one worker and three: nothing panics, every
// packet read is counted, and the censuses agree. A panic below the census
// (in flow or tcpstate, on the goroutine of a one-worker pass) skips the
// capture with the panic's message, so that the test runs it in full once
// that package is fixed.
func TestCrashers(t *testing.T) {
	dir := flowtest.CorpusDir(t, "crashers")
	files := flowtest.Captures(t, dir)
	require.NotEmpty(t, files)
	cfg := census.Config{Local: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/1")}}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			one, crash := analyzeRecover(f, cfg)
			if crash != nil {
				if strings.HasPrefix(crash.where, "github.com/netecology/netecology/flow/census.") {
					t.Fatalf("the census panicked in %s: %v\n%s", crash.where, crash.value, crash.stack)
				}
				t.Skipf("%s panics on %s (%v): a known crasher, not the census's", crash.where, filepath.Base(f), crash.value)
			}
			require.NotNil(t, one)
			assert.Equal(t, one.Summary.Packets, one.Total.Sum().Packets)
			cfg3 := cfg
			cfg3.Workers = 3
			three, _ := census.AnalyzeFile(f, cfg3)
			require.NotNil(t, three)
			assert.Equal(t, jsonOf(t, one), jsonOf(t, three))
		})
	}
}

// crash is a recovered panic: its value, the stack, and the function
// that panicked.
type crash struct {
	value        any
	stack, where string
}

// analyzeRecover is census.AnalyzeFile with one worker, a panic caught.
func analyzeRecover(f string, cfg census.Config) (rep *census.Report, c *crash) {
	defer func() {
		if v := recover(); v != nil {
			c = &crash{value: v, stack: string(debug.Stack())}
			lines := strings.Split(c.stack, "\n")
			for i, l := range lines {
				if strings.HasPrefix(l, "panic(") && i+2 < len(lines) { // then its file, then the function that panicked
					f := lines[i+2]
					c.where = f[:max(strings.LastIndex(f, "("), 0)] // without the arguments
					break
				}
			}
		}
	}()
	rep, _ = census.AnalyzeFile(f, cfg)
	return rep, nil
}
