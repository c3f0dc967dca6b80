package linkq_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/linkq"
)

// TestReadTruncation cuts a real ping sweep at many lengths: each cut
// yields the report of the packets before it (or only an error when the
// file header is cut), never a panic, and never more matches than requests.
func TestReadTruncation(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(flowtest.CorpusDir(t, "lab"), "wan2m-ping-sweep.pcap"))
	require.NoError(t, err)
	prev := uint64(0)
	for n := 0; n <= len(b); n += 1 + len(b)/97 {
		rep, err := linkq.Analyze(bytes.NewReader(b[:n]), linkq.Config{})
		if n < 24 {
			require.Error(t, err)
			require.Nil(t, rep)
			continue
		}
		require.NotNil(t, rep, "cut at %d", n)
		e := rep.Echo
		assert.LessOrEqual(t, e.Matched, e.Requests)
		assert.Equal(t, e.Requests, e.Matched+e.Lost, "cut at %d: every request is answered or lost", n)
		assert.GreaterOrEqual(t, e.Requests, prev)
		prev = e.Requests
	}
	rep, err := linkq.Analyze(bytes.NewReader(b), linkq.Config{})
	require.NoError(t, err)
	assert.Equal(t, uint64(200), rep.Echo.Matched)
}

// TestGarbagePackets feeds random-looking transport bytes of every
// protocol through a whole Analyzer: counted, never a panic.
func TestGarbagePackets(t *testing.T) {
	a := linkq.New(linkq.Config{Echo: linkq.EchoConfig{MaxOutstanding: 8}, Target: linkq.Target{RTT: 1, Rate: 1}})
	x := uint32(1)
	for i := range 5000 {
		n := i % 90
		l4 := make([]byte, n)
		for j := range l4 {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			l4[j] = byte(x)
		}
		proto := []uint8{1, 17, 58}[i%3]
		if i%7 == 0 && n >= 8 {
			l4[0] = []byte{8, 0, 3, 11, 128, 129}[i%6]
		}
		src, dst := hostA, hostB
		if i%2 == 1 {
			src, dst = dst, src
		}
		p := info(0, src, dst, proto, l4)
		p.L4Len = n + int(x%5) - 2
		a.Packet(p)
	}
	r := a.Report()
	e := r.Echo
	assert.Equal(t, e.Requests, e.Matched+e.Corrupted+e.Late+e.Errored+e.Lost+e.DuplicateRequests)
	assert.Equal(t, e.Replies, e.Matched+e.Corrupted+e.Late+e.Duplicates+e.Orphans)
	assert.NotZero(t, e.Requests)
	assert.NotZero(t, e.Replies)
	assert.NotZero(t, e.Malformed+e.Truncated)
}
