package budget_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/budget"
)

// Every mistake in a budget file is a *SpecError that names the line (and
// column), the field path and what is wrong.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		want       string // prefix: file:line[:column]: path: message
	}{
		{"malformed YAML", "checks:\n  - check: [sum(x)\n", "test.yaml:2: did not find expected ',' or ']'"},
		{"misindented", "checks:\n  - check: count == 1\n   name: x\n", "test.yaml:3: did not find expected '-' indicator"},
		{"unquoted >", "checks:\n  - name: x\n    check: >= 5\n", "test.yaml:3: did not find expected comment or line break (a value starting with > or another YAML indicator needs quotes)"},
		{"not a mapping", "- check: count == 1\n", "test.yaml:1:1: want a mapping"},
		{"empty file", "", "test.yaml: empty file"},
		{"unknown top-level field", "chekcs: []\n", "test.yaml:1:1: chekcs: unknown field"},
		{"no checks", "at: {rtt: 150ms}\n", "test.yaml: checks: want a list of at least one check"},
		{"empty checks", "checks: []\n", "test.yaml:1:9: checks: want a list of at least one check"},
		{"wrong version", "version: 2\nchecks: [{check: count == 1}]\n", "test.yaml:1:10: version: this version reads budget files of version 1"},
		{"unknown check field", "checks:\n  - check: count == 1\n    limit: 5\n", "test.yaml:3:5: checks[0].limit: unknown field"},
		{"field given twice", "checks:\n  - check: count == 1\n    check: count == 2\n", "test.yaml:3:5: checks[0].check: given twice"},
		{"missing check", "checks:\n  - name: nothing\n", "test.yaml:2:5: checks[0].check: missing"},
		{"unknown figure", "checks:\n  - check: sum(app.turnz) <= 10\n", `test.yaml:2:16: checks[0].check: unknown figure "app.turnz" for connections (did you mean app.turns?)`},
		{"figure of another scope", "checks:\n  - of: transactions\n    check: sum(app.turns) <= 10\n", `test.yaml:3:16: checks[0].check: unknown figure "app.turns" for transactions`},
		{"unknown aggregate", "checks:\n  - check: avg(app.turns) <= 10\n", `checks[0].check: unknown figure "avg"`},
		{"bad operator =", "checks:\n  - check: count = 1\n", `test.yaml:2:18: checks[0].check: unexpected '=': the comparisons are <=, <, >=, >, == and within`},
		{"bad operator ≤", "checks:\n  - check: count ≤ 1\n", `checks[0].check: unexpected '≤'`},
		{"bad operator !=", "checks:\n  - check: count != 1\n", `checks[0].check: unexpected '!'`},
		{"no comparison", "checks:\n  - check: sum(app.turns)\n", "checks[0].check: no comparison"},
		{"no limit", "checks:\n  - check: sum(app.turns) <=\n", "checks[0].check: want a number (with its unit) or baseline after <="},
		{"two comparisons", "checks:\n  - check: count <= 1 <= 2\n", `checks[0].check: unexpected "<=" after the limit`},
		{"unit mismatch", "checks:\n  - check: sum(app.bytes_s2c) <= 40ms\n", `checks[0].check: "ms" is a time, and this value is in bytes`},
		{"percent on a count", "checks:\n  - check: sum(app.turns) <= 10%\n", "checks[0].check: % limits a share or a ratio, and this value is in count"},
		{"unknown unit", "checks:\n  - check: max(duration_s) <= 5h\n", `checks[0].check: unknown unit "h"`},
		{"unit in the value", "checks:\n  - check: sum(duration_s) - 5s <= 1s\n", `checks[0].check: "5s": units belong in the limit`},
		{"nested aggregates", "checks:\n  - check: sum(max(app.turns)) <= 1\n", "checks[0].check: aggregates do not nest"},
		{"figure next to an aggregate", "checks:\n  - check: sum(app.turns) / duration_s <= 1\n", "checks[0].check: a figure outside an aggregate next to an aggregate"},
		{"no figure", "checks:\n  - check: 1 + 1 == 2\n", "checks[0].check: the value names no figure"},
		{"adding seconds to bytes", "checks:\n  - check: sum(duration_s + app.bytes_s2c) <= 1\n", `checks[0].check: "+" combines s with bytes`},
		{"unclosed parenthesis", "checks:\n  - check: sum(app.turns <= 1\n", "checks[0].check: no comparison"},
		{"baseline on a per-item check", "checks:\n  - check: app.turns <= baseline\n", "checks[0].check: a comparison with the baseline needs an aggregate"},
		{"bad within", "checks:\n  - check: sum(app.turns) within 5\n", "checks[0].check: want a percentage after within"},
		{"unknown scope", "checks:\n  - of: packets\n    check: count == 1\n", `test.yaml:2:9: checks[0].of: unknown scope "packets"`},
		{"where on the capture", "checks:\n  - of: capture\n    where: {proto: http}\n    check: packets > 1\n", "test.yaml:3:12: checks[0].where: the capture has no selector"},
		{"where key of another scope", "checks:\n  - where: {verb: SELECT}\n    check: count == 1\n", "test.yaml:2:13: checks[0].where.verb: unknown field"},
		{"bad server", "checks:\n  - where: {server: 10.0.0.2}\n    check: count == 1\n", "test.yaml:2:21: checks[0].where.server: want address:port"},
		{"bad port", "checks:\n  - where: {server_port: 70000}\n    check: count == 1\n", "checks[0].where.server_port: want a port number"},
		{"bad prefix", "checks:\n  - where: {client_addr: 10.0.0/8}\n    check: count == 1\n", "checks[0].where.client_addr: want an address or a prefix"},
		{"projection without path", "checks:\n  - check: max(projected.duration_s) <= 5s\n", "test.yaml:2:12: checks[0].check: projected.* figures need a path"},
		{"path without projection", "checks:\n  - at: {rtt: 150ms}\n    check: max(duration_s) <= 5s\n", "test.yaml:2:9: checks[0].at: the check reads no projected.* figure"},
		{"bad rtt", "at: {rtt: fast}\nchecks: [{check: max(projected.duration_s) <= 5s}]\n", `test.yaml:1:11: at.rtt: want a positive duration such as 150ms: "fast"`},
		{"bad rate", "at: {rate: 2X}\nchecks: [{check: max(projected.duration_s) <= 5s}]\n", `test.yaml:1:12: at.rate: want a rate in bit/s`},
		{"empty path", "at: {}\nchecks: [{check: count == 1}]\n", "test.yaml:1:5: at: give rtt, rate or both"},
		{"duplicate names", "checks:\n  - {name: a, check: count == 1}\n  - {name: a, check: count == 2}\n", `test.yaml:3:5: checks[1]: check "a" has the name of checks[0]`},
		{"same text twice", "checks:\n  - check: count == 1\n  - check: count == 1\n", `checks[1]: check "count == 1" has the name of checks[0]: give one of them a name`},
		{"JSON, line of the field", "{\"checks\": [\n {\"check\": \"count == 1\"},\n {\"check\": \"sum(app.turns) <= x\"}\n]}\n", "test.yaml:3:12: checks[1].check: want a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := budget.Parse("test.yaml", []byte(tc.spec))
			require.Error(t, err)
			assert.True(t, errors.Is(err, budget.ErrSpec), "%v is not ErrSpec", err)
			var se *budget.SpecError
			require.True(t, errors.As(err, &se))
			assert.True(t, strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), tc.want), "got  %v\nwant %s", err, tc.want)
		})
	}
}

// The YAML indicator > cannot start a plain value; the message says to
// quote it (the project's form puts the comparison after the value, which
// needs no quotes).
func TestParseQuoteHint(t *testing.T) {
	_, err := budget.Parse("test.yaml", []byte("checks:\n  - name: x\n    check: >= 5\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs quotes")
}

func TestParseFileErrors(t *testing.T) {
	_, err := budget.ParseFile("testdata/no-such-budget.yaml")
	require.Error(t, err)
	assert.False(t, errors.Is(err, budget.ErrSpec), "a missing file is not a spec mistake")
	big := make([]byte, budget.MaxFileSize+1)
	_, err = budget.Parse("big.yaml", big)
	assert.ErrorIs(t, err, budget.ErrSpec)
}

// YAML and JSON spell the same budget.
func TestParseYAMLAndJSON(t *testing.T) {
	y, err := budget.Parse("b.yaml", []byte(`
at: {rtt: 150ms, rate: 2M}
checks:
  - name: order report
    where: {proto: [postgres, tns], server_port: 5432}
    check: sum(projected.duration_s) <= 5 s
  - of: transactions
    where: {verb: select}
    check: p95(server_time_s) <= 40ms
  - check: sum(app.turns) within ±5% of baseline
`))
	require.NoError(t, err)
	j, err := budget.Parse("b.json", []byte(`{"at": {"rtt": "150ms", "rate": "2000000"},
 "checks": [
  {"name": "order report", "where": {"proto": ["postgres", "tns"], "server_port": 5432}, "check": "sum(projected.duration_s) <= 5 s"},
  {"of": "transactions", "where": {"verb": "select"}, "check": "p95(server_time_s) <= 40ms"},
  {"check": "sum(app.turns) within +-5% of baseline"}]}`))
	require.NoError(t, err)
	require.Len(t, y.Checks, 3)
	require.Len(t, j.Checks, 3)
	assert.Equal(t, 150*time.Millisecond, y.At.RTT)
	assert.Equal(t, 250000.0, y.At.Rate.BytesPerSecond()) // 2 Mbit/s in bytes per second
	assert.Equal(t, y.At, j.At)
	for i := range y.Checks {
		a, b := y.Checks[i], j.Checks[i]
		assert.Equal(t, a.Of, b.Of)
		assert.Equal(t, a.Where, b.Where)
		assert.Equal(t, a.At, b.At)
		assert.Equal(t, a.Baselined(), b.Baselined())
	}
	assert.Equal(t, "order report", y.Checks[0].Name)
	assert.Equal(t, []string{"SELECT"}, y.Checks[1].Where.Verb) // verbs match in any case
	assert.Equal(t, budget.ScopeTransactions, y.Checks[1].Of)
	assert.Equal(t, "p95(server_time_s) <= 40ms [verb=SELECT]", y.Checks[1].Name)
	assert.True(t, y.Checks[2].Baselined())
	assert.Equal(t, 4, y.Checks[0].Line) // the text starts with a newline
}
