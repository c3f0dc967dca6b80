package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/examples/internal/hostile"
	"github.com/netecology/netecology/flow/flowtest"
)

// counts reads the summary netlog writes on standard error: the packets
// read.
var counts = regexp.MustCompile(`(?m)^netlog: (\d+) packets, \{.*\}$`)

// The corpus's crashers: whole JSON lines, and every packet read (27, 4
// and 24: tshark and flows' TestCrasherJSONYearTsres).
func TestCrashers(t *testing.T) {
	dir := flowtest.CorpusDir(t, "crashers")
	for _, tc := range []struct {
		file    string
		packets string
	}{{"coverage-fill-oob.pcap", "27"}, {"unique-bytes-overcount.pcap", "4"}, {"json-year-tsres.pcapng", "24"}} {
		var out, errb bytes.Buffer
		require.Equal(t, 0, run([]string{"-json", "-workers", "2", filepath.Join(dir, tc.file)}, nil, &out, &errb), errb.String())
		_, err := hostile.Lines(out.Bytes())
		require.NoError(t, err, tc.file)
		m := counts.FindStringSubmatch(errb.String())
		require.NotNil(t, m, errb.String())
		assert.Equal(t, tc.packets, m[1], tc.file)
	}
}

// Two rotated files joined by a comma are the file.
func TestRotated(t *testing.T) {
	path := lab("wan2m-pg-chatty.pcap")
	a, b := hostile.Split(t, path)
	var want, got bytes.Buffer
	require.Equal(t, 0, run([]string{"-q", path}, nil, &want, io.Discard))
	require.Equal(t, 0, run([]string{"-q", a + "," + b}, nil, &got, io.Discard))
	assert.True(t, want.String() == got.String(), "the events differ")
	assert.NotEmpty(t, want.String())
}

// TestMutants runs netlog -json on the mutation campaign's mutants
// (package examples/internal/hostile): no panic, exit status 0, whole
// JSON lines, and the summary on standard error counting every packet of
// the capture.
func TestMutants(t *testing.T) {
	tally := hostile.Each(t, func(m *flowtest.Mutant, path string, try func(hostile.Run) int, tally *hostile.Tally) error {
		var out, errb bytes.Buffer
		var errs []error
		if code := try(func(p string) int {
			return run([]string{"-json", "-workers", fmt.Sprint(1 + m.Index%2), p}, nil, &out, &errb)
		}); code != 0 {
			errs = append(errs, fmt.Errorf("%w: %d", hostile.ErrStatus, code))
		}
		if _, err := hostile.Lines(out.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("%w: %v", hostile.ErrAborted, err))
		}
		c := counts.FindStringSubmatch(errb.String())
		if c == nil {
			return errors.Join(append(errs, fmt.Errorf("%w: no summary: %s", hostile.ErrAborted, errb.String()))...)
		}
		n, _ := strconv.ParseUint(c[1], 10, 64)
		if want := hostile.Records(m.Data); n != want {
			errs = append(errs, fmt.Errorf("%w: %d packets of %d", hostile.ErrAccounting, n, want))
		}
		tally.Packets += n
		return errors.Join(errs...)
	})
	t.Log(tally.Line("netlog"))
}
