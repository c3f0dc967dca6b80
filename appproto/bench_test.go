package appproto_test

import (
	"testing"

	"github.com/netecology/netecology/appproto"
)

// chattyRound is one PostgreSQL query and its answer, as the lab's chatty
// session exchanges them.
func chattyRound() (q, a []byte) {
	q = pgMsg('Q', []byte("SELECT * FROM orders WHERE order_id = 42\x00"))
	a = cat(pgMsg('T', make([]byte, 250)), pgMsg('D', make([]byte, 120)), pgMsg('C', []byte("SELECT 1\x00")), pgMsg('Z', []byte("I")))
	return q, a
}

// TestSteadyStateAllocs: once a connection is identified, framing and
// pairing a query round trip allocates nothing.
func TestSteadyStateAllocs(t *testing.T) {
	cfg := appproto.Config{}
	s := &script{now: t0}
	s.c = appproto.NewConn(&cfg, 40000, 5432, nil)
	s.send(c2s, 0, pgStartup(196608, []byte("user\x00u\x00\x00")))
	s.send(s2c, ms, cat(pgMsg('R', be32(0)), pgMsg('Z', []byte("I"))))
	q, a := chattyRound()
	for range 3 {
		s.send(c2s, ms, q)
		s.send(s2c, ms, a)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		s.send(c2s, ms, q)
		s.sendSplit(s2c, ms, a, 100)
	})
	if allocs != 0 {
		t.Fatalf("a query round trip allocates %.1f times", allocs)
	}
	if st := s.c.Stats(); st.Transactions < 1000 || st.FramingErrors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// BenchmarkChattyRound measures framing and pairing one query round trip.
func BenchmarkChattyRound(b *testing.B) {
	cfg := appproto.Config{}
	s := &script{now: t0}
	s.c = appproto.NewConn(&cfg, 40000, 5432, nil)
	s.send(c2s, 0, pgStartup(196608, []byte("user\x00u\x00\x00")))
	q, a := chattyRound()
	b.ReportAllocs()
	b.SetBytes(int64(len(q) + len(a)))
	for b.Loop() {
		s.send(c2s, ms, q)
		s.send(s2c, ms, a)
	}
}

// bulkConn returns a script whose connection has been identified and
// whose server answers one request with a long response, segment by
// segment: the bulk transfer's per-segment path.
func bulkConn(port uint16, hello [2][]byte) *script {
	s := &script{now: t0}
	s.c = appproto.NewConn(&appproto.Config{}, 40000, port, nil)
	s.send(c2s, 0, hello[0])
	s.send(s2c, ms, hello[1])
	return s
}

// BenchmarkBulkPostgres measures a PostgreSQL result set streamed in
// 1448-byte segments: 120-byte DataRow messages, about 12 a segment, each
// framed and paired (the lab's bulk query).
func BenchmarkBulkPostgres(b *testing.B) {
	s := bulkConn(5432, [2][]byte{pgStartup(196608, []byte("user\x00u\x00\x00")), cat(pgMsg('R', be32(0)), pgMsg('Z', []byte("I")))})
	q := pgMsg('Q', []byte("SELECT * FROM orders WHERE order_id <= 3000 ORDER BY order_id\x00"))
	var rows []byte
	for range 3000 {
		rows = append(rows, pgMsg('D', make([]byte, 115))...)
	}
	a := cat(pgMsg('T', make([]byte, 250)), rows, pgMsg('C', []byte("SELECT 3000\x00")), pgMsg('Z', []byte("I")))
	segs := (len(a) + 1447) / 1448
	b.ReportAllocs()
	b.SetBytes(int64(len(a)))
	for b.Loop() {
		s.send(c2s, ms, q)
		s.sendSplit(s2c, ms, a, 1448)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(segs+1)), "ns/segment")
}

// BenchmarkBulkHTTP measures an HTTP response body of 300 KiB in
// 1448-byte segments: the framer skips the body, segment by segment.
func BenchmarkBulkHTTP(b *testing.B) {
	s := bulkConn(80, [2][]byte{[]byte("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"), []byte("HTTP/1.1 204 No Content\r\n\r\n")})
	req := []byte("GET /blob.bin HTTP/1.1\r\nHost: 10.77.0.2\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
	body := make([]byte, 307200)
	a := cat([]byte("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: application/octet-stream\r\n"+
		"Content-Length: 307200\r\nConnection: keep-alive\r\nAccept-Ranges: bytes\r\n\r\n"), body)
	segs := (len(a) + 1447) / 1448
	b.ReportAllocs()
	b.SetBytes(int64(len(a)))
	for b.Loop() {
		s.send(c2s, ms, req)
		s.sendSplit(s2c, ms, a, 1448)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(segs+1)), "ns/segment")
}

// BenchmarkChattyHTTP measures one small HTTP request and response, as
// the lab's chatty HTTP session exchanges them.
func BenchmarkChattyHTTP(b *testing.B) {
	s := bulkConn(80, [2][]byte{[]byte("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"), []byte("HTTP/1.1 204 No Content\r\n\r\n")})
	req := []byte("GET /row/7920.csv HTTP/1.1\r\nHost: 10.77.0.2\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
	resp := cat([]byte("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 13:15:25 GMT\r\nContent-Type: text/csv\r\n"+
		"Content-Length: 180\r\nLast-Modified: Sun, 22 Nov 2026 13:00:00 GMT\r\nConnection: keep-alive\r\nETag: \"1-b4\"\r\n"+
		"Accept-Ranges: bytes\r\n\r\n"), make([]byte, 180))
	b.ReportAllocs()
	b.SetBytes(int64(len(req) + len(resp)))
	for b.Loop() {
		s.send(c2s, ms, req)
		s.send(s2c, ms, resp)
	}
}
