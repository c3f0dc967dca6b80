package appproto_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

const (
	c2s = appproto.ClientToServer
	s2c = appproto.ServerToClient
	ms  = time.Millisecond
)

func TestTNSLargeSDUAndPairing(t *testing.T) {
	s := newScript(appproto.Config{}, 1521)
	s.send(c2s, 0, tnsConnect(318))
	s.send(s2c, 10*ms, tnsAccept(318))
	// After an Accept of version >= 315 lengths take 4 bytes.
	s.send(c2s, 5*ms, tnsPacket(true, 6, make([]byte, 100)))
	s.sendSplit(s2c, 20*ms, cat(tnsPacket(true, 6, make([]byte, 3000)), tnsPacket(true, 6, make([]byte, 20))), 1448)
	s.send(c2s, 5*ms, cat(tnsPacket(true, 12, []byte{1, 0, 1}), tnsPacket(true, 6, make([]byte, 40))))
	s.send(s2c, 30*ms, tnsPacket(true, 6, make([]byte, 10)))
	st := s.close()
	assert.Equal(t, "tns", s.c.Protocol())
	assert.Equal(t, appproto.ConfidenceConfirmed, s.c.Confidence())
	assert.Equal(t, []string{"Connect", "Data", "Marker", "Data"}, s.kinds(c2s))
	assert.Equal(t, []string{"Accept", "Data", "Data", "Data"}, s.kinds(s2c))
	assert.Equal(t, uint64(0), st.FramingErrors)
	require.Len(t, s.txns, 2)
	a := s.txns[0]
	assert.Equal(t, "Data", a.Kind)
	assert.Equal(t, int64(108), a.RequestBytes)
	assert.Equal(t, int64(3008+28), a.ResponseBytes)
	assert.Equal(t, 3, a.ResponseSegments) // 3036 bytes in 1448-byte segments
	assert.Equal(t, 2, a.ResponseMessages)
	assert.InDelta(t, 0.020, a.ServerTime.Seconds(), 1e-9)
	assert.InDelta(t, 0.040, a.TransferTime.Seconds(), 1e-9) // three segments 20 ms apart
	b := s.txns[1]
	assert.Equal(t, 1, b.RequestMessages) // a Marker is not a request
	assert.InDelta(t, 0.030, b.ServerTime.Seconds(), 1e-9)
	assert.Equal(t, uint64(2), st.Transactions)
	assert.Equal(t, uint64(3), st.Turns)
	assert.InDelta(t, 0.050, st.ServerTime.Seconds(), 1e-9)
}

func TestTNSSmallSDUKeeps2ByteLengths(t *testing.T) {
	s := newScript(appproto.Config{}, 1521)
	s.send(c2s, 0, tnsConnect(312))
	s.send(s2c, ms, tnsAccept(312))
	s.send(c2s, ms, tnsPacket(false, 6, make([]byte, 30)))
	s.send(s2c, ms, tnsPacket(false, 6, make([]byte, 30)))
	st := s.close()
	assert.Equal(t, uint64(2), st.MessagesC2S)
	assert.Equal(t, uint64(2), st.MessagesS2C)
	assert.Equal(t, uint64(1), st.Transactions)
	assert.Equal(t, uint64(0), st.FramingErrors)
}

func TestHTTPFraming(t *testing.T) {
	s := newScript(appproto.Config{}, 80)
	// keep-alive: Content-Length body cut across segments
	s.send(c2s, 0, []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"))
	s.sendSplit(s2c, 10*ms, []byte("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n"+strings.Repeat("a", 3000)), 1000)
	// HEAD: the response's Content-Length announces no body
	s.send(c2s, ms, []byte("HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n"))
	s.send(s2c, 5*ms, []byte("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n"))
	// pipelined: two requests, then 100 Continue? no: 304 and a chunked 200
	s.send(c2s, ms, []byte("GET /b HTTP/1.1\r\n\r\nPOST /c HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"))
	s.send(s2c, 5*ms, []byte("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"))
	s.sendSplit(s2c, ms, []byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"5\r\nhello\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\n"), 7)
	// a body delimited by the end of the connection
	s.send(c2s, ms, []byte("GET /d HTTP/1.0\r\n\r\n"))
	s.send(s2c, ms, []byte("HTTP/1.0 200 OK\r\n\r\nuntil close"))
	st := s.close()
	assert.Equal(t, "http", s.c.Protocol())
	assert.Equal(t, []string{"GET", "HEAD", "GET", "POST", "GET"}, s.kinds(c2s))
	assert.Equal(t, uint64(5), st.Requests)
	assert.Equal(t, uint64(6), st.MessagesS2C) // the 100 Continue included
	assert.Equal(t, uint64(6), st.Responses)
	assert.Equal(t, uint64(5), st.Transactions)
	assert.Equal(t, uint64(0), st.FramingErrors)
	require.Len(t, s.txns, 5)
	assert.Equal(t, int64(len("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n")+3000), s.txns[0].ResponseBytes)
	assert.Equal(t, 4, s.txns[0].ResponseSegments)
	assert.InDelta(t, 0.010, s.txns[0].ServerTime.Seconds(), 1e-9)
	assert.InDelta(t, 0.030, s.txns[0].TransferTime.Seconds(), 1e-9)
	assert.Equal(t, 304, s.txns[2].Status)
	assert.Equal(t, 201, s.txns[3].Status)
	assert.Equal(t, 2, s.txns[3].ResponseMessages) // 100 Continue and 201
	assert.Equal(t, int64(len("HTTP/1.0 200 OK\r\n\r\nuntil close")), s.txns[4].ResponseBytes)
}

func TestPostgresFraming(t *testing.T) {
	s := newScript(appproto.Config{}, 5432)
	s.send(c2s, 0, pgStartup(80877103, nil))
	s.send(s2c, ms, []byte("N"))
	s.send(c2s, ms, pgStartup(196608, []byte("user\x00u\x00\x00")))
	s.send(s2c, ms, cat(pgMsg('R', be32(0)), pgMsg('S', []byte("a\x00b\x00")), pgMsg('Z', []byte("I"))))
	s.send(c2s, 2*ms, pgMsg('Q', []byte("select 1\x00")))
	s.send(s2c, 7*ms, cat(pgMsg('T', make([]byte, 20)), pgMsg('D', make([]byte, 10)), pgMsg('C', []byte("SELECT 1\x00")), pgMsg('Z', []byte("I"))))
	s.send(c2s, 2*ms, cat(pgMsg('P', []byte("\x00FETCH 15 FROM c\x00\x00\x00")), pgMsg('B', make([]byte, 8)), pgMsg('E', make([]byte, 5)), pgMsg('S', nil)))
	s.send(s2c, 9*ms, cat(pgMsg('1', nil), pgMsg('2', nil), pgMsg('E', []byte("SERROR\x00\x00")), pgMsg('Z', []byte("E"))))
	s.send(c2s, ms, pgMsg('X', nil))
	st := s.close()
	assert.Equal(t, "postgres", s.c.Protocol())
	assert.Equal(t, []string{"SSLRequest", "StartupMessage", "Query", "Parse", "Bind", "Execute", "Sync", "Terminate"}, s.kinds(c2s))
	assert.Equal(t, uint64(2), st.Requests)
	require.Len(t, s.txns, 2)
	assert.Equal(t, "SELECT", s.txns[0].Verb)
	assert.InDelta(t, 0.007, s.txns[0].ServerTime.Seconds(), 1e-9)
	assert.Equal(t, 4, s.txns[0].ResponseMessages)
	assert.Equal(t, "FETCH", s.txns[1].Verb)
	assert.Equal(t, 4, s.txns[1].RequestMessages)
	assert.True(t, s.txns[1].Error)
	assert.Equal(t, uint64(5), st.Turns)
}

func TestMySQLFraming(t *testing.T) {
	s := newScript(appproto.Config{}, 3306)
	greeting := cat([]byte{10}, []byte("10.11.19-MariaDB\x00"), make([]byte, 4+8+1), []byte{0xff, 0xf7, 8, 2, 0, 0xff, 0x81}, make([]byte, 20))
	s.send(s2c, 0, myPacket(0, greeting))
	s.send(c2s, ms, myPacket(1, cat([]byte{0x0d, 0xa2, 0x3a, 0x00}, make([]byte, 40)))) // no DEPRECATE_EOF
	s.send(s2c, ms, myPacket(2, []byte{0, 0, 0, 2, 0, 0, 0}))
	s.send(c2s, ms, myPacket(0, []byte("\x03SELECT * FROM t")))
	col := make([]byte, 30)
	s.send(s2c, 4*ms, cat(myPacket(1, []byte{2}), myPacket(2, col), myPacket(3, col), myPacket(4, []byte{0xfe, 0, 0, 2, 0}),
		myPacket(5, []byte{1, 'a', 1, 'b'}), myPacket(6, []byte{1, 'c', 1, 'd'}), myPacket(7, []byte{0xfe, 0, 0, 2, 0})))
	s.send(c2s, ms, myPacket(0, []byte("\x03BAD")))
	s.send(s2c, 3*ms, myPacket(1, cat([]byte{0xff, 0x28, 0x04}, []byte("#42000oops"))))
	s.send(c2s, ms, myPacket(0, []byte{0x01}))
	st := s.close()
	assert.Equal(t, "mysql", s.c.Protocol())
	assert.Equal(t, uint64(3), st.Requests) // two queries and COM_QUIT
	assert.Equal(t, uint64(2), st.Transactions)
	assert.Equal(t, uint64(0), st.Unanswered)
	require.Len(t, s.txns, 2)
	assert.Equal(t, 7, s.txns[0].ResponseMessages)
	assert.Equal(t, "SELECT", s.txns[0].Verb)
	assert.InDelta(t, 0.004, s.txns[0].ServerTime.Seconds(), 1e-9)
	assert.True(t, s.txns[1].Error)
	assert.Equal(t, 1064, s.txns[1].Status)
	assert.Equal(t, uint64(4), st.Turns)
}

func TestTDSTLSRedisFraming(t *testing.T) {
	tds := func(typ, status byte, body int) []byte {
		return cat([]byte{typ, status}, be16(8+body), []byte{0, 0, 1, 0}, make([]byte, body))
	}
	s := newScript(appproto.Config{}, 1433)
	s.send(c2s, 0, tds(18, 1, 40))
	s.send(s2c, ms, tds(4, 1, 40))
	s.send(c2s, ms, cat(tds(1, 0, 100), tds(1, 1, 50)))
	s.send(s2c, 6*ms, cat(tds(4, 0, 4000), tds(4, 1, 10)))
	st := s.close()
	assert.Equal(t, "tds", s.c.Protocol())
	assert.Equal(t, []string{"PreLogin", "SQLBatch"}, s.kinds(c2s))
	require.Len(t, s.txns, 1)
	assert.Equal(t, int64(108+58), s.txns[0].RequestBytes)
	assert.InDelta(t, 0.006, s.txns[0].ServerTime.Seconds(), 1e-9)
	assert.Equal(t, uint64(2), st.MessagesS2C)

	rec := func(typ byte, n int, first byte) []byte {
		b := cat([]byte{typ, 3, 3}, be16(n), make([]byte, n))
		b[5] = first
		return b
	}
	s = newScript(appproto.Config{}, 443)
	s.send(c2s, 0, rec(22, 200, 1))
	s.send(s2c, ms, cat(rec(22, 90, 2), rec(20, 1, 1), rec(22, 40, 0)))
	s.send(c2s, ms, cat(rec(20, 1, 1), rec(22, 40, 0), rec(23, 100, 0)))
	s.sendSplit(s2c, 3*ms, cat(rec(23, 5000, 0), rec(23, 50, 0)), 1400)
	st = s.close()
	assert.Equal(t, "tls", s.c.Protocol())
	assert.Equal(t, uint64(4), st.MessagesC2S)
	assert.Equal(t, uint64(5), st.MessagesS2C)
	require.Len(t, s.txns, 1)
	assert.InDelta(t, 0.003, s.txns[0].ServerTime.Seconds(), 1e-9)

	s = newScript(appproto.Config{}, 6379)
	s.send(c2s, 0, []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
	s.sendSplit(s2c, ms, []byte("+OK\r\n$5\r\nhello\r\n*2\r\n*1\r\n:1\r\n%1\r\n+a\r\n_\r\n-ERR x\r\n"), 3)
	s.send(c2s, ms, []byte("PING\r\n"))
	st = s.close()
	assert.Equal(t, "redis", s.c.Protocol())
	assert.Equal(t, []string{"command", "command", "inline"}, s.kinds(c2s))
	assert.Equal(t, uint64(4), st.MessagesS2C)
	assert.Equal(t, uint64(2), st.Transactions) // two unsolicited replies; PING unanswered
	assert.Equal(t, uint64(1), st.Unanswered)
	assert.Equal(t, uint64(0), st.FramingErrors)
}

func TestReassembly(t *testing.T) {
	s := newScript(appproto.Config{}, 80)
	req := []byte("GET / HTTP/1.1\r\n\r\n")
	body := strings.Repeat("x", 3000)
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + body)
	s.send(c2s, 0, req)
	base := s.seq[s2c]
	// out of order: second and third segments first, a retransmission of
	// the third, then the first; an overlapping retransmission last.
	s.now = s.now.Add(ms)
	s.seg(s2c, base.Add(1000), resp[1000:2000], 0, 0)
	s.seg(s2c, base.Add(2000), resp[2000:], 0, tcpstate.PSH)
	s.seg(s2c, base.Add(2000), resp[2000:], 0, tcpstate.PSH)
	s.now = s.now.Add(ms)
	s.seg(s2c, base, resp[:1000], 0, 0)
	s.seg(s2c, base.Add(500), resp[500:1500], 0, 0)
	st := s.close()
	assert.Equal(t, int64(len(resp)), st.BytesS2C)
	assert.Equal(t, uint64(0), st.Gaps)
	require.Len(t, s.txns, 1)
	assert.Equal(t, int64(len(resp)), s.txns[0].ResponseBytes)
	assert.Equal(t, 3, s.txns[0].ResponseSegments)

	// A hole never filled: once more than MaxHeld bytes wait, it is a gap,
	// skipped inside the body.
	s = newScript(appproto.Config{MaxHeld: 1500}, 80)
	s.send(c2s, 0, req)
	base = s.seq[s2c]
	s.seg(s2c, base, resp[:1000], 0, 0)
	s.seg(s2c, base.Add(2000), resp[2000:2500], 0, 0)
	s.seg(s2c, base.Add(2500), resp[2500:], 0, tcpstate.PSH)
	s.seg(s2c, base.Add(3000), resp[3000:], 0, tcpstate.PSH) // exceeds MaxHeld
	st = s.close()
	assert.Equal(t, uint64(1), st.Gaps)
	assert.Equal(t, int64(1000), st.GapBytes)
	assert.Equal(t, uint64(1), st.Transactions)
	assert.Equal(t, uint64(0), st.FramingErrors)

	// The snap length cut a segment: the missing bytes are a gap.
	s = newScript(appproto.Config{}, 80)
	s.send(c2s, 0, req)
	s.seg(s2c, s.seq[s2c], resp[:96], len(resp), tcpstate.PSH)
	st = s.close()
	assert.Equal(t, int64(len(resp)-96), st.GapBytes)
	assert.Equal(t, uint64(1), st.Transactions)
}

// TestUnknownTurns: data of no known protocol is cut into messages at each
// change of direction and paired turn by turn, identification's wait for
// more bytes notwithstanding (the bytes it held are replayed in capture
// order).
func TestUnknownTurns(t *testing.T) {
	s := newScript(appproto.Config{}, 7000)
	for i := range 5 {
		s.send(c2s, 3*ms, []byte{byte('a' + i)})
		s.send(s2c, ms, []byte{byte('a' + i)})
	}
	st := s.close()
	assert.Equal(t, "unknown", s.c.Protocol())
	assert.Equal(t, uint64(5), st.Turns)
	assert.Equal(t, uint64(5), st.MessagesC2S)
	assert.Equal(t, uint64(5), st.MessagesS2C)
	require.Len(t, s.txns, 5)
	for _, tx := range s.txns {
		assert.InDelta(t, 0.001, tx.ServerTime.Seconds(), 1e-9)
	}
}

// TestTransactionTurns: a COPY FROM STDIN goes back and forth inside one
// transaction (Query, CopyInResponse, CopyData.., CopyDone, then
// CommandComplete and ReadyForQuery): two client turns.
func TestTransactionTurns(t *testing.T) {
	s := newScript(appproto.Config{}, 5432)
	s.send(c2s, 0, pgStartup(196608, []byte("user\x00u\x00\x00")))
	s.send(s2c, ms, pgMsg('Z', []byte("I")))
	s.send(c2s, ms, pgMsg('Q', []byte("COPY t FROM STDIN\x00")))
	s.send(s2c, ms, pgMsg('G', make([]byte, 3)))
	s.send(c2s, ms, cat(pgMsg('d', []byte("1\t2\n")), pgMsg('c', nil)))
	s.send(s2c, ms, cat(pgMsg('C', []byte("COPY 1\x00")), pgMsg('Z', []byte("I"))))
	s.send(c2s, ms, pgMsg('Q', []byte("SELECT 1\x00")))
	s.send(s2c, ms, pgMsg('Z', []byte("I")))
	s.close()
	require.Len(t, s.txns, 2)
	assert.Equal(t, "COPY", s.txns[0].Verb)
	assert.Equal(t, 2, s.txns[0].Turns)
	assert.Equal(t, 1, s.txns[1].Turns)
}

func TestRoleString(t *testing.T) {
	assert.Equal(t, "request|request_end", (appproto.Request | appproto.RequestEnd).String())
	assert.Equal(t, "response|error", (appproto.Response | appproto.Error).String())
	assert.Equal(t, "", appproto.Role(0).String())
}

// TestHTTPHeaderCutBySnaplen: the snap length keeps the request and status
// lines but cuts the header blocks: both messages are still counted and
// paired; the bodies are unknown.
func TestHTTPHeaderCutBySnaplen(t *testing.T) {
	s := newScript(appproto.Config{}, 80)
	req := []byte("GET /rows.csv HTTP/1.1\r\nHost: 10.77.0.2\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
	s.seg(c2s, s.seq[c2s], req[:30], len(req), tcpstate.PSH)
	s.seq[c2s] = s.seq[c2s].Add(tcpstate.Size(len(req)))
	s.now = s.now.Add(150 * ms)
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 5000\r\n\r\n")
	s.seg(s2c, s.seq[s2c], resp[:30], len(resp)+1400, 0)
	s.seq[s2c] = s.seq[s2c].Add(tcpstate.Size(len(resp) + 1400))
	s.seg(s2c, s.seq[s2c], []byte("1,2,3,4\n5,6,7,8\n9,10,11,12\n13"), 1448, 0)
	st := s.close()
	assert.Equal(t, uint64(1), st.Requests)
	assert.Equal(t, uint64(1), st.Responses)
	require.Len(t, s.txns, 1)
	assert.Equal(t, 200, s.txns[0].Status)
	assert.InDelta(t, 0.150, s.txns[0].ServerTime.Seconds(), 1e-9)
	assert.Equal(t, uint64(0), st.FramingErrors)
}
