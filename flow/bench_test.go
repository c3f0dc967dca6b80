package flow_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
)

// benchCapture returns the capture the benchmarks read: $NETECOLOGY_BIG
// (the lab's make-big.sh output, ~3 million packets), else
// /tmp/lab-big/big.pcap, else the corpus's 82,582-packet echo load test.
func benchCapture(b *testing.B) string {
	for _, p := range []string{os.Getenv("NETECOLOGY_BIG"), "/tmp/lab-big/big.pcap"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return filepath.Join(flowtest.CorpusDir(b, "public/big"), "zeek_echo-connections.pcap")
}

// benchPasses reads the benchmark capture into memory (so disk speed is
// not measured) and runs one analysis pass per op with the Config that cfg
// returns (called once per pass, before it), reporting packets/s and
// allocations per packet.
func benchPasses(b *testing.B, cfg func() flow.Config) {
	path := benchCapture(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("capture %s (%d bytes)", path, len(data))
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var packets uint64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		rd, err := flow.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		a := flow.NewAnalyzer(cfg())
		for {
			p, err := rd.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
			a.Add(p)
		}
		a.Close()
		packets = a.Summary().Packets
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(packets)/sec, "packets/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(uint64(b.N)*packets), "allocs/packet")
}

// BenchmarkReadDemux measures the read → decode → demultiplex path on a
// whole capture held in memory. One op is one pass over the file.
func BenchmarkReadDemux(b *testing.B) {
	benchPasses(b, func() flow.Config { return flow.Config{} })
}

// TestSteadyStateAllocs checks the per-packet path allocates nothing once
// a connection is set up: many data segments on one connection.
func TestSteadyStateAllocs(t *testing.T) {
	pkts := handshake()
	rd := func() *flow.Reader {
		r, err := flow.NewReader(bytes.NewReader(pcapFile(binary.LittleEndian, false, uint32(flow.LinkRaw), pkts, times(len(pkts)))))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := flow.NewAnalyzer(flow.Config{KeepConns: true})
	r := rd()
	var held []flow.Packet
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		cp := *p
		cp.Data = append([]byte(nil), p.Data...)
		held = append(held, cp)
	}
	for i := range held[:4] {
		a.Add(&held[i])
	}
	data := held[3] // a data segment of the established connection
	allocs := testing.AllocsPerRun(1000, func() {
		a.Add(&data)
	})
	if allocs != 0 {
		t.Fatalf("steady-state Add allocates %.1f times per packet", allocs)
	}
}

// BenchmarkReadAnalyze is BenchmarkReadDemux with a per-packet consumer of
// the TCP analysis (as examples/flows -explain and figures use it): the
// whole read → decode → demultiplex → tcpstate path, labels, RTT samples
// and bytes in flight included. It reports labelled packets per pass.
func BenchmarkReadAnalyze(b *testing.B) {
	var labelled, samples uint64
	benchPasses(b, func() flow.Config {
		labelled, samples = 0, 0
		return flow.Config{Consumers: []flow.Consumer{flow.PacketFunc(func(p *flow.PacketInfo) {
			if p.Analysis != nil {
				if p.Analysis.Labels != 0 {
					labelled++
				}
				if p.Analysis.RTT > 0 {
					samples++
				}
			}
		})}}
	})
	b.ReportMetric(float64(labelled), "labelled/op")
	b.ReportMetric(float64(samples), "rtt-samples/op")
}
