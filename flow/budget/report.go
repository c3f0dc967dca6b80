package budget

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/netecology/netecology/flow/explain"
)

// Report is the outcome of a budget on one trace.
type Report struct {
	// Trace is the capture's file name.
	Trace string `json:"trace"`
	// Error is set when the trace could not be read (the error, which
	// names the trace): no check passed.
	Error   string   `json:"error,omitempty"`
	Results []Result `json:"results"`
	// Passed, Failed and Improved count the results (improved ones also
	// count as passed).
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Improved int `json:"improved"`
}

// OK reports whether the trace was read and every check passed.
func (r *Report) OK() bool { return r.Error == "" && r.Failed == 0 }

func (r *Report) add(res Result) {
	if res.Pass {
		r.Passed++
	} else {
		r.Failed++
	}
	if res.Improved {
		r.Improved++
	}
	r.Results = append(r.Results, res)
}

// Lines returns one readable line per result, each naming the trace.
func (r *Report) Lines() []string {
	if r.Error != "" {
		return []string{"ERROR " + r.Error}
	}
	out := make([]string, len(r.Results))
	for i := range r.Results {
		out[i] = r.Results[i].Line(r.Trace)
	}
	return out
}

// Result is the outcome of one check (or one baseline figure) on a trace.
type Result struct {
	// Check is the check's name; Text the check as written (for a
	// baseline figure, its expression).
	Check string `json:"check"`
	Text  string `json:"text"`
	// Value is the value expression; Of and Where what it was evaluated
	// over; At the path projected.* figures were projected to.
	Value string `json:"value"`
	Of    Scope  `json:"of"`
	Where string `json:"where,omitempty"`
	At    string `json:"at,omitempty"`
	// Measured is the value, in Unit (for a check judged per item: the
	// value of the worst item). Absent, when set, says why there is none:
	// then the check failed.
	Measured float64 `json:"measured"`
	Unit     string  `json:"unit"`
	Absent   string  `json:"absent,omitempty"`
	// Limit is the limit with its bound resolved, such as "<= 5.000 s".
	Limit string `json:"limit"`
	// Baseline is the baseline value the check compared with; Change the
	// relative change from it (0.1 = 10 % more).
	Baseline *float64 `json:"baseline,omitempty"`
	Change   float64  `json:"change,omitempty"`
	// Pass is the verdict; Improved marks a baseline figure that moved
	// beyond the tolerance in the better direction (reported, not failed).
	Pass     bool `json:"pass"`
	Improved bool `json:"improved,omitempty"`
	// Items counts the items selected. PerItem is set for a check
	// without aggregate, judged on each item: Failing counts those that
	// broke the limit and Lacking those without the value.
	Items   int  `json:"items"`
	PerItem bool `json:"per_item,omitempty"`
	Failing int  `json:"failing,omitempty"`
	Lacking int  `json:"lacking,omitempty"`
	// Worst is, for a failed check, the item that broke the limit (the
	// worst item of a check judged per item, the one whose value a max or
	// min is) or, for a sum, mean, quantile or ratio, the item whose own
	// value is the worst; for a passed check judged per item, the worst.
	Worst *Item `json:"worst,omitempty"`

	unit       unit
	named      bool // the check has a name of its own
	regression bool // a baseline figure
	pinpoint   bool // Worst's own value is the value: it broke the limit
}

// Line is the result as one readable line, such as
//
//	FAIL  rtt10-pg-chatty.pcap  session at 150 ms: max(projected.duration_s) = 31.135 s at 150ms, limit <= 5.000 s; broken by conn 1 ...
//
// (the trace left out when empty).
func (r *Result) Line(trace string) string {
	var b strings.Builder
	switch {
	case !r.Pass:
		b.WriteString("FAIL  ")
	case r.Improved:
		b.WriteString("PASS+ ")
	default:
		b.WriteString("PASS  ")
	}
	if trace != "" {
		b.WriteString(trace + "  ")
	}
	if r.named {
		b.WriteString(r.Check + ": ")
	}
	b.WriteString(r.Value)
	if r.Absent != "" {
		b.WriteString(" absent: " + r.Absent)
	} else {
		b.WriteString(" = " + format(r.Measured, r.unit))
	}
	if r.At != "" {
		b.WriteString(" at " + r.At)
	}
	if r.Where != "" && !r.regression {
		b.WriteString(" [" + r.Where + "]")
	}
	if r.PerItem && r.Absent == "" && r.Items > 1 {
		fmt.Fprintf(&b, " (worst of %d %s", r.Items, r.Of.plural())
		if r.Failing > 0 {
			fmt.Fprintf(&b, ", %d over the limit", r.Failing)
		}
		if r.Lacking > 0 {
			fmt.Fprintf(&b, ", %d without a value", r.Lacking)
		}
		b.WriteString(")")
	}
	switch {
	case r.regression:
		b.WriteString("; baseline " + format(*r.Baseline, r.unit))
		if r.Absent == "" {
			b.WriteString(" (" + signedPct(r.Change, r.Measured, *r.Baseline) + "%)")
		}
		b.WriteString(", " + r.Limit)
	case r.Baseline != nil && r.Absent == "":
		b.WriteString(", limit " + r.Limit + " (" + signedPct(r.Change, r.Measured, *r.Baseline) + "% from baseline)")
	default:
		b.WriteString(", limit " + r.Limit)
	}
	if r.Improved {
		b.WriteString(": improved")
	}
	if !r.Pass && r.Worst != nil {
		if r.pinpoint {
			b.WriteString("; broken by " + r.Worst.String())
		} else {
			b.WriteString("; worst " + r.Worst.String())
		}
		if r.Worst.Value != r.Measured {
			b.WriteString(" = " + format(r.Worst.Value, r.unit))
		}
	}
	return b.String()
}

// String is Line without the trace.
func (r *Result) String() string { return r.Line("") }

func signedPct(change, v, base float64) string {
	if base == 0 {
		if v == 0 {
			return "+0"
		}
		return "+inf"
	}
	return fmt.Sprintf("%+.1f", 100*change)
}

// format writes v in unit u.
func format(v float64, u unit) string {
	integral := v == math.Trunc(v) && math.Abs(v) < 1e15
	switch u {
	case unitSeconds:
		if v != 0 && math.Abs(v) < 1 {
			return fmt.Sprintf("%.3f ms", 1e3*v)
		}
		return fmt.Sprintf("%.3f s", v)
	case unitMillis:
		return fmt.Sprintf("%.3f ms", v)
	case unitBytes:
		if integral {
			return fmt.Sprintf("%.0f B", v)
		}
		return fmt.Sprintf("%.1f B", v)
	case unitFraction:
		return fmt.Sprintf("%.1f%%", 100*v)
	case unitRate:
		return fmt.Sprintf("%.0f B/s", v)
	case unitCount:
		if integral {
			return fmt.Sprintf("%.0f", v)
		}
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

// pathString writes a path as compare's table does: "150ms", "150ms 2000
// kbit/s", "2000 kbit/s".
func pathString(w explain.WhatIf) string {
	var parts []string
	if w.RTT > 0 {
		parts = append(parts, w.RTT.String())
	}
	if w.Rate > 0 {
		parts = append(parts, fmt.Sprintf("%.0f kbit/s", float64(w.Rate)/1000))
	}
	return strings.Join(parts, " ")
}

// JUnit XML, the shape CI systems read: a testsuite per trace, a testcase
// per check.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the reports as JUnit XML: one testsuite per trace,
// one testcase per check (a failure element for a failed check, an error
// element for a trace that could not be read).
func WriteJUnit(w io.Writer, reports []*Report) error {
	doc := junitSuites{Name: "budget"}
	for _, r := range reports {
		s := junitSuite{Name: r.Trace}
		if r.Error != "" {
			s.Tests, s.Errors = 1, 1
			s.Cases = append(s.Cases, junitCase{Name: "read " + r.Trace, Classname: "budget",
				Error: &junitProblem{Message: r.Error, Type: "error", Text: r.Error}})
		}
		for i := range r.Results {
			res := &r.Results[i]
			c := junitCase{Name: res.Check, Classname: "budget." + r.Trace, SystemOut: res.String()}
			if !res.Pass {
				c.Failure = &junitProblem{Message: res.String(), Type: "budget", Text: res.Line(r.Trace)}
				s.Failures++
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
