package units

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The JSON records keep the units their field names state (duration_s,
// rtt_ms, rate_bytes_per_s) while the Go API holds time.Duration and
// BitRate. MarshalJSON and UnmarshalJSON do that conversion for a struct
// type, field by field, by the suffix of the field's JSON name:
//
//	time.Duration   "_s": seconds; "_ms": milliseconds; "_us": microseconds
//	BitRate         "_bytes_per_s": bytes per second; otherwise bits per second
//
// Every other field is encoded and decoded by encoding/json itself, with
// the same names, order and omitempty/omitzero rules, so a type's record
// is what encoding/json would write had the field held the number in the
// named unit. A result type opts in with two one-line methods:
//
//	func (b Budget) MarshalJSON() ([]byte, error)     { return units.MarshalJSON(b) }
//	func (b *Budget) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, b) }
//
// and, for speed inside larger records, AppendJSON (see Appender).
//
// A duration is written at the nanosecond resolution time.Duration has.

// MarshalJSON returns the JSON object of struct v (a struct or a pointer
// to one) with its durations and rates in the units their names state.
func MarshalJSON(v any) ([]byte, error) { return AppendJSON(make([]byte, 0, 256), v) }

// AppendJSON appends what MarshalJSON returns for v to b.
func AppendJSON(b []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return append(b, "null"...), nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return b, fmt.Errorf("units.MarshalJSON: %s is not a struct", rv.Type())
	}
	if !rv.CanAddr() {
		// one copy that can be addressed, so that no field below is
		// copied to the heap to be handed to its methods
		c := reflect.New(rv.Type()).Elem()
		c.Set(rv)
		rv = c
	}
	out, err := encStruct(b, rv)
	if err != nil {
		return b, fmt.Errorf("units.MarshalJSON: %w", err)
	}
	return out, nil
}

// Appender is implemented by the types that opt in (see MarshalJSON)
// with a third method,
//
//	func (b Budget) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, b) }
//
// so that a record nesting them is written into one buffer. The method
// must be exactly that: where the encoder meets a struct type with
// AppendJSON it writes the struct's fields itself, without calling it.
type Appender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// UnmarshalJSON decodes the JSON object data into the struct v points
// to, converting durations and rates from the units their names state.
// Fields absent from data keep their values, as with encoding/json.
func UnmarshalJSON(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return errors.New("units.UnmarshalJSON: want a non-nil pointer to a struct")
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	rv = rv.Elem()
	for _, f := range planOf(rv.Type()) {
		raw, ok := obj[f.name]
		if !ok {
			continue
		}
		fv := fieldAlloc(rv, f.index)
		if f.scale == 0 {
			if err := json.Unmarshal(raw, fv.Addr().Interface()); err != nil {
				return fmt.Errorf("field %s: %w", f.name, err)
			}
			continue
		}
		var x float64
		if err := json.Unmarshal(raw, &x); err != nil {
			return fmt.Errorf("field %s: %w", f.name, err)
		}
		if fv.Kind() == reflect.Int64 {
			fv.SetInt(int64(math.Round(x * f.scale)))
		} else {
			fv.SetFloat(x * f.scale)
		}
	}
	return nil
}

// fieldAlloc returns the field of struct v at index, allocating the nil
// embedded pointers on its way, as encoding/json does when it sets one.
func fieldAlloc(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// field is one JSON member of a struct type.
type field struct {
	name  string
	key   []byte // `"name":`
	index []int
	// scale converts the JSON number to the Go value (Go = JSON*scale);
	// 0 for a field encoding/json handles.
	scale               float64
	omitEmpty, omitZero bool
}

var (
	plans        sync.Map // reflect.Type -> []field
	durationType = reflect.TypeOf(time.Duration(0))
	bitRateType  = reflect.TypeOf(BitRate(0))
)

func planOf(t reflect.Type) []field {
	if p, ok := plans.Load(t); ok {
		return p.([]field)
	}
	var p []field
	collect(t, nil, &p)
	plans.Store(t, p)
	return p
}

// collect appends t's JSON members in encoding/json's order: fields in
// declaration order, an untagged embedded struct's (or exported pointer
// to struct's) fields in its place. (Name conflicts between embedded
// fields are not resolved, and an unexported embedded pointer is left
// out: the result types and the records wrapping them have neither.)
func collect(t reflect.Type, index []int, p *[]field) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			collect(sf.Type, idx, p)
			continue
		}
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct {
			if sf.IsExported() {
				collect(sf.Type.Elem(), idx, p)
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		key, _ := json.Marshal(name)
		f := field{name: name, key: append(key, ':'), index: idx, scale: scaleOf(sf.Type, name)}
		for _, o := range strings.Split(opts, ",") {
			f.omitEmpty = f.omitEmpty || o == "omitempty"
			f.omitZero = f.omitZero || o == "omitzero"
		}
		*p = append(*p, f)
	}
}

// scaleOf returns the factor from a JSON number in the unit name states
// to a value of type t, or 0 when encoding/json handles the field.
func scaleOf(t reflect.Type, name string) float64 {
	switch t {
	case durationType:
		switch {
		case strings.HasSuffix(name, "_ms"):
			return float64(time.Millisecond)
		case strings.HasSuffix(name, "_us"):
			return float64(time.Microsecond)
		case strings.HasSuffix(name, "_s"):
			return float64(time.Second)
		}
	case bitRateType:
		if strings.HasSuffix(name, "_bytes_per_s") {
			return 8
		}
		return 1
	}
	return 0
}

// appendScaled appends the field's value in its JSON unit with
// encoding/json's float format.
func appendScaled(b []byte, fv reflect.Value, scale float64) ([]byte, error) {
	var x float64
	switch {
	case fv.Kind() == reflect.Int64 && scale == float64(time.Second):
		// as the Go API gives seconds, so that a duration written before
		// its field was typed is written the same
		x = time.Duration(fv.Int()).Seconds()
	case fv.Kind() == reflect.Int64:
		x = float64(fv.Int()) / scale
	default:
		x = fv.Float() / scale
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return b, fmt.Errorf("unsupported value %v", x)
	}
	return appendJSONFloat(b, x), nil
}

// appendJSONFloat appends finite x as encoding/json writes a float64:
// the shortest decimal that reads back as x, in exponent form only below
// 1e-6 or from 1e21 up, the exponent without a leading zero.
func appendJSONFloat(b []byte, x float64) []byte {
	abs := x
	if abs < 0 {
		abs = -abs
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, x, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}
