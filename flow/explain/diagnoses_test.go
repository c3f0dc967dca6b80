package explain_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

// diagnosis is one capture's expected diagnosis in
// testdata/golden/explain/diagnoses.json: values judged from tshark's
// evidence (gen_diag.py prints it), each with the frames and timings it
// rests on.
type diagnosis struct {
	Capture string `json:"capture"`
	// Summary says what the capture shows, in a sentence.
	Summary string `json:"summary"`
	// Stream is tshark's tcp.stream of the connection (gen_diag.py).
	Stream int `json:"tshark_stream"`
	// Client and Server name the connection's ends (the client is the
	// SYN sender); without a SYN either may be taken for the client, so
	// the connection is found by the pair.
	Client    string       `json:"client"`
	Server    string       `json:"server"`
	DurationS float64      `json:"duration_s"`
	Limit     *expectName  `json:"limit"`
	Vantage   *expectName  `json:"vantage"`
	Ending    *expectName  `json:"ending"`
	RTOs      *expectCount `json:"rto_count"`
	// RTOFrames are the frames resent on a timeout, checked against
	// tcpstate's labels (Analysis.Cause) that explain's RTO figures rest
	// on.
	RTOFrames *expectFrames `json:"rto_frames"`
	Answers   *expectCount  `json:"round_trips"`
	Turns     *expectCount  `json:"turns"`
	Causes    []expectCause `json:"causes"`
}

// expectName is an expected name (a Limit, a Vantage, an Ending).
type expectName struct {
	Value      string `json:"value"`
	Evidence   string `json:"evidence"`
	KnownWrong string `json:"known_wrong"`
}

// expectCount is an expected count.
type expectCount struct {
	Value      int    `json:"value"`
	Evidence   string `json:"evidence"`
	KnownWrong string `json:"known_wrong"`
}

// expectFrames is an expected list of frame numbers.
type expectFrames struct {
	Value      []uint64 `json:"value"`
	Evidence   string   `json:"evidence"`
	KnownWrong string   `json:"known_wrong"`
}

// expectCause is the expected time of one or more budget causes
// together: Seconds within Tolerance (default 10 % of the duration), or
// between MinS and MaxS when the evidence only bounds it.
type expectCause struct {
	Parts      []string `json:"parts"`
	Seconds    *float64 `json:"seconds"`
	ToleranceS float64  `json:"tolerance_s"`
	MinS       *float64 `json:"min_s"`
	MaxS       *float64 `json:"max_s"`
	Evidence   string   `json:"evidence"`
	KnownWrong string   `json:"known_wrong"`
}

type diagnosesFile struct {
	About    string      `json:"about"`
	Captures []diagnosis `json:"captures"`
}

func loadDiagnoses(t *testing.T) []diagnosis {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(flowtest.RepoRoot(), "testdata", "golden", "explain", "diagnoses.json"))
	require.NoError(t, err)
	var f diagnosesFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&f))
	return f.Captures
}

// explainWithTimeouts explains a capture and lists, per connection ID,
// the frames tcpstate labels as resent on a timeout.
func explainWithTimeouts(t *testing.T, name string) ([]*explain.Conn, map[int][]uint64) {
	t.Helper()
	e := explain.New(explain.Options{Keep: true})
	timeouts := map[int][]uint64{}
	rec := flow.PacketFunc(func(p *flow.PacketInfo) {
		if p.Conn != nil && p.Analysis != nil && p.Analysis.Cause == tcpstate.CauseTimeout {
			timeouts[p.Conn.ID] = append(timeouts[p.Conn.ID], p.Index)
		}
	})
	_, err := flow.AnalyzeFile(name, flow.Config{Consumers: []flow.Consumer{e, rec}})
	require.NoError(t, err, name)
	return e.Conns(), timeouts
}

var causeByName = func() map[string]explain.Cause {
	m := map[string]explain.Cause{}
	for c := explain.CauseTransfer; c <= explain.CauseQueueCross; c++ {
		m[c.String()] = c
	}
	return m
}()

// verdict reports one field's comparison: a mismatch fails the test
// unless the entry is marked known_wrong (then it is logged); a
// known_wrong entry that now agrees fails, so that the mark is removed.
func verdict(t *testing.T, d *diagnosis, field string, ok bool, want, got any, evidence, knownWrong string) {
	t.Helper()
	name := d.Capture + " " + d.Client + "->" + d.Server
	switch {
	case ok && knownWrong != "":
		t.Errorf("%s %s: explain now agrees (%v); remove the known_wrong mark %q", name, field, got, knownWrong)
	case !ok && knownWrong != "":
		t.Logf("known wrong: %s %s: expected %v, got %v (%s); evidence: %s", name, field, want, got, knownWrong, evidence)
	case !ok:
		t.Errorf("%s %s: expected %v, got %v; evidence: %s", name, field, want, got, evidence)
	}
}

// TestDiagnosesMatchTsharkEvidence runs explain on the public captures of
// diagnoses.json and checks each connection's limit, vantage, ending, RTO
// count and frames, client turns, answered round trips and main budget
// causes against the values judged from tshark's frames and timings
// (python3 testdata/golden/explain/gen_diag.py prints them). The entries
// marked known_wrong are where explain disagrees with that evidence: the
// scorecard logs them and fails when they start to agree.
func TestDiagnosesMatchTsharkEvidence(t *testing.T) {
	dir := flowtest.CorpusDir(t, "public")
	ds := loadDiagnoses(t)
	require.GreaterOrEqual(t, len(ds), 20, "the issue asks for at least 20 captures")
	sc := &scorecard{t: t}
	for i := range ds {
		d := &ds[i]
		cs, timeouts := explainWithTimeouts(t, filepath.Join(dir, d.Capture))
		c := findConn(cs, d.Client, d.Server)
		if c == nil {
			t.Errorf("%s: no connection %s -> %s", d.Capture, d.Client, d.Server)
			continue
		}
		if math.Abs(c.Budget.Duration.Seconds()-d.DurationS) > 1e-3 {
			t.Errorf("%s: duration %.6f s, tshark's first to last frame %.6f s", d.Capture, c.Budget.Duration.Seconds(), d.DurationS)
		}
		sc.d = d
		if e := d.Limit; e != nil {
			sc.check("limit", c.Limit.String() == e.Value, e.Value, c.Limit, e.Evidence, e.KnownWrong)
		}
		if e := d.Vantage; e != nil {
			sc.check("vantage", c.Vantage.String() == e.Value, e.Value, c.Vantage, e.Evidence, e.KnownWrong)
		}
		if e := d.Ending; e != nil {
			sc.check("ending", c.Ending.String() == e.Value, e.Value, c.Ending, e.Evidence, e.KnownWrong)
		}
		if e := d.RTOs; e != nil {
			sc.check("rto_count", c.Model.RTOs == e.Value, e.Value, c.Model.RTOs, e.Evidence, e.KnownWrong)
		}
		if e := d.RTOFrames; e != nil {
			got := timeouts[c.ID]
			sc.check("rto_frames", slices.Equal(got, e.Value), e.Value, got, e.Evidence, e.KnownWrong)
		}
		if e := d.Turns; e != nil {
			sc.check("turns", c.Turns == e.Value, e.Value, c.Turns, e.Evidence, e.KnownWrong)
		}
		if e := d.Answers; e != nil {
			sc.check("round_trips", c.Model.RoundTrips == e.Value, e.Value, c.Model.RoundTrips, e.Evidence, e.KnownWrong)
		}
		for _, e := range d.Causes {
			sc.cause(&c.Budget, e)
		}
	}
	t.Logf("%d connections: %d figures agree with tshark's evidence, %d known wrong", len(ds), sc.agree, sc.known)
}

// findConn returns the connection between the two ends, in either
// order (without a SYN either end may be taken for the client).
func findConn(cs []*explain.Conn, client, server string) *explain.Conn {
	for _, c := range cs {
		a, b := c.Client.String(), c.Server.String()
		if (a == client && b == server) || (a == server && b == client) {
			return c
		}
	}
	return nil
}

// scorecard counts the figures that agree and those marked known_wrong.
type scorecard struct {
	t            *testing.T
	d            *diagnosis
	agree, known int
}

func (sc *scorecard) check(field string, ok bool, want, got any, evidence, knownWrong string) {
	sc.t.Helper()
	verdict(sc.t, sc.d, field, ok, want, got, evidence, knownWrong)
	if knownWrong != "" {
		sc.known++
	} else if ok {
		sc.agree++
	}
}

// cause checks the seconds of one or more budget causes together.
func (sc *scorecard) cause(b *explain.Budget, e expectCause) {
	sc.t.Helper()
	got := 0.0
	for _, p := range e.Parts {
		c, ok := causeByName[p]
		require.True(sc.t, ok, "%s: unknown cause %q", sc.d.Capture, p)
		got += b.Part(c).Seconds()
	}
	field := strings.Join(e.Parts, "+")
	switch {
	case e.Seconds != nil:
		tol := e.ToleranceS
		if tol == 0 {
			tol = 0.1 * sc.d.DurationS
		}
		sc.check(field, math.Abs(got-*e.Seconds) <= tol, formatS(*e.Seconds, tol), formatS(got, 0), e.Evidence, e.KnownWrong)
	case e.MinS != nil && e.MaxS != nil:
		sc.check(field, got >= *e.MinS && got <= *e.MaxS, formatRange(*e.MinS, *e.MaxS), formatS(got, 0), e.Evidence, e.KnownWrong)
	default:
		sc.t.Errorf("%s %s: neither seconds nor min_s and max_s", sc.d.Capture, field)
	}
}

func formatS(s, tol float64) string {
	if tol == 0 {
		return fmt.Sprintf("%.6f s", s)
	}
	return fmt.Sprintf("%.6f ± %.6f s", s, tol)
}

func formatRange(lo, hi float64) string { return fmt.Sprintf("%.6f..%.6f s", lo, hi) }
