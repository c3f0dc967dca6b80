package series_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/plot"
	"github.com/netecology/netecology/tcpstate"
)

// TestTimeSequenceInvalidSACK: a SACK block whose right edge is not
// after its left edge is no range (RFC 2018 section 3: the right edge is
// the sequence number just after the block) and stays out of the
// time-sequence graph, which is drawn. A mutant of the lab's lossy bulk
// transfer whose SACK option carried such a block (1 073 468 151 bytes
// below its left edge) once failed the graph, and with it the whole
// report, with "bad data: SACK block".
func TestTimeSequenceInvalidSACK(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := flowtest.NewBuilder(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80"), start)
	b.SetISN(tcpstate.ClientToServer, 1000)
	b.SetISN(tcpstate.ServerToClient, 5000)
	b.Handshake(time.Millisecond, time.Millisecond, flowtest.Opts(flowtest.OptSACKPerm()), flowtest.Opts(flowtest.OptSACKPerm()))
	b.Send(tcpstate.ServerToClient, 1000, nil)
	b.Lose(tcpstate.ServerToClient, 1000)
	b.Send(tcpstate.ServerToClient, 1000, nil)
	b.Advance(time.Millisecond)
	// The server's stream starts at 5001: 5001-6001 arrived, 6001-7001
	// was lost, 7001-8001 arrived. One valid block, one backwards.
	backwards := uint32(8001 + 1<<32 - 1073468151) // 1073468151 below 8001, modulo 2^32
	b.Packet(tcpstate.ClientToServer, flowtest.Seg{Ack: 6001, SetAck: true,
		Opts: flowtest.Opts(flowtest.OptSACK([2]uint32{7001, 8001}, [2]uint32{8001, backwards}))})
	col := series.NewCollector(series.Config{Conns: []int{1}})
	_, err := flow.Analyze(bytes.NewReader(b.Bytes()), flow.Config{Consumers: []flow.Consumer{col}})
	require.NoError(t, err)
	cs := col.Result().Conn(1)
	require.NotNil(t, cs)
	ts := series.TimeSequence(cs.Points, tcpstate.ServerToClient, series.Window{})
	require.Len(t, ts.SACK, 1, "the backwards block is left out")
	assert.Equal(t, [2]int64{2001, 3001}, [2]int64{ts.SACK[0].First, ts.SACK[0].End}, "7001-8001 relative to the ISN 5000")
	_, err = plot.TimeSequence(plot.Header{Title: "invalid SACK", Start: start}, plot.TSGData{Name: "s2c", Data: ts.Data,
		Retrans: ts.Retrans, OutOfOrder: ts.OutOfOrder, Ack: ts.Ack, Window: ts.Window, SACK: ts.SACK, ZeroWindow: ts.ZeroWindow})
	assert.NoError(t, err)
}
