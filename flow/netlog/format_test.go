package netlog_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/netlog"
)

// parseBack reads ULM and JSON output written for the same blocks and
// checks that both give back the events.
func parseBack(t *testing.T, what string, blocks [][]netlog.Event) {
	t.Helper()
	var u, j bytes.Buffer
	uw, jw := netlog.NewULMWriter(&u, "nltest"), netlog.NewJSONWriter(&j)
	var all []netlog.Event
	for _, b := range blocks {
		require.NoError(t, uw.Events(nil, b))
		require.NoError(t, jw.Events(nil, b))
		all = append(all, b...)
	}
	sc := bufio.NewScanner(&u)
	sc.Buffer(nil, 1<<20)
	i := 0
	for sc.Scan() {
		e, prog, err := netlog.ParseULM(sc.Text())
		require.NoError(t, err, "%s line %d: %s", what, i+1, sc.Text())
		assert.Equal(t, "nltest", prog)
		require.Less(t, i, len(all), what)
		if !same(all[i], e) {
			require.Equal(t, all[i], e, "%s ULM line %d: %s", what, i+1, sc.Text())
		}
		i++
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, len(all), i, "%s: one ULM line per event", what)
	dec := json.NewDecoder(&j)
	for k := range all {
		var e netlog.Event
		require.NoError(t, dec.Decode(&e), "%s JSON line %d", what, k+1)
		if !same(all[k], e) {
			require.Equal(t, all[k], e, "%s JSON line %d", what, k+1)
		}
	}
	assert.False(t, dec.More(), "%s: one JSON line per event", what)
}

// same reports whether two events are equal, their legs by value and
// their times as instants in the same location (the cheap check before
// testify's, which shows the difference).
func same(a, b netlog.Event) bool {
	if (a.Legs == nil) != (b.Legs == nil) || a.Legs != nil && *a.Legs != *b.Legs {
		return false
	}
	if !a.Time.Equal(b.Time) || a.Time.Location() != b.Time.Location() {
		return false
	}
	a.Legs, b.Legs, a.Time = nil, nil, b.Time
	return a == b
}

// The scripted connection's ULM and JSON lines read back to its events.
func TestULMAndJSONParseBackScripted(t *testing.T) {
	parseBack(t, "scripted", logBytes(t, scripted(), 1))
}

// The ULM line of the scripted SYN, field by field.
func TestULMLine(t *testing.T) {
	blocks := logBytes(t, scripted(), 1)
	b := netlog.AppendULM(nil, &blocks[0][0], "netlog")
	assert.Equal(t, "DATE=20261123120000.000000 HOST=10.0.0.1 PROG=netlog LVL=Usage NL.EVNT=tcp.syn CONN=1 COMP=client "+
		"SRC=10.0.0.1:40000 DST=10.0.0.2:9999 PKT=1 LEG.CLIENT.MS=0.1 LEG.SERVER.MS=5", string(b))
	fs, err := netlog.SplitULM(string(b))
	require.NoError(t, err)
	assert.Equal(t, []netlog.ULMField{{Name: "DATE", Value: "20261123120000.000000"}, {Name: "HOST", Value: "10.0.0.1"},
		{Name: "PROG", Value: "netlog"}, {Name: "LVL", Value: "Usage"}, {Name: "NL.EVNT", Value: "tcp.syn"}}, fs[:5])
}

// Quoting: values with spaces, quotes, backslashes, equals signs or
// newlines, and empty ones, survive; nanosecond times get nine digits.
func TestULMQuoting(t *testing.T) {
	e := logBytes(t, scripted(), 1)[0][3]
	for _, what := range []string{"GET /a b", `say "hi"`, `C:\dir`, "a=b", "two\nlines", "tab\there", "Query SELECT"} {
		e.Verb = what
		e.Time = e.Time.Add(1) // one nanosecond
		line := string(netlog.AppendULM(nil, &e, "p"))
		assert.NotContains(t, line, "\n")
		got, _, err := netlog.ParseULM(line)
		require.NoError(t, err, line)
		assert.Equal(t, e, got, line)
		assert.Contains(t, line, "DATE=20261123120000.020000")
	}
}

// Lines that are not ULM, or miss one of NetLogger's fields, are errors
// wrapping ErrULM.
func TestULMBadLines(t *testing.T) {
	good := "DATE=20261123120000.000000 HOST=10.0.0.1 PROG=p LVL=Usage NL.EVNT=tcp.syn"
	_, _, err := netlog.ParseULM(good)
	require.NoError(t, err)
	for _, line := range []string{
		"",
		"HOST=10.0.0.1 PROG=p LVL=Usage NL.EVNT=tcp.syn",
		good + " CONN=x",
		good + " CONN=1 CONN=2",
		good + " COLOUR=red",
		good + " VERB=\"open",
		good + " VERB=\"bad\\q\"",
		good + " VERB=\"a\"b",
		good + " LEG.CLIENT.MS=1",
		good + " novalue",
		strings.Replace(good, "tcp.syn", "tcp.nope", 1),
		strings.Replace(good, "Usage", "Loud", 1),
		strings.Replace(good, "000000", "0000000000", 1),
		strings.Replace(good, "10.0.0.1", "host", 1),
	} {
		_, _, err := netlog.ParseULM(line)
		assert.ErrorIs(t, err, netlog.ErrULM, "%q", line)
	}
}

// A Handler's error stops the writing: the Logger returns it and calls
// the Handler no more.
func TestHandlerError(t *testing.T) {
	boom := errors.New("disk full")
	calls := 0
	lg := netlog.New(netlog.Config{}, netlog.HandlerFunc(func(*flow.Conn, []netlog.Event) error {
		calls++
		return boom
	}))
	for range 2 {
		_, err := flow.Analyze(bytes.NewReader(scripted()), flow.Config{Consumers: []flow.Consumer{lg}})
		require.NoError(t, err)
	}
	assert.ErrorIs(t, lg.Err(), boom)
	assert.Equal(t, 1, calls)
	assert.Equal(t, uint64(2), lg.Counts().Conns, "both passes' connections counted")
	var fw failWriter
	assert.ErrorIs(t, netlog.NewULMWriter(fw, "").Events(nil, logBytes(t, scripted(), 1)[0]), errFull)
	assert.ErrorIs(t, netlog.NewJSONWriter(fw).Events(nil, logBytes(t, scripted(), 1)[0]), errFull)
}

var errFull = errors.New("full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFull }

// MaxEvents bounds a connection's events: the rest are counted in a
// Truncated event at the end of its block.
func TestMaxEvents(t *testing.T) {
	var got []netlog.Event
	lg := netlog.New(netlog.Config{MaxEvents: 5}, netlog.HandlerFunc(func(_ *flow.Conn, evs []netlog.Event) error {
		got = append(got, evs...)
		return nil
	}))
	_, err := flow.Analyze(bytes.NewReader(scripted()), flow.Config{Consumers: []flow.Consumer{lg}})
	require.NoError(t, err)
	require.Len(t, got, 6)
	last := got[5]
	assert.Equal(t, netlog.Truncated, last.Name)
	assert.Equal(t, netlog.Warning, last.Level)
	assert.Equal(t, uint64(16-5), last.Dropped, "16 events, 5 kept")
	assert.Equal(t, ms(340.2), last.Time, "at the connection's last packet")
	parseBack(t, "truncated", [][]netlog.Event{got})
	assert.Equal(t, uint64(1), lg.Counts().Events[netlog.Truncated])
}
