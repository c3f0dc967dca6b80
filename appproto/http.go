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
	ft    FrameText
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
	first, h, hdrEnd, err := p.headerBlock(d, b)
	if err != nil || hdrEnd == 0 {
		return Frame{}, err
	}
	if h.err != nil {
		return Frame{}, h.err
	}
	clen, chunked, host := h.clen, h.chunked, h.host
	var f Frame
	if d == ClientToServer {
		f = p.request(first)
		p.ft = FrameText{Host: host, Path: requestTarget(first)}
		f.Text = &p.ft
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
// the header fields it reads and its length, empty lines before it
// included; a length of 0 means more bytes are needed.
func (p *httpParser) headerBlock(d Dir, b []byte) (first []byte, h httpFields, n int, err error) {
	// Tolerate empty lines before a start line (RFC 9112 section 2.2).
	skip := 0
	for skip < len(b) && (b[skip] == '\r' || b[skip] == '\n') && skip < 4 {
		skip++
	}
	line := lineEnd(b[skip:], 8192)
	if line < 0 {
		if len(b)-skip >= 8192 || len(b) > skip && !p.plausible(d, b[skip:]) {
			return nil, h, 0, errHTTPStartLine
		}
		return nil, h, 0, nil
	}
	first = bytes.TrimRight(b[skip:skip+line], "\r\n")
	if !p.plausible(d, first) {
		return nil, h, 0, errHTTPStartLine
	}
	end := scanFields(b[skip:], line, &h)
	if end < 0 {
		return nil, h, 0, nil
	}
	return first, h, skip + end, nil
}

// httpFields are the header fields framing needs: Content-Length (-1 if
// absent), whether the last transfer coding is chunked, the Host field,
// and the error of a malformed Content-Length.
type httpFields struct {
	clen    int64
	chunked bool
	host    []byte
	err     error
}

// scanFields reads the header fields of c, a header block whose start
// line is line bytes long, into h, in one pass, and returns the block's
// length up to and including the empty line that ends it (the first
// "\r\n\r\n" or "\n\n"), or -1 when it is not complete.
func scanFields(c []byte, line int, h *httpFields) int {
	h.clen = -1
	for ls := line; ls < len(c); {
		i := bytes.IndexByte(c[ls:], '\n')
		if i < 0 {
			return -1
		}
		q := ls + i // this line's '\n'
		if c[q-1] == '\n' || q >= 3 && c[q-1] == '\r' && c[q-2] == '\n' && c[q-3] == '\r' {
			return q + 1
		}
		k := q
		for k > ls && (c[k-1] == '\r' || c[k-1] == '\n') {
			k--
		}
		h.field(c[ls:k])
		ls = q + 1
	}
	return -1
}

// field reads one header field line (without its line end).
func (h *httpFields) field(line []byte) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return
	}
	name := line[:colon]
	switch len(name) {
	case len("host"), len("content-length"), len("transfer-encoding"):
	default:
		return
	}
	val := bytes.TrimSpace(line[colon+1:])
	switch {
	case asciiEqualFold(name, "content-length"):
		if len(val) == 0 || len(val) > 18 {
			h.err = errHTTPLength
			return
		}
		var v int64
		for _, c := range val {
			if c < '0' || c > '9' {
				h.err = errHTTPLength
				return
			}
			v = v*10 + int64(c-'0')
		}
		h.clen = v
	case asciiEqualFold(name, "transfer-encoding"):
		last := val
		if k := bytes.LastIndexByte(val, ','); k >= 0 {
			last = bytes.TrimSpace(val[k+1:])
		}
		h.chunked = asciiEqualFold(last, "chunked")
	case h.host == nil && asciiEqualFold(name, "host"):
		h.host = val
	}
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
	return Frame{Start: true, End: true, Kind: m, Verb: m, Role: Request | RequestEnd}
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
		f.Kind, f.Verb, f.Role = m, m, Request|RequestEnd
		p.ft = FrameText{Path: requestTarget(first)}
		f.Text = &p.ft
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
