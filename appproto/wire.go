package appproto

import "bytes"

// Bounds-checked reads of wire fields. Each returns ok=false when b is too
// short, so a parser never indexes past its input.

func be16(b []byte, off int) (int, bool) {
	if off < 0 || len(b) < off+2 {
		return 0, false
	}
	return int(b[off])<<8 | int(b[off+1]), true
}

func be32(b []byte, off int) (int64, bool) {
	if off < 0 || len(b) < off+4 {
		return 0, false
	}
	return int64(b[off])<<24 | int64(b[off+1])<<16 | int64(b[off+2])<<8 | int64(b[off+3]), true
}

func le16(b []byte, off int) (int, bool) {
	if off < 0 || len(b) < off+2 {
		return 0, false
	}
	return int(b[off]) | int(b[off+1])<<8, true
}

func le24(b []byte, off int) (int64, bool) {
	if off < 0 || len(b) < off+3 {
		return 0, false
	}
	return int64(b[off]) | int64(b[off+1])<<8 | int64(b[off+2])<<16, true
}

func le32(b []byte, off int) (uint32, bool) {
	if off < 0 || len(b) < off+4 {
		return 0, false
	}
	return uint32(b[off]) | uint32(b[off+1])<<8 | uint32(b[off+2])<<16 | uint32(b[off+3])<<24, true
}

// lenenc reads a MySQL length-encoded integer at off and returns it with
// the offset after it.
func lenenc(b []byte, off int) (uint64, int, bool) {
	if off < 0 || off >= len(b) {
		return 0, off, false
	}
	c := b[off]
	var n int
	switch {
	case c < 0xfb:
		return uint64(c), off + 1, true
	case c == 0xfc:
		n = 2
	case c == 0xfd:
		n = 3
	case c == 0xfe:
		n = 8
	default: // 0xfb (NULL) and 0xff (error marker) are not integers
		return 0, off, false
	}
	if len(b) < off+1+n {
		return 0, off, false
	}
	var v uint64
	for i := n; i > 0; i-- {
		v = v<<8 | uint64(b[off+i])
	}
	return v, off + 1 + n, true
}

// lineEnd returns the length of the line at the start of b including its
// "\n" (a "\r\n" or a bare "\n" ends a line), or -1 when b holds no line end
// within limit bytes.
func lineEnd(b []byte, limit int) int {
	if len(b) > limit {
		b = b[:limit]
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return -1
	}
	return i + 1
}

// cString returns the C string at the start of b without its NUL; when b
// holds no NUL, all of b, cut if more (the string goes on past b).
func cString(b []byte, more bool) (s []byte, cut bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i], false
	}
	return b, more
}

// afterCString returns what follows the C string at the start of b, nil
// when b holds no NUL.
func afterCString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[i+1:]
	}
	return nil
}

// textWaiter is embedded by the parsers that wait for more of a request
// than its header, to see its text whole (they implement noWaiter).
type textWaiter struct{ nowait bool }

func (w *textWaiter) setNoWait(v bool) { w.nowait = v }

// need returns how many bytes of a frame n bytes long to have before
// framing it: its first textWindow bytes, or none while waiting is off.
func (w *textWaiter) need(n int64) int {
	if w.nowait {
		return 0
	}
	return int(min(n, textWindow))
}

// upperASCII returns c in upper case if it is an ASCII letter.
func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// sqlVerbs are the statement keywords reported as a request's Verb.
var sqlVerbs = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "FETCH", "BEGIN", "COMMIT", "ROLLBACK",
	"DECLARE", "CLOSE", "SET", "SHOW", "WITH", "CREATE", "DROP", "ALTER", "MOVE", "EXPLAIN", "COPY",
	"CALL", "EXEC", "EXECUTE", "TRUNCATE", "GRANT", "REVOKE", "LOCK", "VACUUM", "ANALYZE", "PREPARE",
	"DEALLOCATE", "START", "SAVEPOINT", "RELEASE", "USE", "LISTEN", "NOTIFY", "MERGE", "REPLACE",
	"DISCARD", "RESET", "DESCRIBE", "DESC", "LOAD", "UNLISTEN", "END", "ABORT"}

// sqlVerbsByLetter holds sqlVerbs by their first letter.
var sqlVerbsByLetter = func() (idx [26][]string) {
	for _, v := range sqlVerbs {
		idx[v[0]-'A'] = append(idx[v[0]-'A'], v)
	}
	return idx
}()

// sqlStart reports whether b begins, without leading blanks, with one of
// sqlVerbs followed by a blank, a parenthesis, a semicolon or the end of b.
func sqlStart(b []byte) bool {
	if len(b) < 3 || !('A' <= upperASCII(b[0]) && upperASCII(b[0]) <= 'Z') {
		return false
	}
	v := sqlVerb(b)
	if v == "" || v == "OTHER" {
		return false
	}
	if len(b) == len(v) {
		return true
	}
	switch b[len(v)] {
	case ' ', '\t', '\r', '\n', '(', ';':
		return true
	}
	return false
}

// sqlVerb returns the first keyword of the SQL text at the start of b as
// one of sqlVerbs, "OTHER" for another word, or "" when there is none.
func sqlVerb(b []byte) string {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n' || b[i] == '(') {
		i++
	}
	j := i
	for j < len(b) && j-i < 16 && ((b[j]|0x20)-'a' < 26 || b[j] == '_') {
		j++
	}
	if j == i {
		return ""
	}
	w := b[i:j]
	if c := (w[0] | 0x20) - 'a'; c < 26 {
	next:
		for _, v := range sqlVerbsByLetter[c] {
			if len(v) != len(w) {
				continue
			}
			for k, x := range w {
				if x&^0x20 != v[k] { // w holds letters and _ only
					continue next
				}
			}
			return v
		}
	}
	return "OTHER"
}
