package appproto

import (
	"bytes"
	"errors"
)

var httpPorts = []uint16{80, 8000, 8008, 8080, 8888, 3128}

var httpMethods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH", "PURGE"}

// httpMethod returns the method at the start of b when it is followed by a
// space, and whether b is too short to tell.
func httpMethod(b []byte) (string, bool) {
	short := false
	for _, m := range httpMethods {
		if len(b) > len(m) && string(b[:len(m)]) == m && b[len(m)] == ' ' {
			return m, false
		}
		if len(b) <= len(m) && string(b) == m[:len(b)] {
			short = true
		}
	}
	return "", short
}

// HTTP is HTTP/1.0 and HTTP/1.1 (RFC 9112). A message is a request or a
// response, headers and body; bodies are delimited by Content-Length or
// chunked transfer coding, and are skipped, never buffered. Responses to
// HEAD, 1xx, 204 and 304 have no body; a response with neither length nor
// chunking runs to the end of the connection. Requests may be pipelined:
// responses pair with requests in order. After a 101 (protocol switch) or
// a successful CONNECT, the rest of the connection is unknown data.
type HTTP struct{}

// Name returns "http".
func (HTTP) Name() string { return "http" }

// Ports returns the usual HTTP ports.
func (HTTP) Ports() []uint16 { return httpPorts }

// Identify recognises a request line's method or a status line's version.
func (HTTP) Identify(d Dir, b []byte) (float64, bool) {
	if d == ClientToServer {
		if m, short := httpMethod(b); m != "" {
			return 0.95, false
		} else if short {
			return 0, true
		}
		return 0, false
	}
	const v = "HTTP/1."
	if len(b) < len(v) {
		return 0, string(b) == v[:len(b)]
	}
	if string(b[:len(v)]) == v {
		return 0.9, false
	}
	return 0, false
}

// NewParser returns an HTTP/1.x parser.
func (HTTP) NewParser(maxMessage int64) Parser { return &httpParser{} }

const (
	httpStart = iota
	httpChunk
)

const httpMaxPending = 64

type httpParser struct {
	phase [2]uint8
	// methods of requests awaiting a response: 0 other, 1 HEAD, 2 CONNECT.
	pend   [httpMaxPending]uint8
	ph, pn int
	pover  int // requests not in pend (assumed neither HEAD nor CONNECT)
}

var (
	errHTTPStartLine = errors.New("http: malformed start line")
	errHTTPLength    = errors.New("http: malformed Content-Length")
	errHTTPChunk     = errors.New("http: malformed chunk size")
)

// Split frames an HTTP header block, a body, or one chunk.
func (p *httpParser) Split(d Dir, b []byte) (Frame, error) {
	if p.phase[d] == httpChunk {
		return p.chunk(d, b)
	}
	first, fields, hdrEnd, err := p.headerBlock(d, b)
	if err != nil || hdrEnd == 0 {
		return Frame{}, err
	}
	clen, chunked, host, err := bodyHeaders(fields)
	if err != nil {
		return Frame{}, err
	}
	var f Frame
	if d == ClientToServer {
		f = p.request(first)
		f.Host = host
	} else {
		var whole bool
		f, whole, err = p.response(first, int64(hdrEnd), clen, chunked)
		if err != nil || whole {
			return f, err
		}
	}
	switch {
	case chunked:
		f.Len, f.End = int64(hdrEnd), false
		p.phase[d] = httpChunk
	case clen > 0:
		f.Len = int64(hdrEnd) + clen
	default:
		f.Len = int64(hdrEnd)
	}
	return f, nil
}

// headerBlock finds the header block at the start of b: its start line,
// its header fields and its length, empty lines before it included; a
// length of 0 means more bytes are needed.
func (p *httpParser) headerBlock(d Dir, b []byte) (first, fields []byte, n int, err error) {
	// Tolerate empty lines before a start line (RFC 9112 section 2.2).
	skip := 0
	for skip < len(b) && (b[skip] == '\r' || b[skip] == '\n') && skip < 4 {
		skip++
	}
	line := lineEnd(b[skip:], 8192)
	if line < 0 {
		if len(b)-skip >= 8192 || len(b) > skip && !p.plausible(d, b[skip:]) {
			return nil, nil, 0, errHTTPStartLine
		}
		return nil, nil, 0, nil
	}
	first = bytes.TrimRight(b[skip:skip+line], "\r\n")
	if !p.plausible(d, first) {
		return nil, nil, 0, errHTTPStartLine
	}
	end := headerEnd(b[skip:])
	if end < 0 {
		return nil, nil, 0, nil
	}
	end += skip
	return first, b[skip+line : end], end, nil
}

// request frames a request's header block from its request line, and
// queues the method for the response.
func (p *httpParser) request(first []byte) Frame {
	m, _ := httpMethod(first)
	var k uint8
	switch m {
	case "HEAD":
		k = 1
	case "CONNECT":
		k = 2
	}
	p.push(k)
	return Frame{Start: true, End: true, Kind: m, Verb: m, Role: Request | RequestEnd, Path: requestTarget(first)}
}

// requestTarget returns the request target of a request line "METHOD
// target HTTP/1.x", nil when there is none.
func requestTarget(line []byte) []byte {
	i := bytes.IndexByte(line, ' ')
	if i < 0 {
		return nil
	}
	t := line[i+1:]
	if j := bytes.LastIndexByte(t, ' '); j >= 0 {
		t = t[:j]
	}
	return t
}

// response frames a response from its status line, given the header
// block's length and body headers; whole reports a response without a
// body to frame (interim, no body, a protocol switch, or delimited by the
// end of the connection), whose Len is final.
func (p *httpParser) response(first []byte, hdrEnd, clen int64, chunked bool) (f Frame, whole bool, err error) {
	code, ok := statusCode(first)
	if !ok {
		return Frame{}, true, errHTTPStartLine
	}
	f = Frame{Start: true, End: true, Kind: "response", Status: code, Role: Response | ResponseEnd}
	if code >= 500 {
		f.Role |= Error
	}
	if code < 200 && code != 101 {
		f.Role = Response | Interim
		f.Len = hdrEnd
		return f, true, nil
	}
	k := p.pop()
	switch {
	case code == 101 || k == 2 && code/100 == 2:
		f.Len, f.Unframe = hdrEnd, true
	case k == 1 || code == 204 || code == 304:
		f.Len = hdrEnd
	case !chunked && clen < 0:
		f.Len = LenToEnd // delimited by the end of the connection
	default:
		return f, false, nil
	}
	return f, true, nil
}

// push queues the method kind of a request awaiting its response.
func (p *httpParser) push(k uint8) {
	if p.pn < httpMaxPending && p.pover == 0 {
		p.pend[(p.ph+p.pn)%httpMaxPending] = k
		p.pn++
		return
	}
	p.pover++
}

// pop returns the method kind of the oldest request awaiting a response.
func (p *httpParser) pop() uint8 {
	var k uint8
	if p.pn > 0 {
		k = p.pend[p.ph]
		p.ph = (p.ph + 1) % httpMaxPending
		p.pn--
	} else if p.pover > 0 {
		p.pover--
	}
	return k
}

// plausible reports whether b can begin a start line of direction d.
func (p *httpParser) plausible(d Dir, b []byte) bool {
	if d == ClientToServer {
		m, short := httpMethod(b)
		return m != "" || short
	}
	const v = "HTTP/"
	if len(b) < len(v) {
		return string(b) == v[:len(b)]
	}
	return string(b[:len(v)]) == v
}

// chunk frames one chunk: its size line, data and CRLF; the last chunk
// with its trailer section ends the message.
func (p *httpParser) chunk(d Dir, b []byte) (Frame, error) {
	line := lineEnd(b, 4096)
	if line < 0 {
		if len(b) >= 4096 {
			return Frame{}, errHTTPChunk
		}
		return Frame{}, nil
	}
	var size int64
	digits := 0
	for _, c := range b[:line] {
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			v = 255
		}
		if v == 255 {
			break
		}
		if digits++; digits > 15 {
			return Frame{}, errHTTPChunk
		}
		size = size<<4 | int64(v)
	}
	if digits == 0 {
		return Frame{}, errHTTPChunk
	}
	if size > 0 {
		return Frame{Len: int64(line) + size + 2}, nil
	}
	// Last chunk: trailer fields up to an empty line.
	rest := b[line:]
	n := 0
	for {
		l := lineEnd(rest[n:], 8192)
		if l < 0 {
			if len(rest) >= 65536 {
				return Frame{}, errHTTPChunk
			}
			return Frame{}, nil
		}
		n += l
		if l <= 2 {
			break
		}
	}
	p.phase[d] = httpStart
	return Frame{Len: int64(line + n), End: true}, nil
}

// headerEnd returns the length of the header block at the start of b, up
// to and including the empty line, or -1 if it is not complete.
func headerEnd(b []byte) int {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		if j := bytes.Index(b, []byte("\n\n")); j >= 0 && j < i {
			return j + 2
		}
		return i + 4
	}
	if j := bytes.Index(b, []byte("\n\n")); j >= 0 {
		return j + 2
	}
	return -1
}

// bodyHeaders reads Content-Length (-1 if absent), whether the last
// transfer coding is chunked and the Host field from a header block.
func bodyHeaders(h []byte) (clen int64, chunked bool, host []byte, err error) {
	clen = -1
	for len(h) > 0 {
		i := bytes.IndexByte(h, '\n')
		if i < 0 {
			i = len(h) - 1
		}
		line := bytes.TrimRight(h[:i+1], "\r\n")
		h = h[i+1:]
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name, val := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case asciiEqualFold(name, "content-length"):
			var v int64
			if len(val) == 0 || len(val) > 18 {
				return 0, false, nil, errHTTPLength
			}
			for _, c := range val {
				if c < '0' || c > '9' {
					return 0, false, nil, errHTTPLength
				}
				v = v*10 + int64(c-'0')
			}
			clen = v
		case asciiEqualFold(name, "transfer-encoding"):
			last := val
			if k := bytes.LastIndexByte(val, ','); k >= 0 {
				last = bytes.TrimSpace(val[k+1:])
			}
			chunked = asciiEqualFold(last, "chunked")
		case host == nil && asciiEqualFold(name, "host"):
			host = val
		}
	}
	return clen, chunked, host, nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if upperASCII(b[i]) != upperASCII(s[i]) {
			return false
		}
	}
	return true
}

// statusCode reads the code of a status line "HTTP/1.x NNN ...".
func statusCode(line []byte) (int, bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 || len(line) < sp+4 {
		return 0, false
	}
	code := 0
	for _, c := range line[sp+1 : sp+4] {
		if c < '0' || c > '9' {
			return 0, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return 0, false
	}
	return code, true
}

// Resync finds the next line that starts a request (client) or a status
// line (server).
func (p *httpParser) Resync(d Dir, b []byte) int {
	p.phase[d] = httpStart
	for i := 0; i < len(b); {
		if i == 0 || b[i-1] == '\n' {
			if d == ClientToServer {
				if m, _ := httpMethod(b[i:]); m != "" {
					return i
				}
			} else if bytes.HasPrefix(b[i:], []byte("HTTP/1.")) {
				return i
			}
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
	}
	return -1
}

// SplitTruncated recognises a request or status line whose header block a
// gap cut: the message is counted, its body unknown.
func (p *httpParser) SplitTruncated(d Dir, b []byte) (Frame, bool) {
	if p.phase[d] != httpStart {
		return Frame{}, false
	}
	line := lineEnd(b, 8192)
	if line < 0 {
		return Frame{}, false
	}
	first := bytes.TrimRight(b[:line], "\r\n")
	f := Frame{Start: true, End: true}
	if d == ClientToServer {
		m, _ := httpMethod(first)
		if m == "" || !bytes.Contains(first, []byte(" HTTP/1.")) {
			return Frame{}, false
		}
		f.Kind, f.Verb, f.Role, f.Path = m, m, Request|RequestEnd, requestTarget(first)
		var k uint8
		if m == "HEAD" {
			k = 1
		}
		p.push(k)
		return f, true
	}
	if !bytes.HasPrefix(first, []byte("HTTP/1.")) {
		return Frame{}, false
	}
	code, ok := statusCode(first)
	if !ok {
		return Frame{}, false
	}
	f.Kind, f.Status, f.Role = "response", code, Response|ResponseEnd
	if code < 200 && code != 101 {
		f.Role = Response | Interim
		return f, true
	}
	if code >= 500 {
		f.Role |= Error
	}
	p.pop()
	return f, true
}
