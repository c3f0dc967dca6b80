package appproto

import (
	"errors"
	"fmt"
)

var redisPorts = []uint16{6379}

// redisMaxDepth bounds the nesting of RESP aggregates.
const redisMaxDepth = 32

// Redis is the Redis serialization protocol (RESP2 and RESP3). A message is
// one top-level value: a command (an array of bulk strings, or an inline
// command line) from the client, a reply from the server. Values are
// framed element by element, so bulk strings are skipped, never buffered.
// Replies pair with commands in order (pipelining).
type Redis struct{}

// Name returns "redis".
func (Redis) Name() string { return "redis" }

// Ports returns 6379.
func (Redis) Ports() []uint16 { return redisPorts }

// Identify recognises a command array ("*N\r\n$") from the client and,
// weakly, a simple reply from the server.
func (Redis) Identify(d Dir, b []byte) (float64, bool) {
	if len(b) < 4 {
		return 0, true
	}
	if d == ClientToServer {
		if b[0] != '*' {
			return 0, false
		}
		i := 1
		for i < len(b) && i < 12 && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == 1 {
			return 0, false
		}
		if len(b) < i+3 {
			return 0, true
		}
		if b[i] == '\r' && b[i+1] == '\n' && b[i+2] == '$' {
			return 0.9, false
		}
		return 0, false
	}
	if (b[0] == '+' || b[0] == '-') && lineEnd(b, 512) > 0 {
		return weakMatch, false
	}
	return 0, false
}

// NewParser returns a RESP parser.
func (Redis) NewParser(maxMessage int64) Parser { return &redisParser{max: maxMessage} }

type redisParser struct {
	textWaiter
	ft    FrameText
	max   int64
	depth [2]int
	left  [2][redisMaxDepth]int64 // elements still to come per open aggregate
	err   [2]bool                 // the top-level value is an error reply
	// name is set while the next element is a command's first, its name.
	name bool
	cmd  [redisMaxName]byte // the command name, in upper case
}

// redisMaxName bounds the command names reported (the longest Redis
// command names are about 30 bytes).
const redisMaxName = 64

var errRedisLine = errors.New("redis: line too long")

// Split frames one RESP element (its header line, and the body of a bulk
// string).
func (p *redisParser) Split(d Dir, b []byte) (Frame, error) {
	if len(b) == 0 {
		return Frame{}, nil
	}
	line := lineEnd(b, 65536)
	if line < 0 {
		if len(b) >= 65536 {
			return Frame{}, errRedisLine
		}
		return Frame{}, nil
	}
	top := p.depth[d] == 0
	f := Frame{Len: int64(line), Start: top}
	if top {
		p.err[d] = false
		if d == ClientToServer {
			f.Kind, f.Role = "command", Request|RequestEnd
		} else {
			f.Kind, f.Role = "reply", Response|ResponseEnd
		}
	}
	c := b[0]
	switch c {
	case '+', ':', '_', ',', '#', '(':
	case '-':
		if top {
			f.Role |= Error
		}
	case '$', '!', '=':
		if wait, err := p.bulk(d, b, line, &f); err != nil || wait {
			return Frame{}, err
		}
	case '*', '~', '>', '%', '|':
		n, err := redisInt(b[1:line])
		if err != nil {
			return Frame{}, err
		}
		if n > p.max {
			return Frame{}, fmt.Errorf("redis: aggregate length %d over the limit", n)
		}
		switch c {
		case '%':
			n *= 2
		case '|':
			n = 2*n + 1 // the attribute map, then the value it describes
		}
		if n > 0 {
			if p.depth[d] >= redisMaxDepth {
				return Frame{}, errors.New("redis: nesting too deep")
			}
			p.left[d][p.depth[d]] = n
			p.depth[d]++
			p.name = top && d == ClientToServer
			return f, nil
		}
	default:
		if !top || d != ClientToServer {
			return Frame{}, fmt.Errorf("redis: type byte 0x%02x", c)
		}
		f.Kind = "inline"
		p.text(&f, p.inlineName(b[:line]))
	}
	if d == ClientToServer {
		p.name = false
	}
	// One element done: close the aggregates it completes.
	for p.depth[d] > 0 {
		i := p.depth[d] - 1
		if p.left[d][i]--; p.left[d][i] > 0 {
			break
		}
		p.depth[d]--
	}
	f.End = p.depth[d] == 0
	return f, nil
}

// redisInt parses the decimal integer of a RESP header line ("\r\n"
// included).
func redisInt(b []byte) (int64, error) {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, errors.New("redis: bad length")
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errors.New("redis: bad length")
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		if v != 1 {
			return 0, errors.New("redis: negative length")
		}
		return -1, nil
	}
	return v, nil
}

// bulk frames a bulk string whose header line (line bytes) begins b, and
// takes a command's name from it; wait reports that the name's bytes are
// still to come.
func (p *redisParser) bulk(d Dir, b []byte, line int, f *Frame) (wait bool, err error) {
	n, err := redisInt(b[1:line])
	if err != nil {
		return false, err
	}
	if n >= 0 {
		if n > p.max {
			return false, fmt.Errorf("redis: bulk length %d over the limit", n)
		}
		f.Len += n + 2
	}
	if p.name && d == ClientToServer && b[0] == '$' {
		var name []byte
		name, wait = p.bulkName(b, line, n)
		p.text(f, name)
	}
	return wait, nil
}

// bulkName returns the command name in the bulk string of length n whose
// header line (line bytes) begins b, or wait when its bytes are still to
// come.
func (p *redisParser) bulkName(b []byte, line int, n int64) (name []byte, wait bool) {
	if n <= 0 || n > redisMaxName {
		return nil, false
	}
	if len(b) < line+int(n) && !p.nowait {
		return nil, true
	}
	return p.upper(b[line:min(len(b), line+int(n))]), false
}

// inlineName returns the name of an inline command: the line's first
// word.
func (p *redisParser) inlineName(line []byte) []byte {
	for i, c := range line {
		if c == ' ' || c == '\r' || c == '\n' {
			line = line[:i]
			break
		}
	}
	if len(line) > redisMaxName {
		return nil
	}
	return p.upper(line)
}

// text makes name, when there is one, the text of f.
func (p *redisParser) text(f *Frame, name []byte) {
	if len(name) > 0 {
		p.ft = FrameText{Query: name}
		f.Text = &p.ft
	}
}

// upper returns the command name b in upper case, in the parser's buffer.
func (p *redisParser) upper(b []byte) []byte {
	n := copy(p.cmd[:], b)
	for i := range n {
		p.cmd[i] = upperASCII(p.cmd[i])
	}
	return p.cmd[:n]
}
