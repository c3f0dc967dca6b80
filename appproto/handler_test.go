package appproto_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/netecology/netecology/appproto"
)

// orderHandler logs what a Conn hands it, in order.
type orderHandler struct{ log []string }

func (h *orderHandler) Message(m *appproto.Message) {
	h.log = append(h.log, fmt.Sprintf("message %s %s", m.Dir, m.Kind))
}

func (h *orderHandler) Transaction(t *appproto.Transaction) {
	h.log = append(h.log, fmt.Sprintf("transaction %d %s", t.ID, t.Verb))
}

// TestHandlerOrder: a MessageHandler receives each message as it ends and
// the transaction after the message that completes it; a pipelined
// request's transaction completes at its own response.
func TestHandlerOrder(t *testing.T) {
	var h orderHandler
	s := &script{now: t0}
	s.c = appproto.NewConn(nil, 40000, 80, &h)
	s.send(c2s, 0, []byte("GET /a HTTP/1.1\r\n\r\nHEAD /b HTTP/1.1\r\n\r\n"))
	s.send(s2c, ms, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	assert.Equal(t, []string{"message c2s GET", "message c2s HEAD", "message s2c response", "transaction 1 GET"}, h.log)
	s.send(s2c, ms, []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"))
	s.c.Close()
	assert.Equal(t, []string{"message c2s GET", "message c2s HEAD", "message s2c response", "transaction 1 GET",
		"message s2c response", "transaction 2 HEAD"}, h.log)

	// Without a handler the Stats still count everything.
	s = &script{now: t0}
	s.c = appproto.NewConn(nil, 40000, 80, nil)
	s.send(c2s, 0, []byte("GET /a HTTP/1.1\r\n\r\n"))
	s.send(s2c, ms, []byte("HTTP/1.1 204 No Content\r\n\r\n"))
	st := s.close()
	assert.Equal(t, uint64(1), st.Transactions)
	assert.Equal(t, uint64(1), st.MessagesC2S)
	assert.Equal(t, uint64(1), st.MessagesS2C)
}
