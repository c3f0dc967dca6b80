package appproto_test

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

// queries returns the Query of each transaction.
func (s *script) queries() []string {
	var q []string
	for _, tx := range s.txns {
		q = append(q, string(tx.Query))
	}
	return q
}

// TestPostgresQueryText: a Query's text, one split across two segments
// (waited for), the texts of two Parse messages of one Sync group joined,
// and a text longer than MaxText cut and marked.
func TestPostgresQueryText(t *testing.T) {
	s := newScript(appproto.Config{}, 5432)
	s.send(c2s, 0, pgStartup(196608, []byte("user\x00u\x00\x00")))
	s.send(s2c, ms, cat(pgMsg('R', be32(0)), pgMsg('Z', []byte("I"))))
	done := cat(pgMsg('C', []byte("SELECT 1\x00")), pgMsg('Z', []byte("I")))
	s.send(c2s, ms, pgMsg('Q', []byte("SELECT * FROM orders WHERE order_id = 42;\x00")))
	s.send(s2c, ms, done)
	s.sendSplit(c2s, ms, pgMsg('Q', []byte("select a from t where b = 'split here'\x00")), 20)
	s.send(s2c, ms, done)
	s.send(c2s, ms, cat(pgMsg('P', []byte("\x00begin\x00\x00\x00")), pgMsg('B', make([]byte, 8)), pgMsg('E', make([]byte, 5)),
		pgMsg('P', []byte("S_1\x00select revision from mailstore for update\x00\x00\x00")), pgMsg('B', make([]byte, 8)),
		pgMsg('E', make([]byte, 5)), pgMsg('S', nil)))
	s.send(s2c, ms, done)
	long := "SELECT " + strings.Repeat("x", 300) + "é FROM t"
	s.send(c2s, ms, pgMsg('Q', []byte(long+"\x00")))
	s.send(s2c, ms, done)
	s.close()
	require.Len(t, s.txns, 4)
	assert.Equal(t, []string{"SELECT * FROM orders WHERE order_id = 42;", "select a from t where b = 'split here'",
		"begin; select revision from mailstore for update", long[:appproto.MaxText]}, s.queries())
	assert.False(t, s.txns[0].TextTruncated)
	assert.Equal(t, "BEGIN", s.txns[2].Verb)
	assert.True(t, s.txns[3].TextTruncated)
}

// TestTextCutAtRune: a text is cut before a multi-byte character that
// does not fit whole.
func TestTextCutAtRune(t *testing.T) {
	s := newScript(appproto.Config{}, 5432)
	s.send(c2s, 0, pgStartup(196608, []byte("user\x00u\x00\x00")))
	s.send(s2c, ms, cat(pgMsg('R', be32(0)), pgMsg('Z', []byte("I"))))
	q := "SELECT '" + strings.Repeat("a", appproto.MaxText-9) + "€'" // the euro sign's 3 bytes start at MaxText-1
	s.send(c2s, ms, pgMsg('Q', []byte(q+"\x00")))
	s.send(s2c, ms, pgMsg('Z', []byte("I")))
	s.close()
	require.Len(t, s.txns, 1)
	assert.Equal(t, q[:appproto.MaxText-1], string(s.txns[0].Query))
	assert.True(t, s.txns[0].TextTruncated)
}

// TestPostgresQueryCutBySnaplen: a Query whose packet the snap length
// cut is framed without waiting for the rest: its transaction keeps what
// was captured of the text, marked cut.
func TestPostgresQueryCutBySnaplen(t *testing.T) {
	s := newScript(appproto.Config{}, 5432)
	s.send(c2s, 0, pgStartup(196608, []byte("user\x00u\x00\x00")))
	s.send(s2c, ms, cat(pgMsg('R', be32(0)), pgMsg('Z', []byte("I"))))
	q := pgMsg('Q', []byte("SELECT * FROM orders WHERE order_id <= 3000 ORDER BY order_id\x00"))
	s.seg(c2s, s.seq[c2s], q[:30], len(q), tcpstate.PSH)
	s.seq[c2s] = s.seq[c2s].Add(tcpstate.Size(len(q)))
	s.send(s2c, 150*ms, pgMsg('Z', []byte("I")))
	st := s.close()
	require.Len(t, s.txns, 1)
	assert.Equal(t, "SELECT * FROM orders WHER", string(s.txns[0].Query)) // 30 bytes: 5 of header, 25 of text
	assert.True(t, s.txns[0].TextTruncated)
	assert.Equal(t, uint64(0), st.FramingErrors)
	assert.InDelta(t, 0.150, s.txns[0].ServerTime.Seconds(), 1e-9)
}

// TestMySQLQueryText: COM_QUERY, COM_QUERY after query attributes
// (CLIENT_QUERY_ATTRIBUTES on both sides: 2 parameters, a string and a
// NULL) and COM_STMT_PREPARE.
func TestMySQLQueryText(t *testing.T) {
	s := newScript(appproto.Config{}, 3306)
	// capability flags: low 0xf7ff, high 0x0981 (DEPRECATE_EOF 1<<24, QUERY_ATTRIBUTES 1<<27)
	greeting := cat([]byte{10}, []byte("8.0.33\x00"), make([]byte, 4+8+1), []byte{0xff, 0xf7, 8, 2, 0, 0x81, 0x09}, make([]byte, 20))
	s.send(s2c, 0, myPacket(0, greeting))
	s.send(c2s, ms, myPacket(1, cat([]byte{0x0d, 0xa2, 0x3a, 0x09}, make([]byte, 40))))
	s.send(s2c, ms, myPacket(2, []byte{0, 0, 0, 2, 0, 0, 0}))
	ok := myPacket(1, []byte{0, 0, 0, 2, 0, 0, 0})
	s.send(c2s, ms, myPacket(0, []byte("\x03\x00\x01show tables")))
	s.send(s2c, ms, ok)
	attrs := cat([]byte{0x03, 2, 1, 0x02, 1}, []byte{0xfe, 0, 2, 'n', '1', 0x08, 0, 2, 'n', '2'}, []byte{3, 'a', 'b', 'c'},
		[]byte("SELECT mysql_query_attribute_string('n1')"))
	s.send(c2s, ms, myPacket(0, attrs))
	s.send(s2c, ms, ok)
	s.send(c2s, ms, myPacket(0, []byte("\x16SELECT ? FROM t")))
	s.send(s2c, ms, myPacket(1, []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
	st := s.close()
	assert.Equal(t, uint64(0), st.FramingErrors)
	assert.Equal(t, []string{"show tables", "SELECT mysql_query_attribute_string('n1')", "SELECT ? FROM t"}, s.queries())
	assert.Equal(t, "SELECT", s.txns[2].Verb)
}

// TestHTTPHostAndPath: the Host header and request target of pipelined
// requests go to their own transactions.
func TestHTTPHostAndPath(t *testing.T) {
	s := newScript(appproto.Config{}, 80)
	s.send(c2s, 0, []byte("GET /row/1.csv HTTP/1.1\r\nHost: 10.77.0.2\r\n\r\nGET /b?x=1 HTTP/1.1\r\nhost:  example.org:8080 \r\n\r\n"))
	s.send(s2c, ms, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
	s.close()
	require.Len(t, s.txns, 2)
	assert.Equal(t, "10.77.0.2", string(s.txns[0].Host))
	assert.Equal(t, "/row/1.csv", string(s.txns[0].Path))
	assert.Equal(t, "example.org:8080", string(s.txns[1].Host))
	assert.Equal(t, "/b?x=1", string(s.txns[1].Path))
	assert.Equal(t, 404, s.txns[1].Status)
	assert.Nil(t, s.txns[0].Query)
}

// tdsPacket builds one TDS packet.
func tdsPacket(typ, status byte, body []byte) []byte {
	return cat([]byte{typ, status}, be16(8+len(body)), []byte{0, 0, 1, 0}, body)
}

// utf16le encodes s in UTF-16LE.
func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// TestTDSBatchText: a SQL batch's text in UTF-16LE, after TDS 7.2's
// ALL_HEADERS (22 bytes: total length, one transaction-descriptor header)
// and without them (TDS 7.0), non-ASCII and a surrogate pair included.
func TestTDSBatchText(t *testing.T) {
	s := newScript(appproto.Config{}, 1433)
	s.send(c2s, 0, tdsPacket(18, 1, make([]byte, 40)))
	s.send(s2c, ms, tdsPacket(4, 1, make([]byte, 40)))
	allHeaders := cat([]byte{22, 0, 0, 0, 18, 0, 0, 0, 2, 0}, make([]byte, 12))
	s.send(c2s, ms, tdsPacket(1, 1, cat(allHeaders, utf16le("select name from sys.databases"))))
	s.send(s2c, ms, tdsPacket(4, 1, make([]byte, 30)))
	s.send(c2s, ms, tdsPacket(1, 1, utf16le("SELECT N'Zürich 😀'")))
	s.send(s2c, ms, tdsPacket(4, 1, make([]byte, 30)))
	s.close()
	assert.Equal(t, []string{"select name from sys.databases", "SELECT N'Zürich 😀'"}, s.queries())
	assert.Equal(t, "SELECT", s.txns[0].Verb)
}

// TestTNSCallText: the statement of an execution call, as a length byte
// and its text, and as 0xfe and 64-byte chunks; a call without SQL (the
// session-key call) has none.
func TestTNSCallText(t *testing.T) {
	s := newScript(appproto.Config{}, 1521)
	s.send(c2s, 0, tnsConnect(312))
	s.send(s2c, ms, tnsAccept(312))
	short := "select XML from PU_DATA\n"
	call := func(code byte, text []byte) []byte {
		// data flags, TTI function, call code, sequence, then fields before the text
		return tnsPacket(false, 6, cat([]byte{0, 0, 3, code, 7}, make([]byte, 20), []byte{0, 0}, text, make([]byte, 30)))
	}
	s.send(c2s, ms, call(0x3e, cat([]byte{byte(len(short))}, []byte(short))))
	s.send(s2c, ms, tnsPacket(false, 6, make([]byte, 40)))
	long := "select sid from V$SESSION  where audsid = ( select USERENV('SESSIONID') from dual )\n"
	s.send(c2s, ms, call(0x5e, cat([]byte{0xfe, 64}, []byte(long[:64]), []byte{byte(len(long) - 64)}, []byte(long[64:]), []byte{0})))
	s.send(s2c, ms, tnsPacket(false, 6, make([]byte, 40)))
	s.send(c2s, ms, call(0x76, cat([]byte{5}, []byte("AUTH_SESSKEY"))))
	s.send(s2c, ms, tnsPacket(false, 6, make([]byte, 40)))
	s.close()
	require.Len(t, s.txns, 3)
	assert.Equal(t, []string{short, long, ""}, s.queries())
	assert.Equal(t, "SELECT", s.txns[1].Verb)
}

// TestRedisCommandNames: the command name of an array command (upper
// case) and of an inline command.
func TestRedisCommandNames(t *testing.T) {
	s := newScript(appproto.Config{}, 6379)
	s.send(c2s, 0, []byte("*3\r\n$3\r\nset\r\n$1\r\nk\r\n$5\r\nhello\r\n"))
	s.send(s2c, ms, []byte("+OK\r\n"))
	s.sendSplit(c2s, ms, []byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), 6)
	s.send(s2c, ms, []byte("$5\r\nhello\r\n"))
	s.send(c2s, ms, []byte("ping\r\n"))
	s.send(s2c, ms, []byte("+PONG\r\n"))
	st := s.close()
	assert.Equal(t, uint64(0), st.FramingErrors)
	assert.Equal(t, []string{"SET", "GET", "PING"}, s.queries())
}
