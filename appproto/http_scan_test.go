package appproto

import (
	"bytes"
	"testing"
)

// The two-pass header scan scanFields replaced (one search for the end of
// the block, then one pass over its lines), kept as the reference the
// one-pass scan must agree with.

// refHeaderEnd returns the length of the header block at the start of b, up
// to and including the empty line, or -1 if it is not complete.
func refHeaderEnd(b []byte) int {
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

// refBodyHeaders reads Content-Length (-1 if absent), whether the last
// transfer coding is chunked and the Host field from a header block.
func refBodyHeaders(h []byte) (clen int64, chunked bool, host []byte, err error) {
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

// scanRef frames c, a header block whose start line is line bytes long,
// the reference way.
func scanRef(c []byte, line int) (int, httpFields) {
	end := refHeaderEnd(c)
	if end < 0 {
		return -1, httpFields{}
	}
	var h httpFields
	h.clen, h.chunked, h.host, h.err = refBodyHeaders(c[line:end])
	return end, h
}

// checkScan requires scanFields to agree with the reference on c.
func checkScan(t *testing.T, c []byte) {
	line := bytes.IndexByte(c, '\n') + 1
	if line == 0 {
		return
	}
	wantEnd, want := scanRef(c, line)
	var got httpFields
	gotEnd := scanFields(c, line, &got)
	if gotEnd != wantEnd {
		t.Fatalf("%q: end %d, reference %d", c, gotEnd, wantEnd)
	}
	if wantEnd < 0 {
		return
	}
	if (got.err != nil) != (want.err != nil) || want.err == nil && (got.clen != want.clen || got.chunked != want.chunked || !bytes.Equal(got.host, want.host)) {
		t.Fatalf("%q: %+v, reference %+v", c, got, want)
	}
}

var scanSeeds = []string{
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\n\n",
	"GET / HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1\n\r\nHost: x\n\nbody",
	"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nTransfer-Encoding: gzip, chunked\r\nhost: h\r\nHost: g\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\nContent-Length: 5\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: y\r\r\n\n",
	"HTTP/1.1 200 OK\r\nContent-Length:  \u00a07\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 7",
}

func TestScanFieldsMatchesReference(t *testing.T) {
	for _, s := range scanSeeds {
		checkScan(t, []byte(s))
	}
}

// FuzzScanFields compares scanFields with the reference scan.
func FuzzScanFields(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, c []byte) { checkScan(t, c) })
}
