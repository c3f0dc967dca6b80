package appproto_test

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

// TestIncompleteCaptureEnd builds a capture (raw IPv4 packets written by
// flowtest) of an HTTP download cut by the end of the capture: the
// response announces Content-Length 10^12 and 3 segments of 1448 bytes
// are captured. The transaction is reported, with its 200, marked
// incomplete: missing are header + 10^12 - 3*1448 bytes.
func TestIncompleteCaptureEnd(t *testing.T) {
	cl, sv := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")
	var buf bytes.Buffer
	w, err := flowtest.NewPcapWriter(&buf, flowtest.LinkRaw, true)
	require.NoError(t, err)
	now := t0
	seq := [2]uint32{1000, 5000}
	write := func(d appproto.Dir, flags uint8, payload []byte) {
		src, dst := cl, sv
		if d == s2c {
			src, dst = sv, cl
		}
		pkt := flowtest.AppendIP(nil, &flowtest.TCP{Src: src, Dst: dst, Seq: seq[d], Ack: seq[1-d], Flags: flags, Window: 65535, Payload: payload})
		require.NoError(t, w.WritePacket(now, pkt, len(pkt)))
		seq[d] += uint32(len(payload))
		if flags&0x02 != 0 {
			seq[d]++
		}
		now = now.Add(10 * time.Millisecond)
	}
	const syn, ack, psh = 0x02, 0x10, 0x08
	write(c2s, syn, nil)
	write(s2c, syn|ack, nil)
	write(c2s, ack, nil)
	write(c2s, ack|psh, []byte("GET /big.iso HTTP/1.1\r\nHost: mirror\r\n\r\n"))
	hdr := "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n"
	body := strings.Repeat("z", 3*1448-len(hdr))
	resp := []byte(hdr + body)
	for i := 0; i < len(resp); i += 1448 {
		write(s2c, ack, resp[i:i+1448])
	}
	var tc txCollector
	res, err := flow.Analyze(bytes.NewReader(buf.Bytes()), flow.Config{KeepConns: true, Consumers: []flow.Consumer{&tc}})
	require.NoError(t, err)
	require.Len(t, res.Conns, 1)
	a := res.Conns[0].App
	assert.Equal(t, uint64(1), a.Transactions)
	assert.Equal(t, uint64(0), a.Unanswered)
	assert.Equal(t, uint64(1), a.Incomplete)
	require.Len(t, tc.txns, 1)
	tx := tc.txns[0]
	assert.Equal(t, 200, tx.Status)
	assert.True(t, tx.Incomplete)
	assert.Equal(t, int64(len(hdr))+1_000_000_000_000-3*1448, tx.MissingBytes)
	assert.Equal(t, int64(3*1448), tx.ResponseBytes)
}

// TestIncompleteCases: what the end of a capture or a gap does to a
// transaction, protocol by protocol.
func TestIncompleteCases(t *testing.T) {
	get := []byte("GET / HTTP/1.1\r\n\r\n")
	t.Run("body to the close, FIN seen: complete", func(t *testing.T) {
		s := newScript(appproto.Config{}, 80)
		s.send(c2s, 0, get)
		s.send(s2c, ms, []byte("HTTP/1.0 200 OK\r\n\r\nall of it"))
		s.seg(s2c, s.seq[s2c], nil, 0, tcpstate.FIN)
		st := s.close()
		require.Len(t, s.txns, 1)
		assert.False(t, s.txns[0].Incomplete)
		assert.Equal(t, uint64(0), st.Incomplete)
	})
	t.Run("body to the close, no FIN: incomplete, missing unknown", func(t *testing.T) {
		s := newScript(appproto.Config{}, 80)
		s.send(c2s, 0, get)
		s.send(s2c, ms, []byte("HTTP/1.0 200 OK\r\n\r\nsome of it"))
		st := s.close()
		require.Len(t, s.txns, 1)
		assert.True(t, s.txns[0].Incomplete)
		assert.Zero(t, s.txns[0].MissingBytes)
		assert.Equal(t, uint64(1), st.Incomplete)
	})
	t.Run("chunked body cut between chunks", func(t *testing.T) {
		s := newScript(appproto.Config{}, 80)
		s.send(c2s, 0, get)
		s.send(s2c, ms, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"))
		s.close()
		require.Len(t, s.txns, 1)
		assert.True(t, s.txns[0].Incomplete)
		assert.Zero(t, s.txns[0].MissingBytes)
	})
	t.Run("PostgreSQL result without ReadyForQuery", func(t *testing.T) {
		s := newScript(appproto.Config{}, 5432)
		s.send(c2s, 0, pgStartup(196608, []byte("user\x00u\x00\x00")))
		s.send(s2c, ms, cat(pgMsg('R', be32(0)), pgMsg('Z', []byte("I"))))
		s.send(c2s, ms, pgMsg('Q', []byte("SELECT 1\x00")))
		s.send(s2c, ms, cat(pgMsg('T', make([]byte, 20)), pgMsg('D', make([]byte, 10))))
		st := s.close()
		require.Len(t, s.txns, 1)
		assert.True(t, s.txns[0].Incomplete)
		assert.Equal(t, uint64(1), st.Incomplete)
		assert.Equal(t, uint64(0), st.Unanswered)
	})
	t.Run("a gap inside a response: its bytes are missing", func(t *testing.T) {
		s := newScript(appproto.Config{}, 80)
		s.send(c2s, 0, get)
		resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + strings.Repeat("a", 3000))
		s.seg(s2c, s.seq[s2c], resp[:1000], 0, 0)
		s.seg(s2c, s.seq[s2c].Add(1500), resp[1500:], 0, tcpstate.PSH) // bytes 1000-1499 never captured
		s.seq[s2c] = s.seq[s2c].Add(tcpstate.Size(len(resp)))
		s.send(c2s, ms, get)
		s.send(s2c, ms, []byte("HTTP/1.1 204 No Content\r\n\r\n"))
		st := s.close()
		require.Len(t, s.txns, 2)
		assert.True(t, s.txns[0].Incomplete)
		assert.Equal(t, int64(500), s.txns[0].MissingBytes)
		assert.Equal(t, int64(len(resp)), s.txns[0].ResponseBytes)
		assert.False(t, s.txns[1].Incomplete)
		assert.Equal(t, uint64(1), st.Incomplete)
		assert.Equal(t, int64(500), st.GapBytes)
	})
	t.Run("TNS: the last reply completes at the end, not incomplete", func(t *testing.T) {
		s := newScript(appproto.Config{}, 1521)
		s.send(c2s, 0, tnsConnect(312))
		s.send(s2c, ms, tnsAccept(312))
		s.send(c2s, ms, tnsPacket(false, 6, make([]byte, 30)))
		s.send(s2c, ms, tnsPacket(false, 6, make([]byte, 30)))
		st := s.close()
		require.Len(t, s.txns, 1)
		assert.False(t, s.txns[0].Incomplete)
		assert.Equal(t, uint64(0), st.Incomplete)
	})
	t.Run("TNS: a reply packet cut short", func(t *testing.T) {
		s := newScript(appproto.Config{}, 1521)
		s.send(c2s, 0, tnsConnect(312))
		s.send(s2c, ms, tnsAccept(312))
		s.send(c2s, ms, tnsPacket(false, 6, make([]byte, 30)))
		s.send(s2c, ms, tnsPacket(false, 6, make([]byte, 2000))[:1000])
		s.close()
		require.Len(t, s.txns, 1)
		assert.True(t, s.txns[0].Incomplete)
		assert.Equal(t, int64(1008), s.txns[0].MissingBytes)
	})
}

// TestIncompleteAptGet: the corpus's apt-get download is cut by the end
// of the capture. tshark: the response header (frame 6) is 285 bytes and
// announces Content-Length 2047608; the capture holds 261324 bytes of the
// response (the connection's s2c unique payload). Missing: 285 + 2047608
// - 261324 = 1786569 bytes.
func TestIncompleteAptGet(t *testing.T) {
	conns, txns := analyze(t, filepath.Join(flowtest.CorpusDir(t, "public/http"), "sv_http_aptget.pcap"))
	require.Len(t, conns, 1)
	require.Len(t, txns, 1)
	assert.Equal(t, uint64(1), conns[0].App.Incomplete)
	assert.Equal(t, uint64(0), conns[0].App.Unanswered)
	tx := txns[0]
	assert.Equal(t, 200, tx.Status)
	assert.True(t, tx.Incomplete)
	assert.Equal(t, int64(261324), tx.ResponseBytes)
	assert.Equal(t, int64(285+2047608-261324), tx.MissingBytes)
}
