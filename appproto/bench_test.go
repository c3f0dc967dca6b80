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
