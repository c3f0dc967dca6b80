package netlog

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/units"
)

// DefaultProg is the PROG field of a ULMWriter given none.
const DefaultProg = "netecology"

// ULM field names, in the order AppendULM writes them. The first five
// are the ones NetLogger requires of every event.
const (
	fDate    = "DATE"
	fHost    = "HOST"
	fProg    = "PROG"
	fLvl     = "LVL"
	fEvnt    = "NL.EVNT"
	fConn    = "CONN"
	fComp    = "COMP"
	fSrc     = "SRC"
	fDst     = "DST"
	fPkt     = "PKT"
	fLen     = "LEN"
	fLabel   = "LABEL"
	fCause   = "CAUSE"
	fOrig    = "ORIG"
	fWait    = "WAIT.MS"
	fTxn     = "TXN"
	fProto   = "PROTO"
	fKind    = "KIND"
	fVerb    = "VERB"
	fBytes   = "BYTES"
	fStatus  = "STATUS"
	fDropped = "DROPPED"
	fLegC    = "LEG.CLIENT.MS"
	fLegS    = "LEG.SERVER.MS"
)

// dateLayout is ULM's DATE without its fraction: YYYYMMDDhhmmss, UTC.
const dateLayout = "20060102150405"

// AppendULM appends e as one ULM line (without the newline) to b:
// space-separated FIELD=value pairs, DATE first (YYYYMMDDhhmmss.ffffff in
// UTC, nine fractional digits when the time is not a whole
// microsecond), then HOST, PROG, LVL, NL.EVNT and the event's fields that
// are set, in this order: CONN (always), COMP (always), SRC, DST, PKT,
// LEN, LABEL, CAUSE, ORIG, WAIT.MS, TXN, PROTO, KIND, VERB, BYTES, STATUS,
// DROPPED, LEG.CLIENT.MS and LEG.SERVER.MS (both or neither; milliseconds
// in the shortest form that reads back exactly). A value holding a space, a double quote, a backslash or an
// equals sign, or empty, is written in double quotes with \" and \\
// escaped (and \n for a newline).
func AppendULM(b []byte, e *Event, prog string) []byte {
	t := e.Time.UTC()
	b = append(b, fDate...)
	b = append(b, '=')
	b = t.AppendFormat(b, dateLayout)
	ns := t.Nanosecond()
	if ns%1000 == 0 {
		b = append(b, '.')
		b = appendDigits(b, ns/1000, 6)
	} else {
		b = append(b, '.')
		b = appendDigits(b, ns, 9)
	}
	b = appendField(b, fHost, e.Host.String())
	b = appendField(b, fProg, prog)
	b = appendField(b, fLvl, e.Level.String())
	b = appendField(b, fEvnt, e.Name.String())
	b = appendInt(b, fConn, int64(e.Conn), true)
	b = appendField(b, fComp, e.Component.String())
	if e.Src.IsValid() {
		b = appendField(b, fSrc, e.Src.String())
	}
	if e.Dst.IsValid() {
		b = appendField(b, fDst, e.Dst.String())
	}
	b = appendUint(b, fPkt, e.Packet)
	b = appendInt(b, fLen, int64(e.Len), false)
	b = appendOpt(b, fLabel, e.Label)
	b = appendOpt(b, fCause, e.Cause)
	b = appendUint(b, fOrig, e.Orig)
	b = appendFloat(b, fWait, units.Ms(e.Wait), false)
	b = appendInt(b, fTxn, int64(e.Txn), false)
	b = appendOpt(b, fProto, e.Proto)
	b = appendOpt(b, fKind, e.Kind)
	b = appendOpt(b, fVerb, e.Verb)
	b = appendInt(b, fBytes, e.Bytes, false)
	b = appendInt(b, fStatus, int64(e.Status), false)
	b = appendUint(b, fDropped, e.Dropped)
	if e.Legs != nil {
		b = appendFloat(b, fLegC, units.Ms(e.Legs.Client), true)
		b = appendFloat(b, fLegS, units.Ms(e.Legs.Server), true)
	}
	return b
}

func appendDigits(b []byte, v, n int) []byte {
	var d [9]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, '=')
	if !needsQuote(v) {
		return append(b, v...)
	}
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func needsQuote(v string) bool {
	return v == "" || strings.ContainsAny(v, " \"\\=\n\t\r")
}

func appendOpt(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendField(b, name, v)
}

func appendInt(b []byte, name string, v int64, always bool) []byte {
	if v == 0 && !always {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, '=')
	return strconv.AppendInt(b, v, 10)
}

func appendUint(b []byte, name string, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, '=')
	return strconv.AppendUint(b, v, 10)
}

func appendFloat(b []byte, name string, v float64, always bool) []byte {
	if v == 0 && !always {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, '=')
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// ULMWriter writes events as ULM lines, one per event, each block in one
// Write. It is a Handler.
type ULMWriter struct {
	w    io.Writer
	prog string
	buf  []byte
}

// NewULMWriter returns a ULMWriter writing to w with the given PROG
// (DefaultProg if empty).
func NewULMWriter(w io.Writer, prog string) *ULMWriter {
	if prog == "" {
		prog = DefaultProg
	}
	return &ULMWriter{w: w, prog: prog}
}

// Events writes the block's lines.
func (u *ULMWriter) Events(_ *flow.Conn, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	u.buf = u.buf[:0]
	for i := range events {
		u.buf = AppendULM(u.buf, &events[i], u.prog)
		u.buf = append(u.buf, '\n')
	}
	if _, err := u.w.Write(u.buf); err != nil {
		return fmt.Errorf("netlog: write ULM: %w", err)
	}
	return nil
}

// ErrULM is wrapped by the errors of ParseULM.
var ErrULM = errors.New("bad ULM line")

// ULMField is one FIELD=value pair of a ULM line.
type ULMField struct {
	Name, Value string
}

// SplitULM splits a ULM line into its fields, undoing the quoting
// AppendULM applies. Fields are separated by one or more spaces or tabs;
// a field without '=', an unterminated quote or a bad escape is an error
// wrapping ErrULM.
func SplitULM(line string) ([]ULMField, error) {
	var out []ULMField
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return out, nil
		}
		eq := strings.IndexByte(line[i:], '=')
		sp := strings.IndexAny(line[i:], " \t")
		if eq <= 0 || (sp >= 0 && sp < eq) {
			return nil, fmt.Errorf("%w: field at byte %d has no name=value", ErrULM, i)
		}
		name := line[i : i+eq]
		i += eq + 1
		if i < len(line) && line[i] == '"' {
			v, n, err := unquote(line[i:])
			if err != nil {
				return nil, fmt.Errorf("%w: field %s: %v", ErrULM, name, err)
			}
			out = append(out, ULMField{name, v})
			i += n
			if i < len(line) && line[i] != ' ' && line[i] != '\t' {
				return nil, fmt.Errorf("%w: field %s: text after the closing quote", ErrULM, name)
			}
			continue
		}
		end := strings.IndexAny(line[i:], " \t")
		if end < 0 {
			end = len(line) - i
		}
		out = append(out, ULMField{name, line[i : i+end]})
		i += end
	}
}

// unquote reads a double-quoted value at the start of s and returns it
// and the bytes it took.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, errors.New("escape at the end")
			}
			i++
			switch s[i] {
			case '"', '\\':
				b.WriteByte(s[i])
			case 'n':
				b.WriteByte('\n')
			default:
				return "", 0, fmt.Errorf("unknown escape \\%c", s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated quote")
}

// ParseULM reads back one line written by AppendULM: the event and its
// PROG. The five fields NetLogger requires (DATE, HOST, PROG, LVL,
// NL.EVNT) must be present; an unknown or repeated field, or a value
// that does not parse, is an error wrapping ErrULM.
func ParseULM(line string) (Event, string, error) {
	fs, err := SplitULM(line)
	if err != nil {
		return Event{}, "", err
	}
	var e Event
	var prog string
	seen := map[string]bool{}
	var legs Legs
	var haveLegs [2]bool
	for _, f := range fs {
		if seen[f.Name] {
			return Event{}, "", fmt.Errorf("%w: field %s repeated", ErrULM, f.Name)
		}
		seen[f.Name] = true
		if err := e.set(f, &prog, &legs, &haveLegs); err != nil {
			return Event{}, "", fmt.Errorf("%w: %s=%q: %v", ErrULM, f.Name, f.Value, err)
		}
	}
	for _, req := range []string{fDate, fHost, fProg, fLvl, fEvnt} {
		if !seen[req] {
			return Event{}, "", fmt.Errorf("%w: no %s field", ErrULM, req)
		}
	}
	switch {
	case haveLegs[0] && haveLegs[1]:
		e.Legs = &legs
	case haveLegs[0] || haveLegs[1]:
		return Event{}, "", fmt.Errorf("%w: one leg without the other", ErrULM)
	}
	return e, prog, nil
}

// set reads one field into e.
func (e *Event) set(f ULMField, prog *string, legs *Legs, have *[2]bool) error {
	v := f.Value
	var err error
	switch f.Name {
	case fDate:
		e.Time, err = parseDate(v)
	case fHost:
		e.Host, err = netip.ParseAddr(v)
	case fProg:
		*prog = v
	case fLvl:
		err = e.Level.UnmarshalText([]byte(v))
	case fEvnt:
		err = e.Name.UnmarshalText([]byte(v))
	case fComp:
		err = e.Component.UnmarshalText([]byte(v))
	case fSrc:
		e.Src, err = netip.ParseAddrPort(v)
	case fDst:
		e.Dst, err = netip.ParseAddrPort(v)
	case fLabel:
		e.Label = v
	case fCause:
		e.Cause = v
	case fProto:
		e.Proto = v
	case fKind:
		e.Kind = v
	case fVerb:
		e.Verb = v
	case fLegC:
		legs.Client, err = parseMs(v)
		have[0] = true
	case fLegS:
		legs.Server, err = parseMs(v)
		have[1] = true
	default:
		return e.setNumber(f.Name, v)
	}
	return err
}

// setNumber reads one of the integer fields (and WAIT.MS) into e.
func (e *Event) setNumber(name, v string) error {
	switch name {
	case fPkt, fOrig, fDropped:
		n, err := strconv.ParseUint(v, 10, 64)
		switch name {
		case fPkt:
			e.Packet = n
		case fOrig:
			e.Orig = n
		default:
			e.Dropped = n
		}
		return err
	case fConn, fLen, fTxn, fStatus:
		n, err := strconv.ParseInt(v, 10, 32)
		switch name {
		case fConn:
			e.Conn = int(n)
		case fLen:
			e.Len = int(n)
		case fTxn:
			e.Txn = int(n)
		default:
			e.Status = int(n)
		}
		return err
	case fBytes:
		var err error
		e.Bytes, err = strconv.ParseInt(v, 10, 64)
		return err
	case fWait:
		var err error
		e.Wait, err = parseMs(v)
		return err
	}
	return errors.New("unknown field")
}

// parseMs reads a duration written in milliseconds, to the nearest
// nanosecond.
func parseMs(v string) (time.Duration, error) {
	ms, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(ms) || math.Abs(ms) > float64(math.MaxInt64)/1e6 {
		return 0, fmt.Errorf("milliseconds %q out of range", v)
	}
	return time.Duration(math.Round(ms * float64(time.Millisecond))), nil
}

// parseDate reads YYYYMMDDhhmmss with an optional fraction of up to nine
// digits, in UTC.
func parseDate(v string) (time.Time, error) {
	whole, frac, _ := strings.Cut(v, ".")
	t, err := time.ParseInLocation(dateLayout, whole, time.UTC)
	if err != nil {
		return time.Time{}, err
	}
	if len(frac) > 9 {
		return time.Time{}, errors.New("more than nine fractional digits")
	}
	ns := 0
	for i := range 9 {
		ns *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return time.Time{}, errors.New("bad fraction")
			}
			ns += int(c - '0')
		}
	}
	return t.Add(time.Duration(ns)), nil
}
