package tcpstate_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
)

// crasher analyses one capture of the corpus's crashers folder, which must
// read without a panic and hold one connection.
func crasher(t *testing.T, name string) *flow.Conn {
	t.Helper()
	res, err := flow.AnalyzeFile(filepath.Join(flowtest.CorpusDir(t, "crashers"), name), flow.Config{KeepConns: true})
	require.NoError(t, err)
	require.Len(t, res.Conns, 1)
	return res.Conns[0]
}

// TestCrasherCoverageFillOOB: 27 segments of 100 bytes whose sequence
// numbers jump across the 32-bit space once panicked in the hole list.
// tshark lists their sequence numbers: 27 disjoint ranges, 2700 bytes.
// Five lie more than 2^30 from the stream around 0-1 M (no window allows
// that): each counts once, untracked. Eight lie below 4101, the first byte
// seen (501 ... 2501, and 4294380877 and 4116502803 just below 0 modulo
// 2^32): the tracker counts the space below its first byte as covered,
// erring low. Unique: 2700 - 800 = 1900.
func TestCrasherCoverageFillOOB(t *testing.T) {
	c := crasher(t, "coverage-fill-oob.pcap")
	assert.Equal(t, uint64(27), c.C2S.Packets)
	assert.Equal(t, uint64(2700), c.C2S.PayloadBytes)
	assert.Equal(t, uint64(1900), c.C2S.UniqueBytes)
}

// TestCrasherUniqueBytesOvercount: four 100-byte segments at
// 2401567355, 3612604207, 1125588718 and 969771374 (tshark) were counted
// as 1,211,037,152 unique bytes; each is more than 2^30 from the others,
// so each counts its own 100 bytes.
func TestCrasherUniqueBytesOvercount(t *testing.T) {
	c := crasher(t, "unique-bytes-overcount.pcap")
	assert.Equal(t, uint64(400), c.C2S.PayloadBytes)
	assert.Equal(t, uint64(400), c.C2S.UniqueBytes)
}
