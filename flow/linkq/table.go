package linkq

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// FileReport is the report of one capture file, with the file's name and
// the error that cut its analysis short, if any (the report then covers
// what was read). It is what the linkq tool prints with -json.
type FileReport struct {
	File  string `json:"file"`
	Error string `json:"error,omitempty"`
	*Report
}

// Table is part of one or more reports laid out as rows of text cells
// under a header: numbers formatted to fixed decimals, "-" for a figure
// not determined. WriteCSV and WriteText write it.
type Table struct {
	Header []string
	Rows   [][]string
}

// WriteCSV writes the table as CSV (RFC 4180), the header first.
func (t Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes the table as text in aligned columns, two spaces
// apart, the header first.
func (t Table) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Header, "\t"))
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// column is one column of a table over rows of type R.
type column[R any] struct {
	name string
	cell func(R) string
}

// table lays rows out in the given columns.
func table[R any](cols []column[R], rows []R) Table {
	t := Table{Header: make([]string, len(cols)), Rows: make([][]string, 0, len(rows))}
	for i, c := range cols {
		t.Header[i] = c.name
	}
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = c.cell(r)
		}
		t.Rows = append(t.Rows, cells)
	}
	return t
}

func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
func f4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
func g4(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
func itoa(v int) string   { return strconv.Itoa(v) }
func utoa(v uint64) string {
	return strconv.FormatUint(v, 10)
}

// lineCell formats one figure of a line, or "-" when the line is not
// determined.
func lineCell(l Line, f func(float64) string, v float64) string {
	if !l.OK {
		return "-"
	}
	return f(v)
}

// pathRow is one path of one file.
type pathRow struct {
	file string
	p    *PathFit
}

func pathRows(reps []FileReport) []pathRow {
	var rows []pathRow
	for _, r := range reps {
		if r.Report == nil {
			continue
		}
		for i := range r.Paths {
			rows = append(rows, pathRow{r.File, &r.Paths[i]})
		}
	}
	return rows
}

func estimatedCell(r pathRow) string {
	if r.p.EstimatedSlopeUsPerByte > 0 {
		return f4(r.p.EstimatedSlopeUsPerByte)
	}
	return "-"
}

func theilSenCell(r pathRow) string {
	if r.p.Robust.OK {
		return f4(r.p.Robust.SlopeUsPerByte)
	}
	return "-"
}

// echoCell formats one echo counter of the path, empty for a TCP path.
func echoCell(f func(*PathEchoes) int) func(pathRow) string {
	return func(r pathRow) string {
		if r.p.Echoes == nil {
			return ""
		}
		return itoa(f(r.p.Echoes))
	}
}

// fitLineColumns are the columns of a line: intercept, slopes, residual.
func fitLineColumns(l func(pathRow) Line) []column[pathRow] {
	return []column[pathRow]{
		{"intercept_ms", func(r pathRow) string { x := l(r); return lineCell(x, f3, units.Ms(x.Intercept)) }},
		{"slope_us_per_byte", func(r pathRow) string { x := l(r); return lineCell(x, f4, x.SlopeUsPerByte) }},
		{"slope_s_per_bit", func(r pathRow) string { x := l(r); return lineCell(x, g4, x.SlopeSPerBit) }},
		{"rms_ms", func(r pathRow) string { x := l(r); return lineCell(x, f3, units.Ms(x.RMSResid)) }},
	}
}

func fit(r pathRow) Line    { return r.p.Fit }
func minFit(r pathRow) Line { return r.p.MinFit }

var fitColumns = func() []column[pathRow] {
	cols := []column[pathRow]{
		{"file", func(r pathRow) string { return r.file }},
		{"source", func(r pathRow) string { return r.p.Source.String() }},
		{"src", func(r pathRow) string { return r.p.Src.String() }},
		{"dst", func(r pathRow) string { return r.p.Dst.String() }},
		{"size", func(r pathRow) string { return r.p.Size.String() }},
		{"n", func(r pathRow) string { return itoa(r.p.Samples) }},
		{"size_min", func(r pathRow) string { return itoa(r.p.SizeMin) }},
		{"size_max", func(r pathRow) string { return itoa(r.p.SizeMax) }},
	}
	cols = append(cols, fitLineColumns(fit)...)
	cols = append(cols, column[pathRow]{"estimated_us_per_byte", estimatedCell})
	m := fitLineColumns(minFit)
	m[0].name, m[1].name, m[3].name = "min_intercept_ms", "min_slope_us_per_byte", "min_rms_ms"
	cols = append(cols, m[0], m[1], m[3],
		column[pathRow]{"theil_sen_slope_us_per_byte", theilSenCell},
		column[pathRow]{"echo_requests", echoCell(func(e *PathEchoes) int { return e.Requests })},
		column[pathRow]{"echo_lost", echoCell(func(e *PathEchoes) int { return e.Lost })},
		column[pathRow]{"echo_corrupted", echoCell(func(e *PathEchoes) int { return e.Corrupted })})
	return cols
}()

// FitTable lays out the RTT-versus-size analysis of every path of the
// reports (Meek et al.'s Table 1), one row per path and file, one column
// per figure: file, source, src, dst, size basis, samples, size range,
// the least-squares line (intercept ms, slope µs/byte and s/bit, RMS ms),
// the estimated slope, the line through the per-bin minima (intercept,
// slope, RMS), the Theil–Sen slope, and for echo paths the requests, lost
// and corrupted echoes.
func FitTable(reps []FileReport) Table { return table(fitColumns, pathRows(reps)) }

// lostCell writes an echo path's losses as "lost/requests", with the
// corrupted replies when there were any; "-" for a TCP path.
func lostCell(r pathRow) string {
	e := r.p.Echoes
	if e == nil {
		return "-"
	}
	s := itoa(e.Lost) + "/" + itoa(e.Requests)
	if e.Corrupted != 0 {
		s += " (" + itoa(e.Corrupted) + " corrupted)"
	}
	return s
}

var fitSummaryColumns = func() []column[pathRow] {
	byName := map[string]column[pathRow]{}
	for _, c := range fitColumns {
		byName[c.name] = c
	}
	pick := func(name, as string) column[pathRow] { c := byName[name]; c.name = as; return c }
	return []column[pathRow]{
		pick("file", "file"), pick("source", "source"),
		{"path", func(r pathRow) string { return r.p.Src.String() + " -> " + r.p.Dst.String() }},
		pick("n", "n"),
		{"sizes", func(r pathRow) string { return itoa(r.p.SizeMin) + "-" + itoa(r.p.SizeMax) }},
		pick("intercept_ms", "intercept ms"), pick("slope_us_per_byte", "slope µs/B"),
		pick("slope_s_per_bit", "slope s/bit"), pick("rms_ms", "rms ms"),
		pick("estimated_us_per_byte", "est µs/B"),
		pick("min_intercept_ms", "min-line ms"), pick("min_slope_us_per_byte", "min-line µs/B"),
		pick("theil_sen_slope_us_per_byte", "Theil-Sen µs/B"),
		{"lost", lostCell},
	}
}()

// FitSummaryTable lays out the same analysis as FitTable for reading:
// the path as "src -> dst", the sizes as a range, no size basis, no RMS
// of the minimum line, and the echo losses as "lost/requests".
func FitSummaryTable(reps []FileReport) Table { return table(fitSummaryColumns, pathRows(reps)) }

// EchoTable lays out each report's echo counters (EchoStats), one row per
// file.
func EchoTable(reps []FileReport) Table {
	type row struct {
		file string
		e    *EchoStats
	}
	var rows []row
	for _, r := range reps {
		if r.Report != nil {
			rows = append(rows, row{r.File, &r.Echo})
		}
	}
	c := func(name string, f func(*EchoStats) uint64) column[row] {
		return column[row]{name, func(r row) string { return utoa(f(r.e)) }}
	}
	return table([]column[row]{
		{"file", func(r row) string { return r.file }},
		c("requests", func(e *EchoStats) uint64 { return e.Requests }),
		c("replies", func(e *EchoStats) uint64 { return e.Replies }),
		c("matched", func(e *EchoStats) uint64 { return e.Matched }),
		c("lost", func(e *EchoStats) uint64 { return e.Lost }),
		c("late", func(e *EchoStats) uint64 { return e.Late }),
		c("corrupted", func(e *EchoStats) uint64 { return e.Corrupted }),
		c("errored", func(e *EchoStats) uint64 { return e.Errored }),
		c("duplicates", func(e *EchoStats) uint64 { return e.Duplicates }),
		c("orphans", func(e *EchoStats) uint64 { return e.Orphans }),
		c("icmp errors", func(e *EchoStats) uint64 { return e.ICMPErrors }),
		c("truncated", func(e *EchoStats) uint64 { return e.Truncated }),
		c("malformed", func(e *EchoStats) uint64 { return e.Malformed }),
	}, rows)
}

// useRow is one direction of one interval of one host pair.
type useRow struct {
	file     string
	start    time.Time
	src, dst string
	bytes    uint64
	packets  uint64
	bps, pct float64
}

var useColumns = []column[useRow]{
	{"file", func(r useRow) string { return r.file }},
	{"start", func(r useRow) string { return r.start.Format(time.RFC3339) }},
	{"src", func(r useRow) string { return r.src }},
	{"dst", func(r useRow) string { return r.dst }},
	{"bytes", func(r useRow) string { return utoa(r.bytes) }},
	{"packets", func(r useRow) string { return utoa(r.packets) }},
	{"bps", func(r useRow) string { return f3(r.bps) }},
	{"pct", func(r useRow) string { return f3(r.pct) }},
}

// UseTable lays out the link use of the reports: two rows per interval
// and host pair, A→B then B→A, with the file, the interval's start
// (RFC 3339), source, destination, frame bytes, packets, mean rate (bit/s)
// and its percentage of the committed rate.
func UseTable(reps []FileReport) Table {
	var rows []useRow
	for _, r := range reps {
		if r.Report == nil {
			continue
		}
		for _, pu := range r.Use.Pairs {
			a, b := pu.A.String(), pu.B.String()
			for _, x := range pu.Bins {
				rows = append(rows,
					useRow{r.File, x.Start, a, b, x.BytesAB, x.PacketsAB, float64(x.RateAB), x.PctAB},
					useRow{r.File, x.Start, b, a, x.BytesBA, x.PacketsBA, float64(x.RateBA), x.PctBA})
			}
		}
	}
	return table(useColumns, rows)
}

// checkRow is one check of one verdict of one file.
type checkRow struct {
	file string
	v    *Verdict
	c    *Check
}

var verdictColumns = []column[checkRow]{
	{"file", func(r checkRow) string { return r.file }},
	{"conn", func(r checkRow) string { return itoa(r.v.Conn) }},
	{"client", func(r checkRow) string { return r.v.Client.String() }},
	{"server", func(r checkRow) string { return r.v.Server.String() }},
	{"data_dir", func(r checkRow) string { return r.v.DataDir }},
	{"check", func(r checkRow) string { return r.c.Name }},
	{"dir", func(r checkRow) string { return r.c.Dir }},
	{"level", func(r checkRow) string { return r.c.Level.String() }},
	{"measured", func(r checkRow) string { return g4(r.c.Measured) }},
	{"limit", func(r checkRow) string { return g4(r.c.Limit) }},
	{"message", func(r checkRow) string { return r.c.Message }},
	{"action", func(r checkRow) string { return r.c.Action }},
}

// checkRows returns every check of every verdict of the reports.
func checkRows(reps []FileReport) []checkRow {
	var rows []checkRow
	for _, r := range reps {
		if r.Report == nil {
			continue
		}
		for i := range r.Verdicts {
			v := &r.Verdicts[i]
			for j := range v.Checks {
				rows = append(rows, checkRow{r.File, v, &v.Checks[j]})
			}
		}
	}
	return rows
}

// VerdictTable lays out the verdicts of the reports, one row per check:
// file, connection, client, server, data direction, check, its direction,
// level, measured value, limit, message and action.
func VerdictTable(reps []FileReport) Table { return table(verdictColumns, checkRows(reps)) }

// WriteVerdicts writes the verdicts of the reports as text, pathdiag
// style: per connection a line with the file, the connection, the target
// (rate at the round-trip time rtt) and the overall level, then a line
// per check with its level, name and message, and for a warning or
// failure its action.
func WriteVerdicts(w io.Writer, reps []FileReport, rtt time.Duration) error {
	ew := &errWriter{w: w}
	for _, r := range reps {
		if r.Report == nil {
			continue
		}
		for _, v := range r.Verdicts {
			ew.printf("%s conn %d %s -> %s (data %s), target %s at %s: %s\n", r.File, v.Conn, v.Client, v.Server,
				v.DataDir, v.TargetRate.String(), rtt, strings.ToUpper(v.Overall.String()))
			for _, c := range v.Checks {
				ew.printf("  %-7s %-11s %s\n", c.Level, c.Name, c.Message)
				if c.Action != "" {
					ew.printf("  %-7s %-11s action: %s\n", "", "", c.Action)
				}
			}
		}
	}
	return ew.err
}

// errWriter formats to w until a write fails, and keeps that error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
