package flow

import (
	"bytes"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

// TestClosedConnReleasesApp: once both byte streams of a connection are
// complete (FIN both ways, every byte before them seen), its application
// analysis is closed and released, though the connection waits out the
// close linger for late packets; a late packet does not bring it back,
// and the record's application figures are those of the whole exchange
// (100 bytes up, 1,000 down), with one worker and with two.
func TestClosedConnReleasesApp(t *testing.T) {
	cli := netip.MustParseAddrPort("10.0.0.1:40000")
	srv := netip.MustParseAddrPort("10.0.0.2:5432")
	b := flowtest.NewBuilder(cli, srv, time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	b.Handshake(time.Millisecond, time.Millisecond, nil, nil)
	b.Send(tcpstate.ClientToServer, 100, nil)
	b.Ack(tcpstate.ServerToClient, nil)
	b.Send(tcpstate.ServerToClient, 1000, nil)
	b.Ack(tcpstate.ClientToServer, nil)
	b.Packet(tcpstate.ClientToServer, flowtest.Seg{Flags: tcpstate.FIN})
	finSeq := b.Nxt(tcpstate.ServerToClient)
	b.Packet(tcpstate.ServerToClient, flowtest.Seg{Flags: tcpstate.FIN})
	complete := b.Len()
	b.Ack(tcpstate.ClientToServer, nil)
	b.Advance(10 * time.Second)
	// the server's FIN again, 10 s late
	b.Packet(tcpstate.ServerToClient, flowtest.Seg{Flags: tcpstate.FIN, Seq: finSeq, SetSeq: true})
	for _, workers := range []int{1, 2} {
		var got *Conn
		a := NewAnalyzer(Config{Workers: workers, Consumers: []Consumer{forkable{ConnFunc(func(c *Conn) { got = c })}}})
		rd, err := NewReader(bytes.NewReader(b.Bytes()))
		require.NoError(t, err)
		for n := 1; ; n++ {
			p, err := rd.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			a.Add(p)
			if workers == 1 && n >= complete-1 {
				// the app analysis runs on the shard: look once it has
				// had the packet
				require.Len(t, a.table, 1)
				for _, e := range a.table {
					assert.Equal(t, n >= complete, e.sc.app == nil, "packet %d: released", n)
					assert.Equal(t, n >= complete, e.sc.done != nil, "packet %d: figures kept", n)
				}
			}
		}
		a.Close()
		require.NotNil(t, got, "workers %d", workers)
		assert.Equal(t, int64(100), got.App.BytesC2S, "workers %d", workers)
		assert.Equal(t, int64(1000), got.App.BytesS2C, "workers %d", workers)
		assert.Equal(t, uint64(b.Len()), got.C2S.Packets+got.S2C.Packets, "the late FIN belongs to it")
	}
}

// forkable makes a ConnFunc a Forker, so that a pass with several
// workers runs in parallel: the root receives each ended connection, its
// forks nothing.
type forkable struct{ ConnFunc }

func (f forkable) Fork() Consumer         { return ConnFunc(func(*Conn) {}) }
func (f forkable) Merge(forks []Consumer) {}
