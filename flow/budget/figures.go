package budget

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/units"
)

// unit is what a figure or an expression measures; it decides which units
// a limit may carry and how values are printed.
type unit uint8

const (
	unitNumber   unit = iota // dimensionless
	unitCount                // a count of things
	unitSeconds              // a time in seconds (names ending _s)
	unitMillis               // a time in milliseconds (names ending _ms)
	unitBytes                // a size in bytes
	unitFraction             // a share, 0 to 1
	unitRatio                // a ratio of two figures of the same unit
	unitRate                 // bytes per second
)

var unitNames = [...]string{"number", "count", "s", "ms", "bytes", "fraction", "ratio", "bytes/s"}

func (u unit) String() string { return unitNames[u] }

// root says which value of an item a figure is read from.
type root uint8

const (
	rootConn       root = iota // *flow.Conn: the conn record of flows -json
	rootExplain                // *explain.Conn: its "explain" object
	rootProjection             // explain.Projection at the check's path
	rootTxn                    // *appproto.Transaction
	rootSummary                // flow.Summary: the capture's accounting
	rootSkipped                // Summary.Skipped[key]
	rootOther                  // Summary.Other[key]
	rootCapture                // the capture's own duration
)

// figure is one numeric field that checks can name: its JSON path, where
// it is read from and how.
type figure struct {
	name  string
	root  root
	index []int // reflect field index from the root struct
	elem  int   // array element, -1 for none
	kind  reflect.Kind
	unit  unit
	key   string // map key for rootSkipped and rootOther
	// per is the Go value of one unit of the JSON number for a
	// time.Duration or units.BitRate field (a nanosecond count per
	// second or millisecond, 8 bit/s per byte/s); 0 for other fields.
	per float64
}

// figureSet is the figures of one scope, by name.
type figureSet struct {
	byName map[string]*figure
	names  []string // sorted, for suggestions
}

func (s *figureSet) add(f *figure) {
	if s.byName == nil {
		s.byName = map[string]*figure{}
	}
	s.byName[f.name] = f
	s.names = append(s.names, f.name)
}

func (s *figureSet) sort() { slices.Sort(s.names) }

// The figures of each scope, built once from the JSON tags of the types
// whose records flows -json and flows -transactions -json print, so that
// a field added to those types is a figure at once.
var (
	connFigures    = buildConnFigures()
	txnFigures     = buildTxnFigures()
	captureFigures = buildCaptureFigures()
)

func buildConnFigures() *figureSet {
	s := &figureSet{}
	walk(s, rootConn, reflect.TypeFor[flow.Conn](), "", nil)
	walk(s, rootExplain, reflect.TypeFor[explain.Conn](), "explain.", nil)
	walk(s, rootProjection, reflect.TypeFor[explain.Projection](), "projected.", nil)
	s.sort()
	return s
}

func buildTxnFigures() *figureSet {
	s := &figureSet{}
	walk(s, rootTxn, reflect.TypeFor[appproto.Transaction](), "", nil)
	s.sort()
	return s
}

func buildCaptureFigures() *figureSet {
	s := &figureSet{}
	walk(s, rootSummary, reflect.TypeFor[flow.Summary](), "", nil)
	for r := flow.SkipReason(1); r.String() != "unknown"; r++ {
		s.add(&figure{name: "skipped." + r.String(), root: rootSkipped, key: r.String(), elem: -1, unit: unitCount})
	}
	for k := flow.KindUDP; k.String() != "unknown"; k++ {
		s.add(&figure{name: "other." + k.String(), root: rootOther, key: k.String(), elem: -1, unit: unitCount})
	}
	s.add(&figure{name: "duration_s", root: rootCapture, elem: -1, unit: unitSeconds})
	s.sort()
	return s
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	durationType  = reflect.TypeFor[time.Duration]()
	bitRateType   = reflect.TypeFor[units.BitRate]()
)

// walk adds the numeric fields of struct type t under prefix: booleans,
// integers, floats and arrays of them, named by their JSON tags; nested
// structs by dotted paths, embedded ones in place. Types that marshal
// themselves as text or a JSON value (enums by name, times, addresses)
// are not figures; a struct that marshals itself does it with
// units.MarshalJSON, field by field, so its fields are, a duration or
// rate valued in the unit its name states as in the JSON.
func walk(s *figureSet, r root, t reflect.Type, prefix string, index []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		idx := append(slices.Clone(index), i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		if ft.Implements(textMarshaler) || (ft.Implements(jsonMarshaler) && ft.Kind() != reflect.Struct) {
			continue
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			walk(s, r, ft, prefix, idx)
			continue
		}
		if name == "" {
			name = f.Name
		}
		full := prefix + name
		switch {
		case ft.Kind() == reflect.Struct:
			walk(s, r, ft, full+".", idx)
		case ft.Kind() == reflect.Array && numeric(ft.Elem().Kind()):
			for e := range ft.Len() {
				s.add(&figure{name: fmt.Sprintf("%s[%d]", full, e), root: r, index: idx, elem: e,
					kind: ft.Elem().Kind(), unit: unitOf(name, ft.Elem().Kind())})
			}
		case numeric(ft.Kind()):
			s.add(&figure{name: full, root: r, index: idx, elem: -1, kind: ft.Kind(), unit: unitOf(name, ft.Kind()), per: perUnit(ft, name)})
		}
	}
}

// perUnit returns figure.per for a field of type t named name.
func perUnit(t reflect.Type, name string) float64 {
	switch {
	case t == durationType && strings.HasSuffix(name, "_ms"):
		return float64(time.Millisecond)
	case t == durationType && strings.HasSuffix(name, "_us"):
		return float64(time.Microsecond)
	case t == durationType:
		return float64(time.Second)
	case t == bitRateType && strings.HasSuffix(name, "_bytes_per_s"):
		return 8
	case t == bitRateType:
		return 1
	}
	return 0
}

func numeric(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// unitOf tells a figure's unit from its JSON name, the project's naming
// convention (seconds end in _s, milliseconds in _ms, rates in _per_s).
func unitOf(name string, k reflect.Kind) unit {
	switch {
	case strings.HasSuffix(name, "_per_s"):
		return unitRate
	case strings.HasSuffix(name, "_s"):
		return unitSeconds
	case strings.HasSuffix(name, "_ms"):
		return unitMillis
	case strings.Contains(name, "share") || name == "utilisation" || name == "proto_confidence":
		return unitFraction
	case strings.Contains(name, "bytes") || name == "mss" || name == "max_segment" ||
		name == "max_in_flight" || name == "max_window" || name == "mean_segment":
		return unitBytes
	case k == reflect.Float32 || k == reflect.Float64:
		return unitNumber
	}
	return unitCount
}

// item is one thing a check looks at: a connection (with its explanation
// and projections), a transaction, or the capture.
type item struct {
	conn    *flow.Conn
	ex      *explain.Conn
	proj    []explain.Projection // one per path of the spec (Checker.paths)
	txn     *appproto.Transaction
	summary *flow.Summary
	capDur  float64
}

// value reads figure f of it; ok is false when it has none (a connection
// without explanation, a figure of another scope).
func (f *figure) value(it *item, path int) (float64, bool) {
	var v reflect.Value
	switch f.root {
	case rootConn:
		if it.conn == nil {
			return 0, false
		}
		v = reflect.ValueOf(it.conn).Elem()
	case rootExplain:
		if it.ex == nil {
			return 0, false
		}
		v = reflect.ValueOf(it.ex).Elem()
	case rootProjection:
		if it.ex == nil || path < 0 || path >= len(it.proj) {
			return 0, false
		}
		v = reflect.ValueOf(&it.proj[path]).Elem()
	case rootTxn:
		if it.txn == nil {
			return 0, false
		}
		v = reflect.ValueOf(it.txn).Elem()
	case rootSummary:
		if it.summary == nil {
			return 0, false
		}
		v = reflect.ValueOf(it.summary).Elem()
	case rootSkipped, rootOther:
		if it.summary == nil {
			return 0, false
		}
		m := it.summary.Skipped
		if f.root == rootOther {
			m = it.summary.Other
		}
		return float64(m[f.key]), true
	case rootCapture:
		return it.capDur, it.summary != nil
	}
	v = v.FieldByIndex(f.index)
	if f.elem >= 0 {
		v = v.Index(f.elem)
	}
	switch f.kind {
	case reflect.Bool:
		if v.Bool() {
			return 1, true
		}
		return 0, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch f.per {
		case 0:
			return float64(v.Int()), true
		case float64(time.Second):
			return time.Duration(v.Int()).Seconds(), true // as the JSON writes it
		}
		return float64(v.Int()) / f.per, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint()), true
	}
	if f.per != 0 {
		return v.Float() / f.per, true
	}
	return v.Float(), true
}

// suggest returns the figure name of s closest to name, for messages.
func (s *figureSet) suggest(name string) string {
	if len(name) > 64 {
		return ""
	}
	best, bestD := "", len(name)/2+2
	for _, n := range s.names {
		if d := editDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
