package units

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The encoder behind MarshalJSON writes what encoding/json writes, into
// one buffer: a Marshaler's output is taken as it is (encoding/json
// re-reads and compacts it, at every level of nesting, which made the
// records' encoding the costliest step of a pass), basic kinds are
// formatted in place, and anything rarer (maps, interfaces, float32, byte
// slices, strings that need escaping) goes to encoding/json itself.

// encFunc appends the JSON of v.
type encFunc func(b []byte, v reflect.Value) ([]byte, error)

var (
	encoders      sync.Map // reflect.Type -> encFunc
	appenderType  = reflect.TypeFor[Appender]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	timeType      = reflect.TypeFor[time.Time]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

func encoderOf(t reflect.Type) encFunc {
	if e, ok := encoders.Load(t); ok {
		return e.(encFunc)
	}
	e := newEncoder(t)
	encoders.Store(t, e)
	return e
}

func newEncoder(t reflect.Type) encFunc {
	switch {
	case t == timeType:
		return encTime
	case t.Kind() == reflect.Struct && t.Implements(appenderType):
		// an opted-in result type: its AppendJSON is this encoder's (see
		// Appender), so its fields are written here, without a call
		return encStruct
	case t.Kind() != reflect.Pointer && t.Implements(marshalerType):
		return encMarshaler
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(marshalerType):
		// a pointer method: called where the value has an address, as
		// encoding/json does; elsewhere the value is written by its kind
		byKind := newKindEncoder(t)
		return func(b []byte, v reflect.Value) ([]byte, error) {
			if v.CanAddr() {
				return encMarshaler(b, v)
			}
			return byKind(b, v)
		}
	case t.Kind() != reflect.Pointer && t.Implements(textType):
		return encText
	}
	return newKindEncoder(t)
}

// newKindEncoder returns the encoder of t by its kind alone.
func newKindEncoder(t reflect.Type) encFunc {
	switch t.Kind() {
	case reflect.Bool:
		return func(b []byte, v reflect.Value) ([]byte, error) { return strconv.AppendBool(b, v.Bool()), nil }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(b []byte, v reflect.Value) ([]byte, error) { return strconv.AppendInt(b, v.Int(), 10), nil }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(b []byte, v reflect.Value) ([]byte, error) { return strconv.AppendUint(b, v.Uint(), 10), nil }
	case reflect.Float64:
		return encFloat
	case reflect.String:
		return encString
	case reflect.Struct:
		return encStruct
	case reflect.Pointer:
		elem := t.Elem()
		return func(b []byte, v reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(b, "null"...), nil
			}
			return encoderOf(elem)(b, v.Elem())
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return encJSON // base64, as encoding/json
		}
		return encList(t.Elem(), true)
	case reflect.Array:
		return encList(t.Elem(), false)
	}
	return encJSON
}

// encJSON hands v to encoding/json.
func encJSON(b []byte, v reflect.Value) ([]byte, error) {
	out, err := json.Marshal(v.Interface())
	return append(b, out...), err
}

// iface returns v as an interface value, by its address where it has one
// (a pointer fits in the interface: no copy of the value to the heap; a
// value method is in its pointer's method set).
func iface(v reflect.Value) any {
	if v.CanAddr() {
		return v.Addr().Interface()
	}
	return v.Interface()
}

// encTime writes a time as time.Time.MarshalJSON does (RFC 3339 with
// nanoseconds, quoted), in place; a year outside 0-9999, which JSON's
// RFC 3339 cannot carry, is refused as MarshalJSON refuses it.
func encTime(b []byte, v reflect.Value) ([]byte, error) {
	var t time.Time
	if p, ok := iface(v).(*time.Time); ok {
		t = *p
	} else {
		t = v.Interface().(time.Time)
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return b, fmt.Errorf("time %v: year outside [0,9999]", t)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// encMarshaler appends a Marshaler's output, checked as encoding/json
// checks it (but not compacted: what it writes stays as written).
func encMarshaler(b []byte, v reflect.Value) ([]byte, error) {
	if v.Kind() == reflect.Interface && v.IsNil() {
		return append(b, "null"...), nil
	}
	out, err := iface(v).(json.Marshaler).MarshalJSON()
	if err != nil {
		return b, err
	}
	if !json.Valid(out) {
		return b, fmt.Errorf("%s.MarshalJSON wrote invalid JSON", v.Type())
	}
	return append(b, out...), nil
}

func encText(b []byte, v reflect.Value) ([]byte, error) {
	out, err := iface(v).(encoding.TextMarshaler).MarshalText()
	if err != nil {
		return b, err
	}
	return appendString(b, string(out)), nil
}

func encFloat(b []byte, v reflect.Value) ([]byte, error) {
	x := v.Float()
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return b, fmt.Errorf("unsupported value %v", x)
	}
	return appendJSONFloat(b, x), nil
}

func encString(b []byte, v reflect.Value) ([]byte, error) { return appendString(b, v.String()), nil }

// appendString appends s quoted as encoding/json does by default (HTML
// characters escaped): in place when it holds nothing to escape.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			out, _ := json.Marshal(s)
			return append(b, out...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func encList(elem reflect.Type, nullable bool) encFunc {
	return func(b []byte, v reflect.Value) ([]byte, error) {
		if nullable && v.IsNil() {
			return append(b, "null"...), nil
		}
		e := encoderOf(elem)
		b = append(b, '[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e(b, v.Index(i)); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
}

// encStruct writes a struct without a MarshalJSON of its own as
// encoding/json does, with the units rule for its durations and rates
// (a struct nested in an opted-in one need not opt in itself).
func encStruct(b []byte, v reflect.Value) ([]byte, error) {
	b = append(b, '{')
	first := true
	for _, f := range planOf(v.Type()) {
		fv, err := v.FieldByIndexErr(f.index)
		if err != nil {
			continue // in a nil embedded pointer: omitted, as encoding/json does
		}
		if (f.omitEmpty && isEmpty(fv)) || (f.omitZero && fv.IsZero()) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.key...)
		if f.scale != 0 {
			b, err = appendScaled(b, fv, f.scale)
		} else {
			b, err = encoderOf(fv.Type())(b, fv)
		}
		if err != nil {
			return b, fmt.Errorf("field %s: %w", f.name, err)
		}
	}
	return append(b, '}'), nil
}
