package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/examples/internal/hostile"
	"github.com/netecology/netecology/flow/flowtest"
)

// theSpec is the committed budget (testdata/budget/budget.yaml).
var theSpec = filepath.Join(flowtest.RepoRoot(), "testdata", "budget", "budget.yaml")

// checkJSON runs check -json and decodes its document.
func checkJSON(t *testing.T, stdin io.Reader, trace string) (output, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run([]string{"check", "-json", "-q", "-spec", theSpec, trace}, stdin, &out, &errb)
	var doc output
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), errb.String())
	return doc, code
}

// Standard input and two rotated files are checked as the file is.
func TestStdinAndRotated(t *testing.T) {
	path := lab("rtt10-http-bulk.pcap")
	want, code := checkJSON(t, nil, path)
	require.Equal(t, 0, code)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, code := checkJSON(t, f, "-")
	require.Equal(t, 0, code)
	assert.Equal(t, "-", got.Reports[0].Trace)
	got.Reports[0].Trace = want.Reports[0].Trace
	assert.Equal(t, want, got)
	a, b := hostile.Split(t, path)
	got, code = checkJSON(t, nil, a+","+b)
	require.Equal(t, 0, code)
	got.Reports[0].Trace = want.Reports[0].Trace
	assert.Equal(t, want, got)
	assert.Equal(t, 4, want.Checks, "the budget's four checks")

	var errb bytes.Buffer
	assert.Equal(t, exitBad, run([]string{"record", a + "," + b}, nil, io.Discard, &errb))
	assert.Contains(t, errb.String(), "record reads one file or standard input")
	assert.Equal(t, exitBad, run([]string{"check", "-spec", theSpec, "-", "-"}, nil, io.Discard, &errb))
}

// The corpus's crashers are checked to the end: every check judged, none
// unreadable.
func TestCrashers(t *testing.T) {
	dir := flowtest.CorpusDir(t, "crashers")
	for _, name := range []string{"coverage-fill-oob.pcap", "unique-bytes-overcount.pcap", "json-year-tsres.pcapng"} {
		doc, code := checkJSON(t, nil, filepath.Join(dir, name))
		assert.LessOrEqual(t, code, exitFail, name)
		require.Len(t, doc.Reports, 1, name)
		assert.Empty(t, doc.Reports[0].Error, name)
		assert.Equal(t, 4, doc.Checks, name)
		assert.Equal(t, doc.Checks, doc.Passed+doc.Failed, name)
	}
}

// TestMutants checks the committed budget on the mutation campaign's
// mutants (package examples/internal/hostile): no panic, exit status 0
// or 1 (a check failed), a whole JSON document, every check judged and
// no trace unreadable.
func TestMutants(t *testing.T) {
	tally := hostile.Each(t, func(m *flowtest.Mutant, path string, try func(hostile.Run) int, tally *hostile.Tally) error {
		var out bytes.Buffer
		code := try(func(p string) int {
			return run([]string{"check", "-json", "-q", "-spec", theSpec, p}, nil, &out, io.Discard)
		})
		var errs []error
		if code > exitFail || code < 0 {
			errs = append(errs, fmt.Errorf("%w: %d", hostile.ErrStatus, code))
		}
		var doc output
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			return errors.Join(append(errs, fmt.Errorf("%w: %v", hostile.ErrAborted, err))...)
		}
		if len(doc.Reports) != 1 || doc.Errors != 0 || doc.Checks != 4 || doc.Passed+doc.Failed != 4 {
			errs = append(errs, fmt.Errorf("%w: %d reports, %d errors, %d checks (%d passed, %d failed)",
				hostile.ErrAccounting, len(doc.Reports), doc.Errors, doc.Checks, doc.Passed, doc.Failed))
		}
		return errors.Join(errs...)
	})
	t.Log(tally.Line("budget"))
}
