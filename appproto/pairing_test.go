package appproto

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var pairT0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// pairScript feeds messages straight to a pairing, as framing would.
type pairScript struct {
	p    pairing
	idx  uint64
	txns []Transaction
}

func newPairScript(maxPending int) *pairScript {
	s := &pairScript{}
	s.p = newPairing(maxPending, HandlerFunc(func(t *Transaction) { s.txns = append(s.txns, t.Clone()) }))
	s.p.proto = "test"
	return s
}

// msg starts and ends a one-segment message of direction d with role r,
// bytes long, its first byte at first ms and its last at last ms.
func (s *pairScript) msg(d Dir, r Role, bytes int64, first, last int) {
	s.idx++
	m := Message{Dir: d, Kind: "k", Role: r, First: pairT0.Add(time.Duration(first) * time.Millisecond),
		FirstPacket: s.idx}
	s.p.start(&m)
	m.Last, m.LastPacket, m.Bytes, m.Segments = pairT0.Add(time.Duration(last)*time.Millisecond), s.idx, bytes, 1
	s.p.end(&m)
}

// TestPairingPipelined: three requests sent before any response pair with
// the responses in order.
func TestPairingPipelined(t *testing.T) {
	s := newPairScript(DefaultMaxPending)
	for i := range 3 {
		s.msg(ClientToServer, Request|RequestEnd, 100, i, i) // requests at 0, 1, 2 ms
	}
	for i := range 3 {
		s.msg(ServerToClient, Response|ResponseEnd, 1000, 10+2*i, 11+2*i) // responses 10-11, 12-13, 14-15 ms
	}
	s.p.close()
	require.Len(t, s.txns, 3)
	for i, tx := range s.txns {
		assert.Equal(t, i+1, tx.ID)
		assert.Equal(t, "test", tx.Proto)
		// server time: response i's first byte - request i's last byte
		assert.InDelta(t, float64(10+2*i-i)/1000, tx.ServerTime.Seconds(), 1e-9, "tx %d", i)
		assert.InDelta(t, 0.001, tx.TransferTime.Seconds(), 1e-9)
		assert.InDelta(t, float64(11+2*i-i)/1000, tx.Duration.Seconds(), 1e-9)
		assert.Equal(t, uint64(i+1), tx.FirstPacket) // requests are packets 1-3
		assert.Equal(t, uint64(i+4), tx.LastPacket)  // responses 4-6
		assert.Equal(t, 1, tx.Turns)
	}
	st := s.p.stats
	assert.Equal(t, uint64(3), st.Requests)
	assert.Equal(t, uint64(3), st.Responses)
	assert.Equal(t, uint64(3), st.Transactions)
	assert.Equal(t, uint64(1), st.Turns) // all requests in one client turn
	assert.InDelta(t, 0.010+0.011+0.012, st.ServerTime.Seconds(), 1e-9)
	assert.InDelta(t, 0.012, st.ServerTimeMax.Seconds(), 1e-9)
}

// TestPairingTurns: a turn-based protocol's request completes the previous
// transaction; Close completes the last one.
func TestPairingTurns(t *testing.T) {
	s := newPairScript(DefaultMaxPending)
	s.msg(ClientToServer, Request|EndsPrevious, 50, 0, 0)
	s.msg(ServerToClient, Response, 500, 20, 20)
	s.msg(ServerToClient, Response, 500, 25, 25)
	s.msg(ClientToServer, Request|EndsPrevious, 50, 30, 30) // completes the first
	require.Len(t, s.txns, 1)
	s.msg(ServerToClient, Response, 70, 45, 45)
	s.p.close()
	require.Len(t, s.txns, 2)
	a, b := s.txns[0], s.txns[1]
	assert.Equal(t, int64(1000), a.ResponseBytes)
	assert.Equal(t, 2, a.ResponseMessages)
	assert.InDelta(t, 0.020, a.ServerTime.Seconds(), 1e-9)   // 20 - 0 ms
	assert.InDelta(t, 0.005, a.TransferTime.Seconds(), 1e-9) // 25 - 20 ms
	assert.InDelta(t, 0.015, b.ServerTime.Seconds(), 1e-9)   // 45 - 30 ms
	assert.Equal(t, uint64(2), s.p.stats.Turns)
	assert.Equal(t, uint64(0), s.p.stats.Unanswered)
}

// TestPairingBounds: requests beyond maxPending are counted and their
// responses counted in order, not paired; a request without response is
// unanswered; NoResponse and interim responses are no transactions.
func TestPairingBounds(t *testing.T) {
	s := newPairScript(1)
	s.msg(ClientToServer, Request|RequestEnd, 10, 0, 0)
	s.msg(ClientToServer, Request|RequestEnd, 10, 1, 1) // beyond MaxPending 1
	s.msg(ServerToClient, Response|Interim, 5, 5, 5)    // an interim response to the first
	s.msg(ServerToClient, Response|ResponseEnd, 20, 6, 6)
	s.msg(ServerToClient, Response|ResponseEnd, 20, 7, 7) // the second's, by order
	s.msg(ClientToServer, Request|RequestEnd|NoResponse, 4, 8, 8)
	s.msg(ClientToServer, Request|RequestEnd, 10, 9, 9) // never answered
	s.p.close()
	require.Len(t, s.txns, 1)
	assert.Equal(t, 2, s.txns[0].ResponseMessages) // the interim response and the final one
	st := s.p.stats
	assert.Equal(t, uint64(4), st.Requests)
	assert.Equal(t, uint64(3), st.Responses) // interim, first, second
	assert.Equal(t, uint64(1), st.Transactions)
	assert.Equal(t, uint64(1), st.Unanswered)
	assert.Equal(t, uint64(2), st.Turns) // client data at 0 ms, and again at 8 ms after the server's
}

// A response that began before the oldest pending request answers a
// request the capture lost: its bytes reached the pairing only after a
// gap in their direction was given up on (found by the mutation
// campaign: mutant 55 of testdata/lab/whatif/dsl512-pg-fetch100, whose
// flipped sequence byte made a 6.4 MB gap, once gave the last answer
// before it to the COMMIT sent 6 s later). It stays unpaired; the request
// waits for its own response.
func TestPairingResponseBeforeRequest(t *testing.T) {
	s := newPairScript(DefaultMaxPending)
	s.msg(ClientToServer, Request|RequestEnd, 50, 100, 100)    // request at 100 ms
	s.msg(ServerToClient, Response|ResponseEnd, 400, 40, 60)   // an answer begun at 40 ms, delivered late
	s.msg(ServerToClient, Response|ResponseEnd, 400, 150, 151) // its own answer
	s.p.close()
	require.Len(t, s.txns, 1)
	tx := s.txns[0]
	assert.Equal(t, pairT0.Add(150*time.Millisecond), tx.ResponseFirst)
	assert.InDelta(t, 0.050, tx.ServerTime.Seconds(), 1e-9) // 150 - 100 ms
	assert.Equal(t, uint64(1), s.p.stats.Responses)
}
