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

// jsonOf runs the tool with -json on one capture and decodes its object;
// the exit status must be 0, or 1 when a verdict failed.
func jsonOf(t *testing.T, stdin io.Reader, args ...string) map[string]any {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"-json", "-q"}, args...), stdin, &out, &errb)
	if code == 1 {
		require.Contains(t, errb.String(), "failed the verdict")
	} else {
		require.Equal(t, 0, code, errb.String())
	}
	m, err := hostile.Object(out.Bytes())
	require.NoError(t, err)
	return m
}

// Standard input and two rotated files give the file's report.
func TestStdinAndRotated(t *testing.T) {
	path := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-ping-sweep.pcap")
	want := hostile.SameFromStdinAndRotated(t, path, func(stdin io.Reader, arg string) map[string]any { return jsonOf(t, stdin, arg) })
	assert.EqualValues(t, "200", fmt.Sprint(want["echo"].(map[string]any)["matched"]), "the sweep's 200 echoes (groundtruth.json)")
}

// Many connections with a target: the first -max-verdicts ids are judged
// and the rest counted; all of them with -max-verdicts 0.
func TestMaxVerdicts(t *testing.T) {
	const n = 3000
	path := hostile.Flood(t, n, 1000)
	args := []string{"-target-rtt", "150ms", "-target-rate", "2M"}
	m := jsonOf(t, nil, append(args, "-max-verdicts", "100", path)...)
	assert.Len(t, m["verdicts"], 100)
	assert.EqualValues(t, fmt.Sprint(n-100), fmt.Sprint(m["unjudged"]))
	m = jsonOf(t, nil, append(args, "-max-verdicts", "0", path)...)
	assert.Len(t, m["verdicts"], n)
	assert.Nil(t, m["unjudged"])
}

// The corpus's crashers: whole JSON with the packet accounting (27, 4
// and 24 packets, 13 of them dated outside the years 1-9999; see flows'
// TestCrasherJSONYearTsres), a verdict per connection.
func TestCrashers(t *testing.T) {
	dir := flowtest.CorpusDir(t, "crashers")
	for _, tc := range []struct {
		file           string
		packets, conns uint64
	}{{"coverage-fill-oob.pcap", 27, 1}, {"unique-bytes-overcount.pcap", 4, 1}, {"json-year-tsres.pcapng", 24, 11}} {
		m := jsonOf(t, nil, "-target-rtt", "150ms", "-target-rate", "2M", "-workers", "2", filepath.Join(dir, tc.file))
		sum, ok := m["summary"].(map[string]any)
		require.True(t, ok, tc.file)
		p, c, err := hostile.Accounting(sum)
		require.NoError(t, err)
		assert.Equal(t, tc.packets, p, tc.file)
		assert.Equal(t, tc.conns, c, tc.file)
		assert.Len(t, m["verdicts"], int(tc.conns), tc.file)
	}
}

// TestMutants runs linkq -json with a target, and the text, on the
// mutation campaign's mutants (package examples/internal/hostile): no
// panic, exit status 0 or 1 (a verdict failed), a whole JSON object
// whose accounting holds, every packet of the capture read and every
// connection judged.
func TestMutants(t *testing.T) {
	tally := hostile.Each(t, func(m *flowtest.Mutant, path string, try func(hostile.Run) int, tally *hostile.Tally) error {
		var out bytes.Buffer
		args := []string{"-json", "-q", "-target-rtt", "150ms", "-target-rate", "2M", "-workers", fmt.Sprint(1 + m.Index%2)}
		var errs []error
		if code := try(func(p string) int { return run(append(args, p), nil, &out, io.Discard) }); code > 1 {
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
		if v, _ := obj["verdicts"].([]any); uint64(len(v)) != nc {
			errs = append(errs, fmt.Errorf("%w: %d verdicts for %d connections", hostile.ErrAccounting, len(v), nc))
		}
		tally.Packets, tally.Conns = tally.Packets+pk, tally.Conns+nc
		out.Reset()
		if code := try(func(p string) int { return run([]string{"-q", p}, nil, &out, io.Discard) }); code != 0 {
			errs = append(errs, fmt.Errorf("%w: text: %d", hostile.ErrStatus, code))
		}
		if !bytes.HasSuffix(out.Bytes(), []byte("\n\n")) {
			errs = append(errs, fmt.Errorf("%w: text ends %q", hostile.ErrAborted, out.Bytes()[max(0, out.Len()-40):]))
		}
		return errors.Join(errs...)
	})
	t.Log(tally.Line("linkq"))
}
