package units_test

import (
	"encoding/json"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/units"
)

type inner struct {
	Wait time.Duration `json:"wait_ms"`
}

func (i inner) MarshalJSON() ([]byte, error)     { return units.MarshalJSON(i) }
func (i *inner) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, i) }

type Base struct {
	ID int `json:"id"`
}

type record struct {
	Base
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_s"`
	RTT      time.Duration `json:"rtt_ms"`
	Tick     time.Duration `json:"tick_us"`
	Rate     BitRate       `json:"rate_bytes_per_s"`
	Link     BitRate       `json:"link_bps"`
	Share    float64       `json:"share"`
	Note     string        `json:"note,omitempty"`
	Late     time.Duration `json:"late_s,omitempty"`
	At       time.Time     `json:"at,omitzero"`
	Inner    inner         `json:"inner"`
	Inners   []inner       `json:"inners"`
	Skip     int           `json:"-"`
	hidden   int
}

// BitRate is units.BitRate under a local name, to check that the rule
// follows the type, not the spelling.
type BitRate = units.BitRate

func (r record) MarshalJSON() ([]byte, error)     { return units.MarshalJSON(r) }
func (r *record) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, r) }

// twin is record as it was before durations and rates were typed: the
// numbers in the units the names state, for encoding/json alone.
type twin struct {
	Base
	Name     string    `json:"name"`
	Duration float64   `json:"duration_s"`
	RTT      float64   `json:"rtt_ms"`
	Tick     float64   `json:"tick_us"`
	Rate     float64   `json:"rate_bytes_per_s"`
	Link     float64   `json:"link_bps"`
	Share    float64   `json:"share"`
	Note     string    `json:"note,omitempty"`
	Late     float64   `json:"late_s,omitempty"`
	At       time.Time `json:"at,omitzero"`
	Inner    struct {
		Wait float64 `json:"wait_ms"`
	} `json:"inner"`
	Inners []struct {
		Wait float64 `json:"wait_ms"`
	} `json:"inners"`
}

func TestMarshalJSONIsEncodingJSONInTheNamedUnits(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		d := time.Duration(rng.Int63n(int64(1000 * time.Hour)))
		if i%7 == 0 {
			d = time.Duration(rng.Intn(1000)) // below a microsecond: exponent form
		}
		r := record{Base: Base{ID: i}, Name: "<a&b>", Duration: d, RTT: d / 3, Tick: d / 7,
			Rate: units.BitRate(rng.Float64() * 1e9), Link: units.BitRate(rng.Float64() * 1e6),
			Share: rng.Float64(), Skip: 5, hidden: 1, Inner: inner{Wait: d / 11}}
		tw := twin{Base: r.Base, Name: r.Name, Duration: d.Seconds(), RTT: float64(r.RTT) / 1e6,
			Tick: float64(r.Tick) / 1e3, Rate: r.Rate.BytesPerSecond(), Link: r.Link.BitsPerSecond(), Share: r.Share}
		tw.Inner.Wait = float64(r.Inner.Wait) / 1e6
		if i%2 == 0 {
			r.Note, tw.Note = "n", "n"
			r.Late, tw.Late = time.Second/4, 0.25
			r.At = time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
			tw.At = r.At
			r.Inners = []inner{{Wait: time.Millisecond}}
			tw.Inners = append(tw.Inners, struct {
				Wait float64 `json:"wait_ms"`
			}{1})
		}
		got, err := json.Marshal(r)
		require.NoError(t, err)
		want, err := json.Marshal(tw)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))

		var back record
		require.NoError(t, json.Unmarshal(got, &back))
		r.Skip, r.hidden = 0, 0
		assert.Equal(t, r.Base, back.Base)
		assert.Equal(t, r.Duration, back.Duration)
		assert.Equal(t, r.RTT, back.RTT)
		assert.Equal(t, r.Tick, back.Tick)
		assert.Equal(t, r.Inner, back.Inner)
		assert.Equal(t, r.Inners, back.Inners)
		assert.InEpsilon(t, float64(r.Rate)+1, float64(back.Rate)+1, 1e-15)
		assert.True(t, r.At.Equal(back.At))
	}
}

func TestMarshalJSONRefusesWhatJSONCannotCarry(t *testing.T) {
	_, err := json.Marshal(record{Link: units.BitRate(math.Inf(1))})
	assert.ErrorContains(t, err, "link_bps")
	_, err = units.MarshalJSON(3)
	assert.Error(t, err)
	assert.Error(t, units.UnmarshalJSON([]byte(`{}`), record{}))
	var r record
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"duration_s":"x"}`), &r), "duration_s")
	assert.NoError(t, json.Unmarshal([]byte(`null`), &r))
}

func TestMarshalJSONSeconds(t *testing.T) {
	b, err := json.Marshal(record{Duration: 1500 * time.Millisecond, RTT: 10784 * time.Microsecond})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"duration_s":1.5,"rtt_ms":10.784,`)
}

// wrapped embeds a pointer to a type with its own MarshalJSON, as a
// tool's record wraps a library result: the wrapper's record holds the
// embedded fields in place (nil: none of them), as encoding/json writes
// the same wrapper around the type without the methods (twinWrapped).
type wrapped struct {
	Type string `json:"type"`
	*Inner
}

// Inner is inner exported, to be embedded.
type Inner = inner

func (w wrapped) MarshalJSON() ([]byte, error)     { return units.MarshalJSON(w) }
func (w *wrapped) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, w) }

type twinWrapped struct {
	Type string `json:"type"`
	*TwinInner
}

// TwinInner holds what Inner holds in the unit its name states.
type TwinInner struct {
	Wait float64 `json:"wait_ms"`
}

func TestMarshalJSONEmbeddedPointer(t *testing.T) {
	for _, in := range []*inner{nil, {Wait: 1500 * time.Microsecond}} {
		got, err := json.Marshal(wrapped{Type: "t", Inner: in})
		require.NoError(t, err)
		tw := twinWrapped{Type: "t"}
		if in != nil {
			tw.TwinInner = &TwinInner{Wait: 1.5} // 1500 µs
		}
		want, err := json.Marshal(tw)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))

		var back wrapped
		require.NoError(t, json.Unmarshal(got, &back))
		assert.Equal(t, "t", back.Type)
		assert.Equal(t, in, back.Inner, "allocated only when its fields are present")
	}
}

type plainInner struct {
	A int `json:"a"`
}

func (p plainInner) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, p) }
func (p plainInner) MarshalJSON() ([]byte, error)          { return units.MarshalJSON(p) }

type textEnum uint8

func (e textEnum) MarshalText() ([]byte, error) { return []byte([]string{"zero", "one"}[e]), nil }

// kinds holds every kind the encoder formats itself or hands on, with no
// typed duration or rate: its JSON must be encoding/json's, byte for byte.
type kinds struct {
	B     bool              `json:"b"`
	I8    int8              `json:"i8"`
	U64   uint64            `json:"u64"`
	F32   float32           `json:"f32"`
	F64   float64           `json:"f64"`
	S     string            `json:"s"`
	Esc   string            `json:"esc"`
	Bytes []byte            `json:"bytes"`
	Nil   []int             `json:"nil"`
	Empty []int             `json:"empty"`
	Arr   [3]uint16         `json:"arr"`
	Map   map[string]int    `json:"map"`
	Any   any               `json:"any"`
	Ptr   *int              `json:"ptr"`
	NilP  *int              `json:"nilp"`
	Enum  textEnum          `json:"enum"`
	Enums []textEnum        `json:"enums"`
	In    plainInner        `json:"in"`
	InP   *plainInner       `json:"inp"`
	Ins   []plainInner      `json:"ins"`
	When  time.Time         `json:"when"`
	Mix   map[string][]bool `json:"mix,omitempty"`
}

func TestAppendJSONKinds(t *testing.T) {
	seven := 7
	k := kinds{B: true, I8: -5, U64: math.MaxUint64, F32: 0.1, F64: 1e-7, S: "plain", Esc: "tab\t<&> é \u2028 \xff",
		Bytes: []byte{1, 2, 255}, Empty: []int{}, Arr: [3]uint16{1, 2, 3}, Map: map[string]int{"b": 2, "a": 1},
		Any: []any{1, "x"}, Ptr: &seven, Enum: 1, Enums: []textEnum{0, 1}, In: plainInner{A: 3},
		InP: &plainInner{A: 4}, Ins: []plainInner{{1}, {2}}, When: time.Date(2026, 12, 2, 6, 0, 0, 5, time.UTC)}
	want, err := json.Marshal(k)
	require.NoError(t, err)
	got, err := units.AppendJSON([]byte("prefix:"), k)
	require.NoError(t, err)
	assert.Equal(t, "prefix:"+string(want), string(got))
}

type ptrMarshaler struct{ N int }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"ptr"`), nil }

// A field whose MarshalJSON has a pointer receiver is written by it where
// the record can be addressed (AppendJSON copies the record so that it
// can), as encoding/json writes it for an addressable value.
func TestAppendJSONPointerMarshaler(t *testing.T) {
	type rec struct {
		P  ptrMarshaler   `json:"p"`
		Ps []ptrMarshaler `json:"ps"`
	}
	r := rec{Ps: []ptrMarshaler{{1}}}
	want, err := json.Marshal(&r)
	require.NoError(t, err)
	got, err := units.AppendJSON(nil, r)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}
