package appproto

// Handler receives the transactions of one Conn, given to NewConn.
//
// Transactions are delivered during the Conn's Add and Close calls, one
// at a time, in the order they complete (Transaction.ID order): a
// transaction completes when its response ends, when the next request of
// a turn-based protocol begins, or at Close. The *Transaction is reused,
// with the buffers its Query, Host and Path share: it is valid only during
// the call, so a Handler that keeps it keeps t.Clone(). A Handler must
// not call the Conn's Add or Close.
type Handler interface {
	// Transaction receives a completed transaction.
	Transaction(t *Transaction)
}

// MessageHandler is a Handler that also receives every message when it
// ends. A message's Message call comes before the Transaction call of a
// transaction its end completes. The *Message is reused: valid only
// during the call.
type MessageHandler interface {
	Handler
	// Message receives an ended message.
	Message(m *Message)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(t *Transaction)

// Transaction calls f(t).
func (f HandlerFunc) Transaction(t *Transaction) { f(t) }
