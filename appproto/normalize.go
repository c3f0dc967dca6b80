package appproto

import "bytes"

// NormalizeSQL appends to dst the statement q with its literals replaced
// by ?, so that the executions of one statement with different values
// read alike:
//
//   - quoted strings ('...' with ” inside; E'...', N'...', X'...' and
//     B'...'; dollar-quoted $$...$$ and $tag$...$tag$) and numbers
//     (digits with a fraction and an exponent, 0x hexadecimal) become ?;
//     digits that end an identifier (t1) or follow $, : or @ (the
//     parameters $1, :1, @p1) stay;
//   - with mysql set, backslash escapes inside strings and "..." strings
//     follow MySQL's rules (elsewhere "..." is an identifier and kept);
//   - a list of ? in parentheses after IN becomes one ?;
//   - comments go (optimizer hints /*+ ... */ stay), runs of blanks
//     become one space, blanks and ; at the ends go.
//
// Letter case is kept. The result is never longer than q; a text cut in a
// literal ends with ?.
func NormalizeSQL(dst, q []byte, mysql bool) []byte {
	n := sqlNorm{out: dst, start: len(dst), mysql: mysql}
	for i := 0; i < len(q); {
		i = n.token(q, i)
	}
	n.out = bytes.TrimRight(n.out, " ;")
	if len(n.out) < n.start {
		n.out = n.out[:n.start]
	}
	return collapseInLists(n.out, n.start)
}

// sqlNorm is the state of NormalizeSQL.
type sqlNorm struct {
	out   []byte
	start int  // where the statement begins in out
	blank bool // a blank is due before the next token
	mysql bool
}

// emit appends a token, after the blank due if any.
func (n *sqlNorm) emit(tok []byte) {
	if n.blank && len(n.out) > n.start {
		n.out = append(n.out, ' ')
	}
	n.blank = false
	n.out = append(n.out, tok...)
}

var question = []byte("?")

// token normalises the token of q at i and returns the offset after it.
func (n *sqlNorm) token(q []byte, i int) int {
	if j, ok := n.blankOrComment(q, i); ok {
		return j
	}
	if j, ok := n.literal(q, i); ok {
		return j
	}
	c := q[i]
	switch {
	case c == '"' || c == '`':
		end := quoted(q, i, c, false)
		n.emit(q[i:end]) // a quoted identifier
		return end
	case identByte(c):
		j := i + 1
		for j < len(q) && identByte(q[j]) {
			j++
		}
		n.emit(q[i:j])
		return j
	}
	n.emit(q[i : i+1])
	return i + 1
}

// blankOrComment skips a blank or a comment at i (keeping an optimizer
// hint) and returns the offset after it, or ok=false.
func (n *sqlNorm) blankOrComment(q []byte, i int) (int, bool) {
	c := q[i]
	switch {
	case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f':
		n.blank = true
		return i + 1, true
	case c == '-' && i+1 < len(q) && q[i+1] == '-':
		n.blank = true
		if j := bytes.IndexByte(q[i:], '\n'); j >= 0 {
			return i + j + 1, true
		}
		return len(q), true
	case c == '/' && i+1 < len(q) && q[i+1] == '*':
		end := len(q)
		if j := bytes.Index(q[i+2:], []byte("*/")); j >= 0 {
			end = i + 2 + j + 2
		}
		if i+2 < len(q) && q[i+2] == '+' {
			n.emit(q[i:end]) // an optimizer hint
		} else {
			n.blank = true
		}
		return end, true
	}
	return i, false
}

// literal replaces a string or a number at i by ? and returns the offset
// after it, or ok=false.
func (n *sqlNorm) literal(q []byte, i int) (int, bool) {
	c := q[i]
	prevIdent := i > 0 && identByte(q[i-1])
	end := -1
	switch {
	case c == '\'':
		end = quoted(q, i, '\'', n.mysql)
	case strPrefix(c) && i+1 < len(q) && q[i+1] == '\'' && !prevIdent:
		end = quoted(q, i+1, '\'', n.mysql || c|0x20 == 'e')
	case c == '"' && n.mysql:
		end = quoted(q, i, '"', true)
	case c == '$' && !prevIdent:
		if j, ok := dollarQuoted(q, i); ok {
			end = j
		}
	case isDigit(c) || c == '.' && i+1 < len(q) && isDigit(q[i+1]):
		if !prevIdent && (i == 0 || q[i-1] != ':') {
			end = number(q, i)
		}
	}
	if end < 0 {
		return i, false
	}
	n.emit(question)
	return end, true
}

// strPrefix reports whether c may prefix a quoted string literal (E”,
// N”, X”, B”).
func strPrefix(c byte) bool {
	c |= 0x20
	return c == 'e' || c == 'n' || c == 'x' || c == 'b'
}

// identByte reports whether c may be part of an identifier (or of a
// parameter name: $1, @p, #temp).
func identByte(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || isDigit(c) || c == '_' || c == '$' || c == '@' || c == '#' || c >= 0x80
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// quoted returns the offset after the string quoted by qc that starts at
// i (a doubled quote stands for one; with backslash, \ escapes the next
// byte), or len(q) when it is not closed.
func quoted(q []byte, i int, qc byte, backslash bool) int {
	for j := i + 1; j < len(q); j++ {
		switch {
		case backslash && q[j] == '\\':
			j++
		case q[j] == qc:
			if j+1 < len(q) && q[j+1] == qc {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// dollarQuoted returns the offset after the dollar-quoted string
// ($$...$$, $tag$...$tag$) that starts at i, and whether there is one.
func dollarQuoted(q []byte, i int) (int, bool) {
	j := i + 1
	for j < len(q) && q[j] != '$' && (identByte(q[j]) && !isDigit(q[i+1])) {
		j++
	}
	if j >= len(q) || q[j] != '$' {
		return i, false
	}
	tag := q[i : j+1]
	if k := bytes.Index(q[j+1:], tag); k >= 0 {
		return j + 1 + k + len(tag), true
	}
	return len(q), true
}

// number returns the offset after the number that starts at i.
func number(q []byte, i int) int {
	j := i
	if q[j] == '0' && j+1 < len(q) && q[j+1]|0x20 == 'x' {
		j += 2
		for j < len(q) && (isDigit(q[j]) || 'a' <= q[j]|0x20 && q[j]|0x20 <= 'f') {
			j++
		}
		return j
	}
	for j < len(q) && isDigit(q[j]) {
		j++
	}
	if j < len(q) && q[j] == '.' {
		j++
		for j < len(q) && isDigit(q[j]) {
			j++
		}
	}
	if j+1 < len(q) && q[j]|0x20 == 'e' && (isDigit(q[j+1]) || (q[j+1] == '+' || q[j+1] == '-') && j+2 < len(q) && isDigit(q[j+2])) {
		j += 2
		for j < len(q) && isDigit(q[j]) {
			j++
		}
	}
	return j
}

// collapseInLists rewrites, in b[start:], each "IN (?, ?, ...)" as
// "IN (?)".
func collapseInLists(b []byte, start int) []byte {
	w := start
	for r := start; r < len(b); {
		if end, ok := inList(b, start, r); ok {
			// Keep "IN (" as written, then "?)".
			open := bytes.IndexByte(b[r:end], '(')
			w += copy(b[w:], b[r:r+open+1])
			w += copy(b[w:], "?)")
			r = end
			continue
		}
		b[w] = b[r]
		w++
		r++
	}
	return b[:w]
}

// inList reports whether b[r:] begins with the word IN followed by a
// parenthesised list of ?, and returns the offset after the list.
func inList(b []byte, start, r int) (int, bool) {
	if r+2 > len(b) || b[r]|0x20 != 'i' || b[r+1]|0x20 != 'n' || r > start && identByte(b[r-1]) {
		return 0, false
	}
	j := skipBlanks(b, r+2)
	if j >= len(b) || b[j] != '(' {
		return 0, false
	}
	j = skipBlanks(b, j+1)
	if j >= len(b) || b[j] != '?' {
		return 0, false
	}
	for j++; ; j++ {
		j = skipBlanks(b, j)
		switch {
		case j < len(b) && b[j] == ')':
			return j + 1, true
		case j < len(b) && b[j] == ',':
			j = skipBlanks(b, j+1)
			if j >= len(b) || b[j] != '?' {
				return 0, false
			}
		default:
			return 0, false
		}
	}
}

func skipBlanks(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

// NormalizePath appends to dst the HTTP request target p with its
// variable parts replaced by ?: a path segment part (between / . ; , =
// & and +) made of digits only, or of 16 or more hexadecimal digits and
// dashes with at least one digit (a UUID, a hash), and within a part,
// runs of digits between - or _ (order-42); the value of each query
// parameter. "/row/7920.csv" reads "/row/?.csv", "/a?id=7&x=y"
// "/a?id=?&x=?". The result is never longer than p.
func NormalizePath(dst, p []byte) []byte {
	path, query, hasQuery := bytes.Cut(p, []byte("?"))
	for len(path) > 0 {
		i := bytes.IndexAny(path, "/.;,=&+")
		if i < 0 {
			i = len(path)
		}
		dst = pathPart(dst, path[:i])
		if i < len(path) {
			dst = append(dst, path[i])
			i++
		}
		path = path[i:]
	}
	if !hasQuery {
		return dst
	}
	dst = append(dst, '?')
	for len(query) > 0 {
		param, rest, more := bytes.Cut(query, []byte("&"))
		if name, _, ok := bytes.Cut(param, []byte("=")); ok {
			dst = append(append(dst, name...), "=?"...)
		} else {
			dst = append(dst, param...)
		}
		if more {
			dst = append(dst, '&')
		}
		query = rest
	}
	return dst
}

// pathPart appends one part of a path segment, normalised.
func pathPart(dst, s []byte) []byte {
	if len(s) == 0 {
		return dst
	}
	digits, hex := 0, true
	for _, c := range s {
		switch {
		case isDigit(c):
			digits++
		case 'a' <= c|0x20 && c|0x20 <= 'f' || c == '-':
		default:
			hex = false
		}
	}
	if digits == len(s) || hex && digits > 0 && len(s) >= 16 {
		return append(dst, '?')
	}
	for len(s) > 0 {
		i := bytes.IndexAny(s, "-_")
		if i < 0 {
			i = len(s)
		}
		if w := s[:i]; len(w) > 0 && allDigits(w) {
			dst = append(dst, '?')
		} else {
			dst = append(dst, w...)
		}
		if i < len(s) {
			dst = append(dst, s[i])
			i++
		}
		s = s[i:]
	}
	return dst
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}
