package appproto_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

// TestDone: a connection's application analysis is done once both byte
// streams are complete (a FIN each way, every byte before it delivered,
// none held), not at the first FIN, not while a FIN that the capture saw
// before the data it ends waits for that data, and not while a segment is
// held. Closed then, it reports what closing it after the late
// retransmissions and ACKs of the connection's last minute reports.
func TestDone(t *testing.T) {
	req := []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	run := func(late bool) (*script, []bool) {
		s := newScript(appproto.Config{}, 80)
		var done []bool
		step := func() { done = append(done, s.c.Done()) }
		step() // after the handshake
		s.send(appproto.ClientToServer, time.Millisecond, req)
		// the answer's FIN seen before its body: reordered at the capture point
		head, body := resp[:len(resp)-5], resp[len(resp)-5:]
		s.now = s.now.Add(time.Millisecond)
		bodySeq := s.seq[1].Add(tcpstate.Size(len(head)))
		s.seg(appproto.ServerToClient, bodySeq.Add(5), nil, 0, tcpstate.FIN)
		step()
		s.seg(appproto.ServerToClient, s.seq[1], head, 0, 0)
		step() // the body is still missing
		s.seg(appproto.ServerToClient, bodySeq, body, 0, tcpstate.PSH)
		step() // the answer is complete, the request's side has no FIN
		s.now = s.now.Add(time.Millisecond)
		s.seg(appproto.ClientToServer, s.seq[0], nil, 0, tcpstate.FIN)
		step() // both complete
		if late {
			// a minute of late packets: the body and the client's FIN
			// sent again, and a bare ACK
			s.now = s.now.Add(30 * time.Second)
			s.seg(appproto.ServerToClient, bodySeq, body, 0, tcpstate.PSH|tcpstate.FIN)
			s.seg(appproto.ClientToServer, s.seq[0], nil, 0, tcpstate.FIN)
			s.seg(appproto.ServerToClient, bodySeq.Add(6), nil, 0, 0)
			step()
		}
		return s, done
	}
	s, done := run(false)
	assert.Equal(t, []bool{false, false, false, false, true}, done)
	early := s.close()
	ref, done := run(true)
	assert.Equal(t, []bool{false, false, false, false, true, true}, done, "late packets repeat what was delivered")
	assert.Equal(t, ref.close(), early)
	assert.Equal(t, ref.txns, s.txns)
	require.Len(t, s.txns, 1)
	assert.Equal(t, uint64(1), early.Transactions)
	assert.Equal(t, int64(len(resp)), early.BytesS2C)

	// A segment held behind a hole keeps a direction from being done.
	h := newScript(appproto.Config{}, 80)
	h.seg(appproto.ServerToClient, h.seq[1].Add(10), []byte("later"), 0, tcpstate.FIN)
	h.seg(appproto.ClientToServer, h.seq[0], nil, 0, tcpstate.FIN)
	assert.False(t, h.c.Done(), "the server's bytes 10-14 wait for 0-9")
	h.seg(appproto.ServerToClient, h.seq[1], make([]byte, 10), 0, 0)
	assert.True(t, h.c.Done(), "bytes 0-14 delivered, the FIN after them")
}
