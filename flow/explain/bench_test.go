package explain_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

func readLab(tb testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name))
	require.NoError(tb, err)
	return b
}

func BenchmarkExplainBulk(b *testing.B) {
	data := readLab(b, "wan2m-http-bulk.pcap")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := explain.Analyze(bytes.NewReader(data), explain.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// The per-packet path does not allocate once a connection is tracked.
func TestPacketDoesNotAllocate(t *testing.T) {
	data := readLab(t, "wan2m-http-bulk.pcap")
	rd, err := flow.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	e := explain.New(explain.Options{})
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
	e.Packet(&infos[0]) // the connection's state is allocated here
	i := 1
	allocs := testing.AllocsPerRun(len(infos)-2, func() {
		e.Packet(&infos[i])
		i++
	})
	require.Zero(t, allocs)
}
