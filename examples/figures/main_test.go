package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/plot"
)

func lab(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(flowtest.CorpusDir(t, "lab"), name)
}

// Every kind renders from the lab captures, and the pair puts two
// connections side by side.
func TestKinds(t *testing.T) {
	for _, c := range []struct {
		file string
		o    options
	}{
		{"wan2m-pg-chatty.pcap", options{kind: "flow", conn: 1}},
		{"wan2m-http-bulk.pcap", options{kind: "flow", conn: 1, from: 0.5, to: 1.5}},
		{"wan512-mixed.pcap", options{kind: "bandwidth", rate: 512e3, percent: true}},
		{"wan2m-loss-http-bulk.pcap", options{kind: "tsg", conn: 1, dir: "s2c"}},
		{"wan2m-pg-chatty.pcap", options{kind: "tsg", conn: 1, dir: "c2s"}},
		{"wan2m-pg-chatty.pcap", options{kind: "rtt", conn: 1}},
		{"wan2m-http-chatty.pcap", options{kind: "timeline", conn: 1, max: 20}},
		{"wan512-mixed.pcap", options{kind: "rtt", conn: 0}},
	} {
		t.Run(c.o.kind+"/"+c.file, func(t *testing.T) {
			f, err := draw(lab(t, c.file), c.o)
			require.NoError(t, err)
			var b bytes.Buffer
			require.NoError(t, f.Render(&b, "png"))
			assert.Greater(t, b.Len(), 1000)
		})
	}
	dir := flowtest.CorpusDir(t, "lab")
	f, err := drawPair(filepath.Join(dir, "wan2m-pg-chatty.pcap")+":1,"+filepath.Join(dir, "wan2m-http-bulk.pcap")+":1",
		options{kind: "flow", to: 3.3})
	require.NoError(t, err)
	assert.Equal(t, [2]int{2, 2}, [2]int{f.Rows(), f.Cols()})
}

// The time-sequence graph of a lossy bulk transfer: the ACK line it is
// given never goes back and ends at the last byte sent (SYN + data + FIN);
// it marks the two retransmissions and the one out-of-order segment tshark
// flags (testdata/golden/tcp/lab_wan2m-loss-http-bulk.pcap.json: frames
// 595 and 707, and 358); every data segment is drawn once.
func TestTSGData(t *testing.T) {
	c, err := load(lab(t, "wan2m-loss-http-bulk.pcap"), options{kind: "tsg", conn: 1})
	require.NoError(t, err)
	h := c.header(options{})
	d, err := tsgData(c, h, options{dir: "s2c"})
	require.NoError(t, err)
	for i := 1; i < len(d.Ack); i++ {
		require.GreaterOrEqual(t, d.Ack[i].Seq, d.Ack[i-1].Seq)
	}
	require.NotEmpty(t, d.Ack)
	assert.Equal(t, int64(c.conn.S2C.UniqueBytes)+2, d.Ack[len(d.Ack)-1].Seq)
	assert.Len(t, d.Retrans, 2)
	assert.Len(t, d.OutOfOrder, 1)
	assert.NotEmpty(t, d.SACK)
	assert.Empty(t, d.ZeroWindow)
	// Data segments: the server's segments with payload, SYN or FIN.
	var occupying int
	for _, p := range c.cs.Points {
		if p.Dir == 1 && p.End > p.Seq {
			occupying++
		}
	}
	assert.Equal(t, occupying, len(d.Data)+len(d.Retrans)+len(d.OutOfOrder))
	_, err = drawTSG(c, h, options{dir: "s2c"})
	require.NoError(t, err)
	_, err = tsgData(c, h, options{dir: "up"})
	assert.ErrorContains(t, err, "bad -dir")
}

// The timeline draws appproto's transactions: the 200 queries of the
// chatty PostgreSQL session, each answered one round trip later.
func TestTimelineData(t *testing.T) {
	c, err := load(lab(t, "wan2m-pg-chatty.pcap"), options{kind: "timeline", conn: 1})
	require.NoError(t, err)
	tx := timelineData(c, c.header(options{}), options{})
	require.Len(t, tx, int(c.conn.App.Transactions))
	assert.Equal(t, 200, len(tx))
	for _, x := range tx {
		wait := x.FirstByte.Sub(x.Request)
		assert.True(t, wait >= 150*time.Millisecond && wait < 200*time.Millisecond, "wait %v", wait)
	}
	assert.Len(t, timelineData(c, c.header(options{}), options{max: 20}), 20)
}

// pcap writes a capture of raw IPv4 packets (LINKTYPE_RAW).
func pcap(pkts ...[]byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 101)
	b.Write(hdr)
	for i, p := range pkts {
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], 1700000000)
		le.PutUint32(rec[4:], uint32(i*1000))
		le.PutUint32(rec[8:], uint32(len(p)))
		le.PutUint32(rec[12:], uint32(len(p)))
		b.Write(rec)
		b.Write(p)
	}
	return b.Bytes()
}

// syn is an IPv4 TCP SYN 10.0.0.1:40000 -> 10.0.0.2:80.
func syn() []byte {
	p := make([]byte, 40)
	p[0], p[3], p[8], p[9] = 0x45, 40, 64, 6
	copy(p[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(p[20:], 40000)
	binary.BigEndian.PutUint16(p[22:], 80)
	binary.BigEndian.PutUint32(p[24:], 1000)
	p[32], p[33] = 5<<4, 0x02
	binary.BigEndian.PutUint16(p[34:], 65535)
	return p
}

// Captures too small to draw give a clear error, never a figure.
func TestTooLittle(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	one := write("one.pcap", pcap(syn()))
	empty := write("empty.pcap", pcap())

	for _, kind := range []string{"flow", "tsg", "rtt", "timeline"} {
		_, err := draw(one, options{kind: kind, conn: 1, dir: "c2s"})
		assert.ErrorIs(t, err, plot.ErrNoData, kind)
	}
	_, err := draw(one, options{kind: "flow", conn: 2})
	assert.ErrorContains(t, err, "no connection 2")
	_, err = draw(empty, options{kind: "flow", conn: 1})
	assert.ErrorContains(t, err, "no connection 1")
	_, err = draw(empty, options{kind: "bandwidth"})
	assert.ErrorContains(t, err, "no packets")
	_, err = draw(one, options{kind: "bandwidth"})
	assert.ErrorIs(t, err, plot.ErrNoData, "one packet spans no time")
	_, err = draw(one, options{kind: "pie", conn: 1})
	assert.ErrorContains(t, err, "unknown -kind")
	_, err = drawPair(one, options{kind: "flow"})
	assert.ErrorContains(t, err, "FILE:CONN")
}

// Capture-wide figures: classes named by the protocol appproto found, the
// minimum RTT per interval of the client-side data, which the HTTP
// transfer's queue inflates (wan512-mixed: a chatty PostgreSQL session
// runs beside a bulk HTTP download on a 512 kbit/s, 150 ms link).
func TestCaptureWide(t *testing.T) {
	c, err := load(lab(t, "wan512-mixed.pcap"), options{kind: "rtt", conn: 0, width: time.Second})
	require.NoError(t, err)
	assert.Equal(t, "http (tcp/80)", c.className("tcp/80"))
	assert.Equal(t, "postgres (tcp/5432)", c.className("tcp/5432"))
	assert.Equal(t, "udp", c.className("udp"))
	var lo, hi time.Duration
	for _, m := range c.ser.MinRTT[0] {
		if m > 0 {
			if lo == 0 || m < lo {
				lo = m
			}
			hi = max(hi, m)
		}
	}
	// The floor is the link's (wan512: 151.3 ms for an empty frame); the
	// worst interval's minimum is several times it.
	assert.GreaterOrEqual(t, lo, 151*time.Millisecond)
	assert.Less(t, lo, 160*time.Millisecond)
	assert.Greater(t, hi, 3*lo)
}
