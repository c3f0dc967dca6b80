package census_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/census"
	"github.com/netecology/netecology/flow/flowtest"
)

// TestLabFlood: the lab's flood capture (testdata/lab/events) runs the
// mixed workload (an HTTP download and a chatty PostgreSQL session between
// 10.77.0.1 and 10.77.0.2) while a third host, 10.77.0.3, pings the server
// with 1400-byte payloads 20 times a second (`ping -s 1400 -i 0.05 -c 200`).
// The census names the download's server and the pinger as the top two
// talkers, and the pinger as the big pinger, with exactly the bytes of
// tshark's endpoint statistics recorded in groundtruth.json.
func TestLabFlood(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "events")
	var gt struct {
		Files []struct {
			File  string `json:"file"`
			Flood struct {
				Host        string `json:"host"`
				Transmitted int    `json:"transmitted"`
				FrameLen    int    `json:"frame_len"`
			} `json:"flood"`
			Hosts struct {
				Endpoints []struct {
					IP      string `json:"ip"`
					TxBytes uint64 `json:"tx_bytes"`
					RxBytes uint64 `json:"rx_bytes"`
				} `json:"endpoints"`
			} `json:"hosts"`
		} `json:"files"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &gt))
	for _, f := range gt.Files {
		if f.File != "wan2m-flood.pcap.gz" {
			continue
		}
		rep, err := census.AnalyzeFile(filepath.Join(dir, f.File), census.Config{})
		require.NoError(t, err)
		require.True(t, rep.Hosts.Exact)
		sent := rep.Hosts.BySent
		require.GreaterOrEqual(t, len(sent), 3)
		// tshark's endpoints, sorted by bytes sent: the server (the
		// download), the pinger, the client.
		for i, want := range []string{"10.77.0.2", f.Flood.Host, "10.77.0.1"} {
			assert.Equal(t, want, sent[i].Prefix.Addr().String(), "top talker %d", i+1)
			for _, e := range f.Hosts.Endpoints {
				if e.IP == want {
					assert.Equal(t, e.TxBytes, sent[i].SentBytes, want)
					assert.Equal(t, e.RxBytes, sent[i].ReceivedBytes, want)
				}
			}
		}
		ic := rep.ICMP
		require.NotEmpty(t, ic.Pingers)
		assert.Equal(t, f.Flood.Host, ic.Pingers[0].Host.String())
		assert.EqualValues(t, f.Flood.Transmitted, ic.BigRequests.Packets)
		// 200 requests and 200 replies of 1442-byte frames.
		assert.EqualValues(t, 2*f.Flood.Transmitted*f.Flood.FrameLen, ic.Pingers[0].Bytes)
		return
	}
	t.Fatal("no wan2m-flood.pcap.gz in testdata/lab/events/groundtruth.json")
}
