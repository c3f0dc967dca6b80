package series_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/tcpstate"
)

// groundTruth is the part of the lab's groundtruth.json these tests use:
// what the lab measured independently (the emulator's frame counters,
// tshark's flags).
type groundTruth struct {
	Files []labFile `json:"files"`
}

type labFile struct {
	File     string `json:"file"`
	Measured struct {
		C2S       labDir    `json:"c2s"`
		S2C       labDir    `json:"s2c"`
		Requests  int       `json:"requests"`
		Handshake []float64 `json:"handshake_rtt_ms"`
	} `json:"measured"`
	Emulator struct {
		C2S struct {
			RxFrames uint64 `json:"rx_frames"`
			RxBytes  uint64 `json:"rx_bytes"`
		} `json:"client_to_server"`
		S2C struct {
			TxFrames uint64 `json:"tx_frames"`
			TxBytes  uint64 `json:"tx_bytes"`
		} `json:"server_to_client"`
	} `json:"emulator"`
}

type labDir struct {
	Pkts     uint64 `json:"pkts"`
	DataSegs int    `json:"data_segs"`
	Retrans  int    `json:"retrans"`
}

func labTruth(t *testing.T, dir, name string) labFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	require.NoError(t, err)
	var g groundTruth
	require.NoError(t, json.Unmarshal(b, &g))
	for _, f := range g.Files {
		if f.File == name {
			return f
		}
	}
	t.Fatalf("%s not in groundtruth.json", name)
	return labFile{}
}

// collect runs one pass over a capture with a Collector on connection 1.
func collect(t *testing.T, path string, cfg series.Config) (*flow.Result, *series.Result) {
	t.Helper()
	col := series.NewCollector(cfg)
	res, err := flow.AnalyzeFile(path, flow.Config{KeepConns: true, Consumers: []flow.Consumer{col}})
	require.NoError(t, err)
	return res, col.Result()
}

func TestLabCaptures(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	for _, name := range []string{"wan2m-pg-chatty.pcap", "wan2m-http-chatty.pcap", "wan2m-http-bulk.pcap",
		"wan2m-loss-pg-bulk.pcap", "wan2m-loss-http-bulk.pcap", "wan512-pg-chatty.pcapng"} {
		t.Run(name, func(t *testing.T) {
			gt := labTruth(t, dir, name)
			fr, sr := collect(t, filepath.Join(dir, name), series.Config{Conns: []int{1}, Width: 250 * time.Millisecond})
			require.Len(t, fr.Conns, 1)
			fc := fr.Conns[0]
			cs := sr.Conn(1)
			require.NotNil(t, cs)

			// Bin sums equal the connection's wire bytes and packets, as
			// flow counted them in the same pass and as the emulator
			// counted the frames it passed (capture on the client side).
			for d, want := range []tcpstate.DirStats{fc.C2S, fc.S2C} {
				assert.Equal(t, want.WireBytes, cs.Bins[d].TotalBytes(), "dir %d bytes", d)
				assert.Equal(t, want.Packets, cs.Bins[d].TotalPackets(), "dir %d packets", d)
				assert.Equal(t, want.WireBytes, cs.WireBytes[d])
				assert.Equal(t, want.WireBytes, sr.Link[d].TotalBytes(), "one connection: link = conn")
			}
			assert.Equal(t, gt.Emulator.C2S.RxBytes, cs.Bins[0].TotalBytes())
			assert.Equal(t, gt.Emulator.C2S.RxFrames, cs.Bins[0].TotalPackets())
			assert.Equal(t, gt.Emulator.S2C.TxBytes, cs.Bins[1].TotalBytes())
			assert.Equal(t, gt.Emulator.S2C.TxFrames, cs.Bins[1].TotalPackets())

			// Every series is on one grid that covers the capture.
			n := sr.Link[0].Len()
			assert.Equal(t, int(sr.Last.Sub(sr.Start)/sr.Width)+1, n)
			assert.Equal(t, fc.First, sr.First)
			// The grid starts on a multiple of its width since the epoch
			// (whole seconds from the zero time.Time, so Truncate agrees).
			assert.Equal(t, fc.First.Truncate(sr.Width), sr.Start)
			assert.Equal(t, fc.Last, sr.Last)
			for d := range 2 {
				assert.Equal(t, n, cs.Bins[d].Len())
				assert.Equal(t, sr.Start, cs.Bins[d].Start)
			}

			// Points: all packets, sequence ranges and ACK lines monotone
			// in this lossless-or-lightly-lossy, unreordered lab.
			require.Len(t, cs.Points, int(fc.C2S.Packets+fc.S2C.Packets))
			var data, retrans [2]int
			var lastAck [2]int64
			for _, p := range cs.Points {
				if p.Len > 0 {
					data[p.Dir]++
				}
				if p.Retrans {
					retrans[p.Dir]++
				}
				if p.Flags.Has(tcpstate.ACK) && !p.Flags.Has(tcpstate.RST) {
					assert.GreaterOrEqual(t, p.Ack, lastAck[p.Dir], "ACK line of dir %d at packet %d", p.Dir, p.Index)
					lastAck[p.Dir] = p.Ack
				}
				assert.GreaterOrEqual(t, p.End, p.Seq)
			}
			assert.Equal(t, [2]int{gt.Measured.C2S.DataSegs, gt.Measured.S2C.DataSegs}, data)
			// Our retransmission label (below the highest sequence sent)
			// marks what tshark calls a retransmission or out-of-order:
			// captured downstream of a loss, both fill a hole.
			assert.GreaterOrEqual(t, retrans[0], gt.Measured.C2S.Retrans)
			assert.GreaterOrEqual(t, retrans[1], gt.Measured.S2C.Retrans)
			if want, ok := tsharkRetrans(t, name); ok {
				var got []uint64
				for _, p := range cs.Points {
					if p.Retrans {
						got = append(got, p.Index)
					}
				}
				assert.ElementsMatch(t, want, got, "tshark retransmission + out_of_order frames")
			}
			// The final ACK of each side covers everything the other sent
			// (unique bytes + SYN + FIN).
			assert.Equal(t, int64(fc.C2S.UniqueBytes+2), lastAck[1])
			assert.Equal(t, int64(fc.S2C.UniqueBytes+2), lastAck[0])

			// tcpstate's labels, passed through: its retransmission family
			// and out-of-order are the segments Point.Retrans marks (bytes
			// sent before).
			for _, p := range cs.Points {
				l := p.Labels
				theirs := l.Retransmitted() || l.Has(tcpstate.OutOfOrder)
				assert.Equal(t, theirs, p.Retrans, "packet %d labels %v", p.Index, l)
			}

			// Capture-wide minimum RTT per interval, data sent by the
			// client (captured at the client: network round trips): never
			// below the link's floor (2 x 75 ms + serialization), and its
			// smallest is the handshake's.
			var lo time.Duration
			for _, m := range sr.MinRTT[0] {
				if m > 0 {
					assert.GreaterOrEqual(t, m, 150336*time.Microsecond)
					if lo == 0 || m < lo {
						lo = m
					}
				}
			}
			assert.InDelta(t, gt.Measured.Handshake[0], float64(lo)/1e6, 0.001)

			// Turns as the lab counts them; the handshake RTT sample.
			assert.Len(t, series.SplitTurns(cs.Points), gt.Measured.Requests)
			rtt := series.SamplesOf(cs.Points)
			require.NotEmpty(t, rtt)
			assert.InDelta(t, gt.Measured.Handshake[0], float64(rtt[0].RTT)/1e6, 0.001)
		})
	}
}

// A pure-ICMP capture: no connection, yet capture-wide bins in both
// directions (echo requests out, replies back) that add up.
func TestPingSweep(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	fr, sr := collect(t, filepath.Join(dir, "wan2m-ping-sweep.pcap"), series.Config{Conns: []int{1}})
	assert.Empty(t, sr.Conns)
	require.Len(t, sr.Classes, 1)
	assert.Equal(t, "icmp", sr.Classes[0].Name)
	assert.Equal(t, fr.Summary.Packets, sr.Link[0].TotalPackets()+sr.Link[1].TotalPackets())
	assert.Equal(t, sr.Link[0].TotalPackets(), sr.Link[1].TotalPackets(), "one reply per echo")
	assert.Equal(t, sr.Link[0].TotalBytes(), sr.Link[1].TotalBytes(), "replies echo the payload")
}

// tsharkRetrans reads the frames tshark flags as retransmissions or
// out-of-order in a capture's first stream, from the TCP golden files
// (testdata/golden/tcp, made by gen_tcp.py there); ok is false when there
// is no golden for the capture.
func tsharkRetrans(t *testing.T, name string) (frames []uint64, ok bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(flowtest.RepoRoot(), "testdata", "golden", "tcp", "lab_"+name+".json"))
	if err != nil {
		return nil, false
	}
	type label struct {
		Frames []uint64 `json:"frames"`
	}
	var g struct {
		Streams []struct {
			AB map[string]label `json:"ab"`
			BA map[string]label `json:"ba"`
		} `json:"streams"`
	}
	require.NoError(t, json.Unmarshal(b, &g))
	require.NotEmpty(t, g.Streams)
	for _, dir := range []map[string]label{g.Streams[0].AB, g.Streams[0].BA} {
		frames = append(frames, dir["retransmissions"].Frames...)
		frames = append(frames, dir["out_of_order"].Frames...)
	}
	return frames, true
}
