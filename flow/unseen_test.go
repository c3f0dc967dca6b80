package flow_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
)

// emuDir is one direction's drop counters of the lab's link emulator.
type emuDir struct {
	Lost      int `json:"lost"`
	Tail      int `json:"tail_dropped"`
	Blackout  int `json:"blackout_dropped"`
	Collision int `json:"collision_lost"`
	SizeDrop  int `json:"sizedrop_dropped"`
}

func (e emuDir) isolated() int { return e.Lost + e.Tail }
func (e emuDir) all() int      { return e.Lost + e.Tail + e.Blackout + e.Collision + e.SizeDrop }

// The packets a sender sent that a capture does not hold, told by the
// sender's IPv4 IDs (tcpstate.Analysis.Unseen), against the lab
// emulator's own count of the frames it dropped (groundtruth.json of each
// lab set: Bernoulli loss, tail drops of a full queue, blackouts,
// collisions). The drops of the direction that reaches the capture point
// through the lossy link are the unseen ones: the server's at a client's
// capture, the client's at the server's, the server's at the mid-path tap
// (testdata/lab/vantage: the lossy hop is the 55 ms one, between the tap
// and the server). Every frame dropped on its own (loss, tail drops) is
// found, exactly, and nothing is found where the emulator dropped nothing
// or in the other direction; runs of drops longer than the IDs are
// trusted for (blackouts, collision bursts) are found in part.
func TestUnseenPacketsAreTheEmulatorsDrops(t *testing.T) {
	type file struct {
		Name  string `json:"name"`
		File  string `json:"file"`
		Point *struct {
			Point string `json:"point"`
		} `json:"capture_point"`
		Emulator *struct {
			C2S emuDir `json:"client_to_server"`
			S2C emuDir `json:"server_to_client"`
		} `json:"emulator"`
	}
	dirs := []string{flowtest.CorpusDir(t, "lab")}
	for _, s := range []string{"whatif", "vantage", "events", "span", "sweeps", "budget"} {
		dirs = append(dirs, filepath.Join(flowtest.RepoRoot(), "testdata", "lab", s))
	}
	checked, found := 0, 0
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
		require.NoError(t, err)
		var g struct {
			Files []file `json:"files"`
		}
		require.NoError(t, json.Unmarshal(b, &g))
		for _, f := range g.Files {
			if f.Emulator == nil {
				continue
			}
			res, err := flow.AnalyzeFile(filepath.Join(dir, f.File), flow.Config{KeepConns: true})
			require.NoError(t, err, f.Name)
			if len(res.Conns) == 0 {
				continue // ICMP and UDP sweeps: the drops are no TCP sender's
			}
			var unseen [2]uint64 // c2s, s2c
			for _, c := range res.Conns {
				unseen[0] += c.C2S.Unseen
				unseen[1] += c.S2C.Unseen
			}
			// at the client (and mid-path) the server's frames cross the
			// lossy link before the capture point, at the server the client's
			up, upIdx := f.Emulator.S2C, 1
			if f.Point != nil && f.Point.Point == "server" {
				up, upIdx = f.Emulator.C2S, 0
			}
			down := 1 - upIdx
			if up.all() == up.isolated() {
				assert.Equal(t, uint64(up.isolated()), unseen[upIdx], "%s: unseen packets against the emulator's drops", f.Name)
			} else {
				assert.LessOrEqual(t, unseen[upIdx], uint64(up.all()), "%s: unseen packets within the emulator's drops", f.Name)
			}
			assert.Zero(t, unseen[down], "%s: nothing unseen in the direction captured before the link", f.Name)
			checked++
			found += int(unseen[upIdx])
		}
	}
	t.Logf("%d lab captures, %d unseen packets found", checked, found)
	require.Greater(t, checked, 50)
}
