package appproto_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

// TestResponseStartLost: the capture lost the first segment of the first
// response (its status line and headers) but kept its body, and the
// client's next request acknowledges it all (zeek_http_1000-requests.pcap,
// frame 7: "previous segment not captured"). The ACK proves the hole lost,
// so the body is not held back waiting for it; the response is the first
// request's, incomplete, ended by the next request; every later response
// pairs with its own request; and the server's lost answer still makes the
// next request a new turn. Before, the body and every response after it
// waited behind the hole until MaxHeld bytes had piled up, and each
// response was then paired with the request before its own.
func TestResponseStartLost(t *testing.T) {
	s := newScript(appproto.Config{}, 80)
	req := []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	body := []byte("<html>hello</html>\n")
	head := []byte("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	add := func(d appproto.Dir, p []byte, wlen int, dt time.Duration) {
		s.now = s.now.Add(dt)
		s.idx++
		s.c.Add(d, &tcpstate.Segment{Index: s.idx, Time: s.now, Seq: s.seq[d], Ack: s.seq[d.Reverse()],
			Flags: tcpstate.ACK | tcpstate.PSH, Len: len(p), Payload: p})
		s.seq[d] = s.seq[d].Add(tcpstate.Size(wlen))
	}
	add(c2s, req, len(req), 0)                            // request 1 at 0
	s.seq[s2c] = s.seq[s2c].Add(tcpstate.Size(len(head))) // the header: lost
	add(s2c, body, len(body), 10*ms)                      // its body at 10 ms
	for i := 2; i <= 3; i++ {
		add(c2s, req, len(req), 5*ms) // request i, ACKing all the server sent
		add(s2c, append(append([]byte(nil), head...), body...), len(head)+len(body), 10*ms)
	}
	st := s.close()
	assert.Equal(t, uint64(3), st.Requests)
	assert.Equal(t, uint64(2), st.Responses, "the responses seen")
	assert.Equal(t, uint64(3), st.Transactions)
	assert.Equal(t, uint64(1), st.Incomplete)
	assert.Zero(t, st.Unanswered)
	assert.Equal(t, uint64(3), st.Turns)
	require.Len(t, s.txns, 3)
	assert.True(t, s.txns[0].Incomplete)
	assert.EqualValues(t, len(head), s.txns[0].MissingBytes)
	assert.Equal(t, 10*ms, s.txns[0].ServerTime, "to the body, the first byte captured")
	for _, x := range s.txns[1:] {
		assert.Equal(t, 200, x.Status)
		assert.Equal(t, 10*ms, x.ServerTime, "each response 10 ms after its own request")
		assert.False(t, x.Incomplete)
	}
}
