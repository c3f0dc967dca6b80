package budget

import (
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/units"
)

// numericLeaves lists the paths of the numbers and booleans of a JSON
// document, arrays by index: what encoding/json makes of a record.
func numericLeaves(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			numericLeaves(prefix+k+".", c, out)
		}
	case []any:
		for i, c := range x {
			if _, isObj := c.(map[string]any); isObj {
				continue // lists of records (quality, stalls, phases) are not figures
			}
			numericLeaves(strings.TrimSuffix(prefix, ".")+"["+strconv.Itoa(i)+"].", c, out)
		}
	case float64, bool:
		out[strings.TrimSuffix(prefix, ".")] = true
	}
}

// connRecord is the conn record of flows -json.
type connRecord struct {
	*flow.Conn
	Explain *explain.Conn `json:"explain"`
}

func (r connRecord) MarshalJSON() ([]byte, error) { return units.MarshalJSON(r) }

// The figures of connections are exactly the numeric fields of the conn
// record of flows -json (flow.Conn with its explain object), as
// encoding/json writes them, plus projected.* (explain.Projection).
func TestFiguresAreTheJSONFields(t *testing.T) {
	name := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-http-bulk.pcap")
	ex := explain.New(explain.Options{Keep: true})
	res, err := flow.AnalyzeFile(name, flow.Config{Consumers: []flow.Consumer{ex}, KeepConns: true})
	require.NoError(t, err)
	record := connRecord{res.Conns[0], ex.Conns()[0]}
	b, err := json.Marshal(record)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	want := map[string]bool{}
	numericLeaves("", doc, want)
	pb, err := json.Marshal(ex.Conns()[0].Project(0, 0))
	require.NoError(t, err)
	var pdoc map[string]any
	require.NoError(t, json.Unmarshal(pb, &pdoc))
	numericLeaves("projected.", pdoc, want)
	got := map[string]bool{}
	for _, n := range connFigures.names {
		got[n] = true
	}
	// Every numeric field written is a figure; the figures not written are
	// those the encoder omits when zero, as on this HTTP download: the
	// SQL*Net figures of TNS connections, the incomplete count and the
	// SYN timeouts.
	for _, n := range sortedKeys(want) {
		assert.True(t, got[n], "field %s is not a figure", n)
	}
	for _, n := range sortedKeys(got) {
		if !want[n] {
			assert.True(t, n == "app.incomplete" || n == "app.sdu" || n == "app.tdu" || strings.HasPrefix(n, "app.sqlnet.") ||
				n == "explain.model.syn_rto_s",
				"figure %s is no field of the record", n)
		}
	}
	assert.Greater(t, len(got), 200)

	// transactions: the fields of appproto.Transaction
	tb, err := json.Marshal(appproto.Transaction{ID: 1, Verb: "GET", Status: 200, Error: true,
		Incomplete: true, MissingBytes: 1, TextTruncated: true})
	require.NoError(t, err)
	var tdoc map[string]any
	require.NoError(t, json.Unmarshal(tb, &tdoc))
	twant := map[string]bool{}
	numericLeaves("", tdoc, twant)
	assert.Equal(t, sortedKeys(twant), txnFigures.names)
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Units follow the project's JSON naming.
func TestFigureUnits(t *testing.T) {
	for name, want := range map[string]unit{
		"duration_s":                        unitSeconds,
		"rtt.p95_ms":                        unitMillis,
		"explain.rate_bytes_per_s":          unitRate,
		"explain.segments_s2c.small_share":  unitFraction,
		"explain.evidence.utilisation":      unitFraction,
		"proto_confidence":                  unitFraction,
		"c2s.wire_bytes":                    unitBytes,
		"c2s.max_segment":                   unitBytes,
		"explain.segments_c2s.mean_segment": unitBytes,
		"app.turns":                         unitCount,
		"explain.acks_c2s.covered[5]":       unitCount,
		"explain.acks_c2s.acks_per_segment": unitNumber,
		"explain.evidence.turns_x_rtt_s":    unitSeconds,
		"projected.budget.round_trip_s":     unitSeconds,
		"midstream":                         unitCount,
	} {
		f := connFigures.byName[name]
		require.NotNil(t, f, name)
		assert.Equal(t, want, f.unit, name)
	}
	assert.Equal(t, unitSeconds, txnFigures.byName["server_time_s"].unit)
	assert.Equal(t, unitCount, captureFigures.byName["skipped.timestamp_out_of_range"].unit)
	assert.Equal(t, unitCount, captureFigures.byName["other.icmpv6"].unit)
}

// Quantiles are exact (nearest rank) up to MaxSamples values.
func TestQuantileExact(t *testing.T) {
	var a accumulator
	vals := make([]float64, MaxSamples)
	for i := range vals {
		vals[i] = float64(i + 1)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
	for _, v := range vals {
		a.add(v, true)
	}
	for q, want := range map[float64]float64{0.5: 2048, 0.95: 3892, 0.01: 41} { // ceil(q * 4096)
		v, why := a.result(&expr{agg: aggQuantile, q: q})
		require.Empty(t, why)
		assert.Equal(t, want, v, "q=%v", q)
	}
	v, _ := a.result(&expr{agg: aggMax})
	assert.Equal(t, 4096.0, v)
	v, _ = a.result(&expr{agg: aggSum})
	assert.Equal(t, 4096.0*4097/2, v)
	assert.Len(t, a.keep, MaxSamples)
}

// Beyond MaxSamples the sample stays bounded and uniform: the quantiles of
// 100000 shuffled values 1..100000 land within the reservoir's rank error
// (about 1/sqrt(4096) = 1.6 %; 3 % allowed), min, max, sum and count exact.
func TestQuantileReservoir(t *testing.T) {
	var a accumulator
	const n = 100000
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = float64(i + 1)
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(n, func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
	for _, v := range vals {
		a.add(v, true)
	}
	assert.Len(t, a.keep, MaxSamples)
	for _, q := range []float64{0.5, 0.95} {
		v, _ := a.result(&expr{agg: aggQuantile, q: q})
		assert.InDelta(t, q*n, v, 0.03*n, "q=%v", q)
	}
	v, _ := a.result(&expr{agg: aggMin})
	assert.Equal(t, 1.0, v)
	v, _ = a.result(&expr{agg: aggCount})
	assert.Equal(t, float64(n), v)
	// deterministic: the same input gives the same estimate
	var b accumulator
	for _, v := range vals {
		b.add(v, true)
	}
	x, _ := a.result(&expr{agg: aggQuantile, q: 0.95})
	y, _ := b.result(&expr{agg: aggQuantile, q: 0.95})
	assert.Equal(t, x, y)
}

// The baseline comparison, class by class.
func TestRegressionRules(t *testing.T) {
	count := &regression{base: 204, class: ClassCount, sign: 1}
	assert.False(t, count.worse(204))
	assert.True(t, count.worse(205), "one more turn is a regression when counts compare exactly")
	assert.True(t, count.better(203), "one fewer is an improvement")
	count.tol = 0.05
	assert.False(t, count.worse(214)) // 204 * 1.05 = 214.2
	assert.True(t, count.worse(215))

	seg := &regression{base: 400, class: ClassAmount, sign: -1, tol: 0.1}
	assert.False(t, seg.worse(361)) // 400 - 10 %
	assert.True(t, seg.worse(359))
	assert.True(t, seg.better(441))
	assert.False(t, seg.better(439))

	part := &regression{base: 0.45, whole: 2.71, class: ClassTimePart, sign: 1, tol: 0.1}
	assert.False(t, part.worse(0.45+0.271), "a part may grow by 10 % of the whole")
	assert.True(t, part.worse(0.45+0.272))
	assert.InDelta(t, 0.6, part.change(0.72), 1e-12)
	assert.Contains(t, part.describe(), "may grow by 10% of the 2.710 s duration, higher is worse")
	zero := &regression{base: 0, class: ClassAmount, sign: 1, tol: 0.1}
	assert.True(t, zero.worse(1), "from nothing, anything more is a regression")
	assert.Zero(t, zero.change(1))
}

// query_prefix and url_prefix match the start of the request's SQL text
// (Transaction.Query) and HTTP target (Transaction.Path).
func TestRequestTextSelectors(t *testing.T) {
	d := nodes{"test.yaml"}
	root, err := parseYAML("test.yaml", []byte("{query_prefix: [SELECT *, WITH], url_prefix: /reports/}"))
	require.NoError(t, err)
	sel, err := d.parseSelector(root, "where", ScopeTransactions)
	require.NoError(t, err)
	c := &flow.Conn{}
	sql := func(q string) *appproto.Transaction {
		return &appproto.Transaction{Proto: "postgres", Query: appproto.Text(q)}
	}
	assert.False(t, sel.matchTxn(c, sql("SELECT * FROM orders")), "url_prefix must match too")
	sel.URLPrefix = nil
	assert.True(t, sel.matchTxn(c, sql("SELECT * FROM orders")))
	assert.True(t, sel.matchTxn(c, sql("WITH x AS (SELECT 1) SELECT * FROM x")))
	assert.False(t, sel.matchTxn(c, sql("UPDATE orders SET qty = 1")))
	sel = Selector{URLPrefix: []string{"/reports/"}}
	assert.True(t, sel.matchTxn(c, &appproto.Transaction{Proto: "http", Path: appproto.Text("/reports/daily")}))
	assert.False(t, sel.matchTxn(c, &appproto.Transaction{Proto: "http", Path: appproto.Text("/row/1.csv")}))
	assert.Equal(t, `url_prefix="/reports/"`, sel.String())
}
