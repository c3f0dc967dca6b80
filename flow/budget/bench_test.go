package budget_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/budget"
	"github.com/netecology/netecology/tcpstate"
)

const benchSpec = `
at: {rtt: 150ms}
checks:
  - check: max(projected.duration_s) <= 5s
  - {of: transactions, check: p95(server_time_s) <= 40ms}
  - check: c2s.retrans_timeout + s2c.retrans_timeout == 0
`

func BenchmarkEvaluateBulk(b *testing.B) {
	data, err := os.ReadFile(lab("wan2m-http-bulk.pcap"))
	require.NoError(b, err)
	spec, err := budget.Parse("b.yaml", []byte(benchSpec))
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := budget.Evaluate(bytes.NewReader(data), spec, budget.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// The per-packet path (Checker.Packet: the capture's time span and the
// explanation of the packet's connection) does not allocate once the
// connection is tracked.
func TestPacketDoesNotAllocate(t *testing.T) {
	data, err := os.ReadFile(lab("wan2m-http-bulk.pcap"))
	require.NoError(t, err)
	rd, err := flow.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	var infos []flow.PacketInfo
	var segs []tcpstate.Segment
	a := flow.NewAnalyzer(flow.Config{Consumers: []flow.Consumer{flow.PacketFunc(func(p *flow.PacketInfo) {
		if p.Seg != nil {
			infos = append(infos, *p)
			segs = append(segs, *p.Seg)
		}
	})}})
	for {
		p, err := rd.Next()
		if err != nil {
			break
		}
		a.Add(p)
	}
	require.Greater(t, len(infos), 100)
	for i := range infos {
		infos[i].Seg = &segs[i]
	}
	spec, err := budget.Parse("b.yaml", []byte(benchSpec))
	require.NoError(t, err)
	c, err := budget.NewChecker(spec, budget.Options{})
	require.NoError(t, err)
	c.Packet(&infos[0]) // the connection's state is allocated here
	i := 1
	allocs := testing.AllocsPerRun(len(infos)-2, func() {
		c.Packet(&infos[i])
		i++
	})
	require.Zero(t, allocs)
}
