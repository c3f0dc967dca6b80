package budget_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/budget"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

const (
	c2s = tcpstate.ClientToServer
	s2c = tcpstate.ServerToClient
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// session scripts one connection seen from the client: a handshake whose
// round trip is 100.1 ms (SYN/ACK 100 ms after the SYN, the ACK 0.1 ms
// later), then per delay a 100-byte request 10 ms after the previous
// answer and a 500-byte answer delay after it, then the client's ACK 1 ms
// later. Its duration is 0.1001 + sum(0.010 + delay) + 0.001 s; it has
// 3 + 2*len(delays) + 1 packets.
type session struct {
	server string
	delays []time.Duration
}

// scripted writes the sessions one after the other, session i starting i
// seconds after t0 from client port 40001+i, as one capture.
func scripted(t testing.TB, sessions ...session) []byte {
	t.Helper()
	var out []byte
	for i, s := range sessions {
		b := flowtest.NewBuilder(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40001+i)),
			netip.MustParseAddrPort(s.server), t0.Add(time.Duration(i)*time.Second))
		b.Handshake(100*time.Millisecond, 100*time.Microsecond, flowtest.OptMSS(1460), flowtest.OptMSS(1460))
		for _, d := range s.delays {
			b.Advance(10 * time.Millisecond)
			b.Send(c2s, 100, nil)
			b.Advance(d)
			b.Send(s2c, 500, nil)
		}
		b.Advance(time.Millisecond)
		b.Ack(c2s, nil)
		data := b.Bytes()
		if i > 0 {
			data = data[24:] // the pcap file header once
		}
		out = append(out, data...)
	}
	return out
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// threeSessions: conn 1 to 10.0.0.2:7000 with 3 turns answered after 105,
// 115 and 125 ms; conn 2 to 10.0.0.2:7000 with 5 turns answered after 110
// ms; conn 3 to 10.0.0.3:8000 with 1 turn answered after 200 ms.
func threeSessions(t testing.TB) []byte {
	return scripted(t,
		session{"10.0.0.2:7000", []time.Duration{ms(105), ms(115), ms(125)}},
		session{"10.0.0.2:7000", []time.Duration{ms(110), ms(110), ms(110), ms(110), ms(110)}},
		session{"10.0.0.3:8000", []time.Duration{ms(200)}})
}

// evaluate parses spec and checks it on a capture held in memory.
func evaluate(t testing.TB, pcap []byte, spec string, opts budget.Options) *budget.Report {
	t.Helper()
	s, err := budget.Parse("test.yaml", []byte(spec))
	require.NoError(t, err)
	rep, err := budget.Evaluate(bytes.NewReader(pcap), s, opts)
	require.NoError(t, err)
	return rep
}

// lab returns the path of a committed lab capture.
func lab(name string) string { return filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name) }

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
