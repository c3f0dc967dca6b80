package appproto

import "fmt"

var mysqlPorts = []uint16{3306}

// MySQL capability flags used here.
const (
	myClientSSL             = 1 << 11
	myClientDeprecateEOF    = 1 << 24
	myClientQueryAttributes = 1 << 27
	myMoreResults           = 0x0008 // SERVER_MORE_RESULTS_EXISTS
)

// MySQL commands whose response the framer follows.
const (
	myComQuit          = 0x01
	myComQuery         = 0x03
	myComFieldList     = 0x04
	myComStatistics    = 0x09
	myComStmtPrepare   = 0x16
	myComStmtExecute   = 0x17
	myComStmtLongData  = 0x18
	myComStmtClose     = 0x19
	myComStmtFetch     = 0x1c
	myComBinlogDump    = 0x12
	myComBinlogDumpGTI = 0x1e
)

var mysqlCommands = [...]string{0x00: "COM_SLEEP", 0x01: "COM_QUIT", 0x02: "COM_INIT_DB", 0x03: "COM_QUERY",
	0x04: "COM_FIELD_LIST", 0x05: "COM_CREATE_DB", 0x06: "COM_DROP_DB", 0x07: "COM_REFRESH", 0x08: "COM_SHUTDOWN",
	0x09: "COM_STATISTICS", 0x0a: "COM_PROCESS_INFO", 0x0b: "COM_CONNECT", 0x0c: "COM_PROCESS_KILL",
	0x0d: "COM_DEBUG", 0x0e: "COM_PING", 0x0f: "COM_TIME", 0x10: "COM_DELAYED_INSERT", 0x11: "COM_CHANGE_USER",
	0x12: "COM_BINLOG_DUMP", 0x13: "COM_TABLE_DUMP", 0x14: "COM_CONNECT_OUT", 0x15: "COM_REGISTER_SLAVE",
	0x16: "COM_STMT_PREPARE", 0x17: "COM_STMT_EXECUTE", 0x18: "COM_STMT_SEND_LONG_DATA", 0x19: "COM_STMT_CLOSE",
	0x1a: "COM_STMT_RESET", 0x1b: "COM_SET_OPTION", 0x1c: "COM_STMT_FETCH", 0x1d: "COM_DAEMON",
	0x1e: "COM_BINLOG_DUMP_GTID", 0x1f: "COM_RESET_CONNECTION"}

// MySQL is the MySQL / MariaDB client/server protocol. Every packet (a
// 3-byte length and a sequence id) is a message. After the handshake
// (server greeting, client response, authentication exchange ended by OK
// or ERR), each client packet with sequence id 0 is a command and a
// request; the server packets that answer it are its response, whose end
// the framer finds by following the result: OK or ERR, or a result set's
// column count, column definitions, rows and final EOF/OK (with the
// "more results" flag followed), prepared-statement metadata. A client
// asking for TLS makes the rest unknown.
type MySQL struct{}

// Name returns "mysql".
func (MySQL) Name() string { return "mysql" }

// Ports returns 3306.
func (MySQL) Ports() []uint16 { return mysqlPorts }

// Identify recognises a server greeting (protocol 10, a printable version
// string) and, more weakly, a client command packet.
func (MySQL) Identify(d Dir, b []byte) (float64, bool) {
	if len(b) < 6 {
		return 0, true
	}
	n, _ := le24(b, 0)
	if n == 0 || b[3] != 0 {
		return 0, false
	}
	if d == ServerToClient {
		if b[4] != 10 && b[4] != 9 {
			return 0, false
		}
		for i := 5; i < len(b) && i < 5+64 && int64(i) < 4+n; i++ {
			c := b[i]
			if c == 0 {
				if i > 5 {
					return 0.95, false
				}
				return 0, false
			}
			if c < 0x20 || c > 0x7e {
				return 0, false
			}
		}
		return 0, len(b) < 5+64
	}
	if int64(len(b)) == 4+n && b[4] == myComQuery && n > 1 {
		return weakMatch, false
	}
	return 0, false
}

// NewParser returns a MySQL parser.
func (MySQL) NewParser(maxMessage int64) Parser { return &mysqlParser{max: maxMessage} }

// Response states.
const (
	myIdle     = iota // no command pending
	myFirst           // waiting for the first packet of a response
	myCols            // column definitions to come (count in left)
	myColsEOF         // the EOF after column definitions
	myRows            // rows until EOF/OK or ERR
	mySkip            // left more packets, then the response ends
	myUntilEOF        // packets until EOF or ERR (COM_FIELD_LIST)
)

type mysqlParser struct {
	textWaiter
	ft          FrameText
	max         int64
	command     bool // handshake over: command phase
	greeted     bool
	serverCaps  uint32
	clientCaps  uint32
	sawResponse bool // the client's handshake response was seen
	cmd         byte
	state       int
	left        uint64
}

func (p *mysqlParser) deprecateEOF() bool {
	return p.serverCaps&p.clientCaps&myClientDeprecateEOF != 0
}

// Split frames one MySQL packet.
func (p *mysqlParser) Split(d Dir, b []byte) (Frame, error) {
	if len(b) < 4 {
		return Frame{}, nil
	}
	n, _ := le24(b, 0)
	seq := b[3]
	if n > p.max {
		return Frame{}, fmt.Errorf("mysql: packet length %d over the limit", n)
	}
	f := Frame{Len: 4 + n, Start: true, End: true}
	// The fields read below lie in the packet; wait for them (bounded by
	// the header limit) rather than guess.
	need := int(min(4+n, 64))
	if d == ClientToServer && seq == 0 && len(b) > 4 && (b[4] == myComQuery || b[4] == myComStmtPrepare) {
		need = max(need, p.need(4+n)) // a statement: wait to see its text
	}
	if len(b) < need {
		return Frame{}, nil
	}
	pl := b[4:min(int64(len(b)), 4+n)]
	p.pickUp(d, seq, pl)
	switch {
	case !p.command:
		return p.handshake(d, seq, pl, f)
	case d == ClientToServer:
		f = p.clientCommand(seq, pl, f)
		if f.Text != nil {
			f.Text.QueryCut = int64(len(b)) < 4+n
		}
		return f, nil
	}
	return p.response(pl, n, f)
}

// run steps over the whole rows of a result set at the start of b, which
// Split would frame as plain responses, up to the packet that ends the
// rows (EOF, OK or ERR) or one not whole in b (see runner).
func (p *mysqlParser) run(d Dir, b []byte) (n, count int) {
	if d != ServerToClient || !p.command || p.state != myRows {
		return 0, 0
	}
	for len(b)-n >= 5 {
		m := int64(b[n]) | int64(b[n+1])<<8 | int64(b[n+2])<<16
		c := b[n+4]
		if m == 0 || m > p.max || int64(len(b)-n) < 4+m || c == 0xff || c == 0xfe && m < 9 {
			break
		}
		n += int(4 + m)
		count++
	}
	return n, count
}

// pickUp enters the command phase when the connection was picked up after
// the handshake: the first packet is a client command (sequence id 0) or
// a server packet that is no greeting.
func (p *mysqlParser) pickUp(d Dir, seq byte, pl []byte) {
	if p.command || p.greeted || p.sawResponse {
		return
	}
	if d == ClientToServer && seq == 0 || d == ServerToClient && (len(pl) == 0 || pl[0] != 10 && pl[0] != 9) {
		p.command = true
	}
}

// clientCommand frames a client packet of the command phase: with
// sequence id 0 it is a command, and a request.
func (p *mysqlParser) clientCommand(seq byte, pl []byte, f Frame) Frame {
	if seq != 0 || len(pl) == 0 {
		f.Kind = "data"
		return f
	}
	c := pl[0]
	f.Kind = "COM_UNKNOWN"
	if int(c) < len(mysqlCommands) {
		f.Kind = mysqlCommands[c]
	}
	f.Role = Request | RequestEnd
	p.cmd, p.state = c, myFirst
	switch c {
	case myComQuit, myComStmtClose, myComStmtLongData:
		f.Role |= NoResponse
		p.state = myIdle
	case myComQuery:
		p.ft = FrameText{Query: myQueryText(pl[1:], p.serverCaps&p.clientCaps&myClientQueryAttributes != 0)}
		f.Text, f.Verb = &p.ft, sqlVerb(p.ft.Query)
	case myComStmtPrepare:
		p.ft = FrameText{Query: pl[1:]}
		f.Text, f.Verb = &p.ft, sqlVerb(p.ft.Query)
	}
	return f
}

// myQueryText returns the statement of a COM_QUERY's payload b (after
// the command byte), past its query attributes when the client and server
// agreed on CLIENT_QUERY_ATTRIBUTES: parameter count, parameter set count,
// NULL bitmap, types and names, then the values (binary protocol). It
// returns nil when the attributes cannot be stepped over in b.
func myQueryText(b []byte, attrs bool) []byte {
	if !attrs {
		return b
	}
	count, off, ok := lenenc(b, 0)
	if !ok {
		return nil
	}
	if _, off, ok = lenenc(b, off); !ok {
		return nil
	}
	if count == 0 {
		return b[off:]
	}
	if count > uint64(len(b)) {
		return nil
	}
	nulls := off
	off += int(count+7) / 8
	if off >= len(b) || b[off] != 1 { // new_params_bind_flag
		return nil
	}
	off++
	types := off
	for i := uint64(0); i < count; i++ {
		if off += 2; off > len(b) {
			return nil
		}
		if off, ok = myLenencSkip(b, off); !ok {
			return nil
		}
	}
	for i := 0; i < int(count); i++ {
		typ := b[types]
		if types, ok = myLenencSkip(b, types+2); !ok { // the name
			return nil
		}
		if b[nulls+i/8]&(1<<(i%8)) != 0 {
			continue // NULL: no value
		}
		if off, ok = myValueSkip(b, off, typ); !ok {
			return nil
		}
	}
	if off > len(b) {
		return nil
	}
	return b[off:]
}

// myLenencSkip steps over a length-encoded string at off.
func myLenencSkip(b []byte, off int) (int, bool) {
	n, o, ok := lenenc(b, off)
	if !ok || n > uint64(len(b)-o) {
		return off, false
	}
	return o + int(n), true
}

// myValueSkip steps over a binary-protocol value of MySQL type typ at off.
func myValueSkip(b []byte, off int, typ byte) (int, bool) {
	var n int
	switch typ {
	case 0x06: // NULL
		return off, true
	case 0x01: // TINY
		n = 1
	case 0x02, 0x0d: // SHORT, YEAR
		n = 2
	case 0x03, 0x09, 0x04: // LONG, INT24, FLOAT
		n = 4
	case 0x08, 0x05: // LONGLONG, DOUBLE
		n = 8
	case 0x07, 0x0a, 0x0b, 0x0c: // TIMESTAMP, DATE, TIME, DATETIME: a length byte
		if off >= len(b) {
			return off, false
		}
		n = 1 + int(b[off])
	default: // strings, decimals, blobs, JSON...: length-encoded
		return myLenencSkip(b, off)
	}
	if off+n > len(b) {
		return off, false
	}
	return off + n, true
}

// response frames a server packet of the command phase (payload pl,
// length n) by following the response to the pending command.
func (p *mysqlParser) response(pl []byte, n int64, f Frame) (Frame, error) {
	f.Kind = "response"
	f.Role = Response
	if len(pl) == 0 {
		return f, nil
	}
	if pl[0] == 0xff {
		f.Kind = "ERR"
		f.Role |= Error | ResponseEnd
		if code, ok := le16(pl, 1); ok {
			f.Status = code
		}
		p.state = myIdle
		return f, nil
	}
	eof := pl[0] == 0xfe && n < 9
	switch p.state {
	case myIdle:
		f.Kind = "unsolicited"
	case myFirst:
		return p.firstResponse(pl, n, eof, f)
	case myCols, myColsEOF, myRows:
		return p.resultSet(pl, eof, f), nil
	case mySkip:
		f.Kind = "definition"
		if p.left--; p.left == 0 {
			f.Role |= ResponseEnd
			p.state = myIdle
		}
	case myUntilEOF:
		f.Kind = "column_def"
		if eof {
			f.Kind = "EOF"
			f.Role |= ResponseEnd
			p.state = myIdle
		}
	}
	return f, nil
}

// firstResponse frames the first packet of a response: OK, a result set's
// column count, a LOCAL INFILE request, the first column of a field list,
// or an answer in one packet.
func (p *mysqlParser) firstResponse(pl []byte, n int64, eof bool, f Frame) (Frame, error) {
	rows := p.cmd == myComQuery || p.cmd == myComStmtExecute
	switch {
	case pl[0] == 0x00 && n >= 7:
		return p.firstOK(pl, f), nil
	case pl[0] == 0xfb && rows:
		f.Kind = "LOCAL_INFILE" // the client sends the file, then the server answers OK
	case rows || p.cmd == myComStmtFetch && !eof:
		cols, _, ok := lenenc(pl, 0)
		if !ok || cols == 0 {
			return Frame{}, fmt.Errorf("mysql: bad column count")
		}
		f.Kind = "column_count"
		if p.cmd == myComStmtFetch {
			f.Kind = "row"
			p.state = myRows
			return f, nil
		}
		p.state, p.left = myCols, cols
	case p.cmd == myComFieldList:
		f.Kind = "column_def"
		p.state = myUntilEOF
	default:
		if eof {
			f.Kind = "EOF"
		}
		f.Role |= ResponseEnd
		p.state = myIdle
	}
	return f, nil
}

// firstOK frames an OK that answers a command: it ends the response,
// unless more results follow or it is a prepared statement's, followed by
// its parameter and column definitions.
func (p *mysqlParser) firstOK(pl []byte, f Frame) Frame {
	f.Kind = "OK"
	if p.cmd == myComStmtPrepare {
		cols, _ := le16(pl, 5)
		params, _ := le16(pl, 7)
		left := uint64(cols + params)
		if !p.deprecateEOF() {
			if cols > 0 {
				left++
			}
			if params > 0 {
				left++
			}
		}
		if left > 0 {
			p.state, p.left = mySkip, left
			return f
		}
	} else if p.moreResults(pl) {
		return f
	}
	f.Role |= ResponseEnd
	p.state = myIdle
	return f
}

// resultSet frames a packet of a result set after its column count:
// column definitions, the EOF after them (unless CLIENT_DEPRECATE_EOF),
// rows, and the EOF or OK that ends the set (the response, unless more
// results follow).
func (p *mysqlParser) resultSet(pl []byte, eof bool, f Frame) Frame {
	switch p.state {
	case myCols:
		f.Kind = "column_def"
		if p.left--; p.left == 0 {
			p.state = myColsEOF
			if p.deprecateEOF() {
				p.state = myRows
			}
		}
		return f
	case myColsEOF:
		p.state = myRows
		if eof {
			f.Kind = "EOF"
			return f
		}
	}
	if !eof {
		f.Kind = "row"
		return f
	}
	f.Kind = "EOF"
	if p.moreResults(pl) {
		p.state = myFirst
		return f
	}
	f.Role |= ResponseEnd
	p.state = myIdle
	return f
}

// moreResults reads the status flags of an OK or EOF packet.
func (p *mysqlParser) moreResults(pl []byte) bool {
	var st int
	var ok bool
	if pl[0] == 0xfe && len(pl) <= 5 {
		st, ok = le16(pl, 3)
	} else {
		_, o, ok1 := lenenc(pl, 1)
		_, o, ok2 := lenenc(pl, o)
		if !ok1 || !ok2 {
			return false
		}
		st, ok = le16(pl, o)
	}
	return ok && st&myMoreResults != 0
}

// handshake frames the packets of the connection phase.
func (p *mysqlParser) handshake(d Dir, seq byte, pl []byte, f Frame) (Frame, error) {
	f.Kind = "handshake"
	if d == ServerToClient {
		if !p.greeted && len(pl) > 0 && (pl[0] == 10 || pl[0] == 9) && !p.sawResponse {
			p.greeted = true
			f.Kind = "greeting"
			// version string, connection id, 8 bytes of scramble, filler,
			// capability flags (low), charset, status, capability flags (high)
			i := 1
			for i < len(pl) && pl[i] != 0 {
				i++
			}
			i += 1 + 4 + 8 + 1
			lo, ok1 := le16(pl, i)
			hi, ok2 := le16(pl, i+5)
			if ok1 {
				p.serverCaps = uint32(lo)
			}
			if ok2 {
				p.serverCaps |= uint32(hi) << 16
			}
			return f, nil
		}
		if len(pl) > 0 && p.sawResponse {
			switch pl[0] {
			case 0x00:
				f.Kind = "OK"
				p.command = true
			case 0xff:
				f.Kind = "ERR"
				p.command = true
			}
		}
		return f, nil
	}
	if !p.sawResponse {
		p.sawResponse = true
		f.Kind = "handshake_response"
		if caps, ok := le32(pl, 0); ok {
			p.clientCaps = caps
			if caps&myClientSSL != 0 && len(pl) == 32 {
				f.Kind, f.Unframe = "ssl_request", true
			}
		}
		return f, nil
	}
	return f, nil
}
