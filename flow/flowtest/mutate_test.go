package flowtest_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

// scripted is a small capture: a handshake, a request, a response.
func scripted() []byte {
	b := flowtest.NewBuilder(netip.MustParseAddrPort("10.0.0.1:40000"),
		netip.MustParseAddrPort("10.0.0.2:80"), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b.Handshake(time.Millisecond, time.Millisecond, nil, nil)
	b.Send(tcpstate.ClientToServer, 100, nil)
	b.Send(tcpstate.ServerToClient, 1000, nil)
	b.Ack(tcpstate.ClientToServer, nil)
	return b.Bytes()
}

// records returns the offsets of each record's data and its length, by
// reading the record headers (little-endian, as the Builder writes).
func records(t *testing.T, b []byte) (at, n []int) {
	t.Helper()
	for off := 24; off < len(b); {
		l := int(binary.LittleEndian.Uint32(b[off+8:]))
		at, n = append(at, off+16), append(n, l)
		off += 16 + l
	}
	return at, n
}

// Mutate changes exactly the bytes it says, each inside a record's data:
// XORing the masks back gives the original; headers are untouched and
// the mutant reads as the same number of records.
func TestMutate(t *testing.T) {
	orig := scripted()
	at, n := records(t, orig)
	require.Len(t, at, 6) // SYN, SYN/ACK, ACK, request, response, ACK
	for seed := range uint64(50) {
		m, flips, err := flowtest.Mutate(orig, 1+int(seed%8), rand.New(rand.NewPCG(seed, 0)))
		require.NoError(t, err)
		require.Len(t, flips, 1+int(seed%8))
		require.Len(t, m, len(orig))
		back := bytes.Clone(m)
		for _, f := range flips {
			require.Less(t, f.Record, len(at))
			require.Less(t, f.Offset, n[f.Record], "flip %v outside the record's data", f)
			assert.NotZero(t, f.Mask)
			back[at[f.Record]+f.Offset] ^= f.Mask
		}
		assert.Equal(t, orig, back, "seed %d: only the flipped bytes differ", seed)
		assert.Equal(t, orig[:24], m[:24], "file header")
		for i := range at {
			assert.Equal(t, orig[at[i]-16:at[i]], m[at[i]-16:at[i]], "record header %d", i)
		}
		rd, err := flow.NewReader(bytes.NewReader(m))
		require.NoError(t, err)
		k := 0
		for ; ; k++ {
			if _, err := rd.Next(); err != nil {
				require.ErrorIs(t, err, io.EOF)
				break
			}
		}
		assert.Equal(t, len(at), k)
	}
	_, _, err := flowtest.Mutate([]byte("not a capture, but long enough"), 1, rand.New(rand.NewPCG(1, 1)))
	assert.Error(t, err)
}

// A campaign's mutant is the same each time it is made, from a gzipped
// capture as from the plain one.
func TestCampaign(t *testing.T) {
	dir := t.TempDir()
	plain, gz := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "a.pcap.gz")
	require.NoError(t, os.WriteFile(plain, scripted(), 0o644))
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, err := zw.Write(scripted())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(gz, zb.Bytes(), 0o644))

	c1 := &flowtest.Campaign{Sources: []string{plain}, Seed: 7}
	c2 := &flowtest.Campaign{Sources: []string{gz}, Seed: 7}
	for i := range 20 {
		a, err := c1.Mutant(i)
		require.NoError(t, err)
		b, err := c2.Mutant(i)
		require.NoError(t, err)
		assert.Equal(t, a.Data, b.Data, "mutant %d", i)
		assert.Equal(t, a.Flips, b.Flips)
		assert.GreaterOrEqual(t, len(a.Flips), 1)
		assert.LessOrEqual(t, len(a.Flips), flowtest.MaxFlips)
		again, err := c1.Mutant(i)
		require.NoError(t, err)
		assert.Equal(t, a.Data, again.Data)
	}
	m, err := c1.Mutant(3)
	require.NoError(t, err)
	assert.Contains(t, m.String(), "mutant 3 of "+plain+": record ")
}
