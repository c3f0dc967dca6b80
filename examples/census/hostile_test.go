package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/examples/internal/hostile"
	"github.com/netecology/netecology/flow/flowtest"
)

func jsonOf(t *testing.T, stdin io.Reader, args ...string) map[string]any {
	t.Helper()
	var out, errb bytes.Buffer
	require.Equal(t, 0, run(append([]string{"-json", "-q"}, args...), stdin, &out, &errb), errb.String())
	m, err := hostile.Object(out.Bytes())
	require.NoError(t, err)
	return m
}

// Standard input and two rotated files give the file's census.
func TestStdinAndRotated(t *testing.T) {
	path := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-pg-chatty.pcap")
	want := hostile.SameFromStdinAndRotated(t, path, func(stdin io.Reader, arg string) map[string]any { return jsonOf(t, stdin, arg) })
	p, c, err := hostile.Accounting(want["summary"].(map[string]any))
	require.NoError(t, err)
	assert.Equal(t, [2]uint64{415, 1}, [2]uint64{p, c}, "flows: 415 packets, one connection")
}

// The corpus's crashers: whole JSON with the packet accounting (27, 4
// and 24 packets, 13 of them dated outside the years 1-9999; see flows'
// TestCrasherJSONYearTsres).
func TestCrashers(t *testing.T) {
	dir := flowtest.CorpusDir(t, "crashers")
	for _, tc := range []struct {
		file           string
		packets, conns uint64
	}{{"coverage-fill-oob.pcap", 27, 1}, {"unique-bytes-overcount.pcap", 4, 1}, {"json-year-tsres.pcapng", 24, 11}} {
		m := jsonOf(t, nil, "-workers", "2", filepath.Join(dir, tc.file))
		p, c, err := hostile.Accounting(m["summary"].(map[string]any))
		require.NoError(t, err, tc.file)
		assert.Equal(t, [2]uint64{tc.packets, tc.conns}, [2]uint64{p, c}, tc.file)
	}
}

// TestMutants runs census -json and its text on the mutation campaign's
// mutants (package examples/internal/hostile): no panic, exit status 0,
// a whole JSON object whose accounting holds with every packet read.
func TestMutants(t *testing.T) {
	tally := hostile.Each(t, func(m *flowtest.Mutant, path string, try func(hostile.Run) int, tally *hostile.Tally) error {
		var out bytes.Buffer
		var errs []error
		w := fmt.Sprint(1 + m.Index%2)
		if code := try(func(p string) int { return run([]string{"-json", "-q", "-workers", w, p}, nil, &out, io.Discard) }); code != 0 {
			errs = append(errs, fmt.Errorf("%w: -json: %d", hostile.ErrStatus, code))
		}
		obj, err := hostile.Object(out.Bytes())
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("%w: %v", hostile.ErrAborted, err))...)
		}
		sum, _ := obj["summary"].(map[string]any)
		pk, nc, err := hostile.Accounting(sum)
		if err != nil {
			errs = append(errs, err)
		}
		if want := hostile.Records(m.Data); pk != want {
			errs = append(errs, fmt.Errorf("%w: %d packets of %d", hostile.ErrAccounting, pk, want))
		}
		tally.Packets, tally.Conns = tally.Packets+pk, tally.Conns+nc
		out.Reset()
		if code := try(func(p string) int { return run([]string{"-q", "-workers", w, p}, nil, &out, io.Discard) }); code != 0 {
			errs = append(errs, fmt.Errorf("%w: text: %d", hostile.ErrStatus, code))
		}
		if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			errs = append(errs, fmt.Errorf("%w: text", hostile.ErrAborted))
		}
		return errors.Join(errs...)
	})
	t.Log(tally.Line("census"))
}
