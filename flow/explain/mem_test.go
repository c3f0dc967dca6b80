package explain

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/tcpstate"
)

// feeder feeds scripted segments to a connection's tcpstate.Conn and, if
// cs is set, its explanation state.
type feeder struct {
	tc  *tcpstate.Conn
	cs  *connState
	now time.Time
	ts  uint32
	idx uint64
}

func (f *feeder) seg(d tcpstate.Dir, seq, ack tcpstate.Seq, fl tcpstate.Flags, n int, after time.Duration) {
	f.now = f.now.Add(after)
	f.idx++
	f.ts++
	s := tcpstate.Segment{Index: f.idx, Time: f.now, Seq: seq, Ack: ack, Flags: fl, Len: n, Window: 1000,
		WireLen: 66 + n, HeaderLen: 32, Payload: payload[:n]}
	s.Opts.HasTimestamps, s.Opts.TSVal, s.Opts.TSEcr = true, f.ts, f.ts-1
	if fl.Has(tcpstate.SYN) {
		s.Opts.HasMSS, s.Opts.MSS = true, 1460
	}
	an := f.tc.Add(d, &s)
	if f.cs != nil {
		f.cs.add(d, &s, an, f.tc)
	}
}

var payload = make([]byte, 1500)

// start sets f up at the scripts' start time with a new tcpstate.Conn
// and, when opts is set, explanation state of connection id.
func (f *feeder) start(opts *Options, id int) {
	f.tc = tcpstate.NewConn()
	if opts != nil {
		f.cs = new(connState)
		f.cs.init(opts, id, nil)
	}
	f.now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
}

// heapPerConn returns the heap bytes one connection's state takes after
// script (tcpstate's, and explain's when explain is set), averaged over n
// connections kept alive.
func heapPerConn(n int, explain bool, script func(f *feeder)) float64 {
	var opts *Options
	if explain {
		opts = &Options{}
		opts.norm()
	}
	feeders := make([]feeder, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range feeders {
		f := &feeders[i]
		f.start(opts, i+1)
		script(f)
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(feeders)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

func synOnly(f *feeder) { f.seg(tcpstate.ClientToServer, 1000, 0, tcpstate.SYN, 0, 0) }

// handshake feeds a handshake of 50 ms and returns the client's and the
// server's next sequence numbers.
func handshake(f *feeder) (cs, ss tcpstate.Seq) {
	c2s, s2c := tcpstate.ClientToServer, tcpstate.ServerToClient
	cs, ss = 1000, 5000
	f.seg(c2s, cs, 0, tcpstate.SYN, 0, 0)
	f.seg(s2c, ss, cs+1, tcpstate.SYN|tcpstate.ACK, 0, 50*time.Millisecond)
	cs, ss = cs+1, ss+1
	f.seg(c2s, cs, ss, tcpstate.ACK, 0, time.Millisecond)
	return cs, ss
}

// chatty is a handshake and 10 request/response turns with timestamps.
func chatty(f *feeder) {
	c2s, s2c := tcpstate.ClientToServer, tcpstate.ServerToClient
	cs, ss := handshake(f)
	for range 10 {
		f.seg(c2s, cs, ss, tcpstate.ACK|tcpstate.PSH, 50, time.Millisecond)
		cs = cs.Add(50)
		f.seg(s2c, ss, cs, tcpstate.ACK|tcpstate.PSH, 400, 51*time.Millisecond)
		ss = ss.Add(400)
	}
	f.seg(c2s, cs, ss, tcpstate.ACK, 0, time.Millisecond)
}

// TestMemPerConn bounds the explanation state of a connection (its
// tcpstate.Conn, measured apart, excluded): a SYN-only connection and an
// established chatty one. Before issue 17's trimming (time.Time fields, a
// 128-entry ring of segment ends per direction and a 32-entry ring of
// times inline, a spacing histogram inline) they took 4864 and 6013 bytes
// (this test run on the code of commit bc9be15).
func TestMemPerConn(t *testing.T) {
	for _, x := range []struct {
		name   string
		script func(*feeder)
		limit  float64
	}{{"SYN-only", synOnly, 2100}, {"chatty (10 turns)", chatty, 2700}} {
		tcp := heapPerConn(2000, false, x.script)
		both := heapPerConn(2000, true, x.script)
		t.Logf("%s: explain %.0f B, tcpstate %.0f B", x.name, both-tcp, tcp)
		assert.LessOrEqual(t, both-tcp, x.limit, x.name)
	}
}

// TestClosedConnReleasesEnds checks that a closed connection's emptied
// lists of unacknowledged segments are released (flow keeps a closed
// connection for its late packets, and a busy capture holds thousands
// of them): a bulk connection of 40 segments in flights of 20 keeps its
// list between flights while open and lets both go once closed by a FIN
// each way and acknowledged; a late resent FIN then allocates nothing.
// A connection whose hosts go on after a RST gets its list back with its
// next segment and keeps it: its later turns allocate nothing (released
// at every emptying, the list was allocated again at every turn).
func TestClosedConnReleasesEnds(t *testing.T) {
	opts := Options{}
	opts.norm()
	newFeeder := func() *feeder {
		f := new(feeder)
		f.start(&opts, 1)
		return f
	}
	c2s, s2c := tcpstate.ClientToServer, tcpstate.ServerToClient
	f := newFeeder()
	cs, ss := handshake(f)
	f.seg(c2s, cs, ss, tcpstate.ACK|tcpstate.PSH, 50, time.Millisecond)
	cs = cs.Add(50)
	for range 2 {
		for range 20 {
			f.seg(s2c, ss, cs, tcpstate.ACK, 1448, 100*time.Microsecond)
			ss = ss.Add(1448)
		}
		require.Equal(t, 20, f.cs.d[s2c].ends.n, "a flight of 20 unacknowledged")
		f.seg(c2s, cs, ss, tcpstate.ACK, 0, 50*time.Millisecond)
	}
	require.NotNil(t, f.cs.d[s2c].ends.e, "open: the list stays for the next flight")
	f.seg(s2c, ss, cs, tcpstate.FIN|tcpstate.ACK, 0, time.Millisecond)
	f.seg(c2s, cs, ss+1, tcpstate.FIN|tcpstate.ACK, 0, 50*time.Millisecond)
	f.seg(s2c, ss+1, cs+1, tcpstate.ACK, 0, 50*time.Millisecond)
	require.True(t, f.tc.Closed())
	for d := range f.cs.d {
		assert.Nil(t, f.cs.d[d].ends.e, "direction %d: released once closed and emptied", d)
	}
	allocs := testing.AllocsPerRun(1, func() { f.seg(s2c, ss, cs+1, tcpstate.FIN|tcpstate.ACK, 0, 0) })
	assert.Zero(t, allocs, "a late resent FIN")

	// a RST the hosts ignore: turns go on, each ACKed
	g := newFeeder()
	cs, ss = handshake(g)
	g.seg(c2s, cs, ss, tcpstate.RST|tcpstate.ACK, 0, time.Millisecond)
	require.True(t, g.tc.Closed())
	turn := func() {
		g.seg(c2s, cs, ss, tcpstate.ACK|tcpstate.PSH, 50, time.Millisecond)
		cs = cs.Add(50)
		g.seg(s2c, ss, cs, tcpstate.ACK|tcpstate.PSH, 400, 50*time.Millisecond)
		ss = ss.Add(400)
		g.seg(c2s, cs, ss, tcpstate.ACK, 0, time.Millisecond)
	}
	for range 50 { // past the growth of the connection's samples and bins
		turn()
	}
	assert.NotNil(t, g.cs.d[s2c].ends.e, "the list came back with the data after the RST and stays")
	allocs = testing.AllocsPerRun(20, turn)
	assert.Zero(t, allocs, "a turn after the RST")
}
