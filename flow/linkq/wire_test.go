package linkq_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/linkq"
)

var port7 = []uint16{7}

func TestParseEcho(t *testing.T) {
	payload := data(32, 1)
	// An IPv4 header quoting an ICMP echo request, as in an ICMP error.
	quotedICMP := ipv4(hostA, hostB, 1, icmpEcho(8, 1, 2, nil))
	quotedUDP := ipv4(hostA, hostB, 17, udpDatagram(40000, 7, nil))
	quotedTCP := ipv4(hostA, hostB, 6, make([]byte, 20))
	quoted6 := make([]byte, 40)
	quoted6[0], quoted6[6] = 0x60, 58
	quoted6 = append(quoted6, icmpEcho(128, 1, 2, nil)...)
	badUDPLen := udpDatagram(40000, 7, payload)
	badUDPLen[5] = 4 // UDP length 4: shorter than its header

	tests := []struct {
		name    string
		proto   uint8
		l4      []byte
		l4Len   int // 0: len(l4)
		want    linkq.ParseResult
		kind    linkq.EchoKind
		id, seq uint16
		plen    int
	}{
		{"icmp request", 1, icmpEcho(8, 0x1234, 7, payload), 0, linkq.ParseRequest, linkq.EchoICMP, 0x1234, 7, 32},
		{"icmp reply", 1, icmpEcho(0, 0x1234, 7, payload), 0, linkq.ParseReply, linkq.EchoICMP, 0x1234, 7, 32},
		{"icmpv6 request", 58, icmpEcho(128, 9, 65535, nil), 0, linkq.ParseRequest, linkq.EchoICMPv6, 9, 65535, 0},
		{"icmpv6 reply", 58, icmpEcho(129, 9, 1, payload), 0, linkq.ParseReply, linkq.EchoICMPv6, 9, 1, 32},
		{"icmp reply cut by snaplen", 1, icmpEcho(0, 1, 1, payload)[:20], 40, linkq.ParseReply, linkq.EchoICMP, 1, 1, 32},
		{"v4 type 128 is not echo", 1, icmpEcho(128, 1, 1, nil), 0, linkq.ParseNotEcho, 0, 0, 0, 0},
		{"icmp timestamp", 1, icmpEcho(13, 1, 1, nil), 0, linkq.ParseNotEcho, 0, 0, 0, 0},
		{"icmp header cut", 1, []byte{8, 0, 0, 0}, 40, linkq.ParseTruncated, 0, 0, 0, 0},
		{"icmp shorter than header", 1, []byte{8, 0, 0, 0}, 0, linkq.ParseMalformed, 0, 0, 0, 0},
		{"empty icmp", 1, nil, 0, linkq.ParseMalformed, 0, 0, 0, 0},
		{"unreachable quoting echo", 1, append(icmpEcho(3, 0, 0, nil), quotedICMP...), 0, linkq.ParseErrorQuotingEcho, 0, 0, 0, 0},
		{"time exceeded quoting udp echo", 1, append(icmpEcho(11, 0, 0, nil), quotedUDP...), 0, linkq.ParseErrorQuotingEcho, 0, 0, 0, 0},
		{"unreachable quoting tcp", 1, append(icmpEcho(3, 0, 0, nil), quotedTCP...), 0, linkq.ParseNotEcho, 0, 0, 0, 0},
		{"unreachable quoting a cut header", 1, append(icmpEcho(3, 0, 0, nil), quotedICMP[:12]...), 0, linkq.ParseNotEcho, 0, 0, 0, 0},
		{"icmpv6 unreachable quoting echo", 58, append(icmpEcho(1, 0, 0, nil), quoted6...), 0, linkq.ParseErrorQuotingEcho, 0, 0, 0, 0},
		{"udp request", 17, udpDatagram(40000, 7, payload), 0, linkq.ParseRequest, linkq.EchoUDP, 40000, 7, 32},
		{"udp reply", 17, udpDatagram(7, 40000, payload), 0, linkq.ParseReply, linkq.EchoUDP, 7, 40000, 32},
		{"udp between echo ports", 17, udpDatagram(7, 7, payload), 0, linkq.ParseNotEcho, 0, 0, 0, 0},
		{"udp dns", 17, udpDatagram(40000, 53, payload), 0, linkq.ParseNotEcho, 0, 0, 0, 0},
		{"udp length below header", 17, badUDPLen, 0, linkq.ParseMalformed, 0, 0, 0, 0},
		{"udp length beyond ip", 17, udpDatagram(40000, 7, payload)[:30], 30, linkq.ParseMalformed, 0, 0, 0, 0},
		{"udp header cut", 17, []byte{0, 7}, 40, linkq.ParseTruncated, 0, 0, 0, 0},
		{"tcp", 6, make([]byte, 20), 0, linkq.ParseNotEcho, 0, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.l4Len
			if n == 0 {
				n = len(tc.l4)
			}
			e, res := linkq.ParseEcho(tc.proto, tc.l4, n, port7)
			require.Equal(t, tc.want, res)
			if res == linkq.ParseRequest || res == linkq.ParseReply {
				assert.Equal(t, tc.kind, e.Kind)
				assert.Equal(t, tc.id, e.ID)
				assert.Equal(t, tc.seq, e.Seq)
				assert.Equal(t, tc.plen, e.PayloadLen)
				assert.LessOrEqual(t, len(e.Payload), e.PayloadLen)
			}
		})
	}
}

// FuzzEcho checks that ParseEcho never panics and that what it returns is
// consistent with its input.
func FuzzEcho(f *testing.F) {
	f.Add(uint8(1), icmpEcho(8, 1, 2, data(10, 0)), 18)
	f.Add(uint8(58), icmpEcho(129, 1, 2, nil), 8)
	f.Add(uint8(17), udpDatagram(7, 5000, data(3, 0)), 11)
	f.Add(uint8(1), append(icmpEcho(3, 0, 0, nil), ipv4(hostA, hostB, 17, udpDatagram(1, 7, nil))...), 36)
	f.Add(uint8(1), []byte{11, 0, 0, 0, 0, 0, 0, 0, 0x4f}, 9)
	f.Fuzz(func(t *testing.T, proto uint8, l4 []byte, l4Len int) {
		e, res := linkq.ParseEcho(proto, l4, l4Len, port7)
		if res == linkq.ParseRequest || res == linkq.ParseReply {
			if len(e.Payload) > e.PayloadLen || e.PayloadLen < 0 {
				t.Fatalf("payload %d bytes of %d", len(e.Payload), e.PayloadLen)
			}
			if e.Kind == linkq.EchoNone {
				t.Fatal("echo without kind")
			}
		}
		// The whole matcher must take the packet too.
		a := linkq.New(linkq.Config{})
		p := info(0, hostA, hostB, proto, l4)
		p.L4Len = l4Len
		a.Packet(p)
		p2 := info(1, hostB, hostA, proto, l4)
		p2.L4Len = l4Len
		a.Packet(p2)
		a.Report()
	})
}

func TestParseEchoQuoted(t *testing.T) {
	e, res := linkq.ParseEcho(1, append(icmpEcho(11, 0, 0, nil), ipv4(hostA, hostB, 1, icmpEcho(8, 0x0200, 0x0d00, nil))...), 36, port7)
	require.Equal(t, linkq.ParseErrorQuotingEcho, res)
	assert.Equal(t, linkq.EchoICMP, e.Kind)
	assert.Equal(t, [2]netip.Addr{hostA, hostB}, e.Quoted)
	assert.Equal(t, uint16(0x0200), e.ID)
	assert.Equal(t, uint16(0x0d00), e.Seq)

	e, res = linkq.ParseEcho(1, append(icmpEcho(3, 0, 0, nil), ipv4(hostA, hostB, 17, udpDatagram(40000, 7, data(100, 0)))[:28]...), 36, port7)
	require.Equal(t, linkq.ParseErrorQuotingEcho, res)
	assert.Equal(t, linkq.EchoUDP, e.Kind)
	assert.Equal(t, uint16(40000), e.ID)
	assert.Equal(t, uint16(7), e.Seq)
	assert.Equal(t, 100, e.PayloadLen, "from the quoted UDP length")
}

// FuzzMatcher drives the echo matcher with a script of requests, replies
// and ICMP errors over a tiny ring, so that keys repeat, chains grow and
// requests are evicted, and checks the accounting identities.
func FuzzMatcher(f *testing.F) {
	f.Add([]byte{0, 1, 1, 10, 1, 1, 1, 10, 2, 1, 1, 10, 3, 1, 1, 10})
	f.Add([]byte{2, 0, 0, 5, 2, 0, 0, 5, 3, 0, 0, 5, 3, 0, 0, 250, 4, 0, 0, 1})
	f.Fuzz(func(t *testing.T, script []byte) {
		a := runScript(script)
		r := a.Report()
		e := r.Echo
		if e.Requests != e.Matched+e.Corrupted+e.Late+e.Errored+e.Lost+e.DuplicateRequests {
			t.Fatalf("requests do not add up: %+v", e)
		}
		if e.Replies != e.Matched+e.Corrupted+e.Late+e.Duplicates+e.Orphans {
			t.Fatalf("replies do not add up: %+v", e)
		}
		var sum linkq.PathEchoes
		samples := 0
		for _, p := range r.Paths {
			if p.Echoes != nil {
				sum.Requests += p.Echoes.Requests
				sum.Matched += p.Echoes.Matched
				sum.Lost += p.Echoes.Lost
			}
			samples += p.Samples
		}
		if uint64(samples) != e.Matched || uint64(sum.Matched) != e.Matched || uint64(sum.Lost) != e.Lost ||
			uint64(sum.Requests) != e.Requests-e.DuplicateRequests {
			t.Fatalf("paths disagree with the totals: %+v vs %+v, %d samples", sum, e, samples)
		}
	})
}

// runScript plays a FuzzMatcher script into a new Analyzer.
func runScript(script []byte) *linkq.Analyzer {
	a := linkq.New(linkq.Config{Echo: linkq.EchoConfig{MaxOutstanding: 5, Timeout: time.Second}})
	at := time.Duration(0)
	for len(script) >= 4 {
		op, id, seq, dt := script[0]%6, uint16(script[1]%3), uint16(script[2]%3), script[3]
		script = script[4:]
		at += time.Duration(dt) * 10 * time.Millisecond
		d := data(int(seq)*3, byte(id))
		switch op {
		case 0:
			a.Packet(info(at, hostA, hostB, 1, icmpEcho(8, id, seq, d)))
		case 1:
			a.Packet(info(at, hostB, hostA, 1, icmpEcho(0, id, seq, d)))
		case 2:
			a.Packet(info(at, hostA, hostB, 17, udpDatagram(4000+id, 7, d)))
		case 3:
			a.Packet(info(at, hostB, hostA, 17, udpDatagram(7, 4000+id, d)))
		case 4:
			q := ipv4(hostA, hostB, 1, icmpEcho(8, id, seq, nil))
			a.Packet(info(at, hostB, hostA, 1, append(icmpEcho(11, 0, 0, nil), q...)))
		case 5:
			a.Packet(info(at, hostB, hostA, 17, udpDatagram(7, 4000+id, data(int(seq)*3, 99))))
		}
	}
	return a
}
