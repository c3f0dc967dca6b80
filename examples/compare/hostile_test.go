package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/examples/internal/hostile"
	"github.com/netecology/netecology/flow/flowtest"
)

// The corpus's crashers (../shared/corpus/crashers, README there): no
// panic, a whole document with each capture's summary, and the figures
// tshark gives. coverage-fill-oob.pcap: 27 frames of 154 bytes, one
// direction (tshark -z conv,tcp), so 27 data segments of 100 bytes;
// unique-bytes-overcount.pcap: 4 frames of 154 bytes, 400 payload bytes;
// json-year-tsres.pcapng: 24 packets, 13 dated outside the years 1-9999
// (see flows' TestCrasherJSONYearTsres), 11 one-SYN connections.
func TestCrashers(t *testing.T) {
	dir := flowtest.CorpusDir(t, "crashers")
	for _, tc := range []struct {
		file                  string
		packets, tcp, skipped uint64
		conns, segs           int
		bytes                 uint64
	}{
		{"coverage-fill-oob.pcap", 27, 27, 0, 1, 27, 2700},
		{"unique-bytes-overcount.pcap", 4, 4, 0, 1, 4, 400},
		{"json-year-tsres.pcapng", 24, 11, 13, 11, 0, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			d, code := runJSON(t, []string{filepath.Join(dir, tc.file)}, options{n: 20, workers: 2}, nil)
			require.Equal(t, 0, code)
			require.Len(t, d.Captures, 1)
			c := d.Captures[0]
			require.NotNil(t, c.Summary)
			assert.Equal(t, tc.packets, c.Summary.Packets)
			assert.Equal(t, tc.tcp, c.Summary.TCPPackets)
			assert.Equal(t, tc.skipped, c.Summary.Skipped["timestamp_out_of_range"])
			require.Len(t, c.Conns, tc.conns)
			assert.Equal(t, tc.conns, c.Summary.Connections)
			var segs, nbytes uint64
			for _, x := range c.Conns {
				segs += x.SegmentsC2S.Segments + x.SegmentsS2C.Segments
				nbytes += x.SegmentsC2S.Bytes + x.SegmentsS2C.Bytes
			}
			assert.EqualValues(t, tc.segs, segs)
			assert.Equal(t, tc.bytes, nbytes)
			assert.NotEmpty(t, d.Conclusion)

			var out, errOut bytes.Buffer
			require.Equal(t, 0, run([]string{filepath.Join(dir, tc.file)}, options{n: 20, sortBy: "lost"}, nil, &out, &errOut))
			assert.True(t, strings.HasPrefix(out.String(), "conclusion: "), out.String())
		})
	}
}

// TestMutants runs compare (-json and the table) on the mutation
// campaign's mutants (see package examples/internal/hostile): no panic,
// exit status 0, a whole JSON document whose capture has its summary,
// the accounting holding and every connection it counts explained.
func TestMutants(t *testing.T) {
	tally := hostile.Each(t, func(m *flowtest.Mutant, path string, try func(hostile.Run) int, tally *hostile.Tally) error {
		var errs []error
		var out bytes.Buffer
		o := options{asJSON: true, n: 20, sortBy: "lost", workers: 1 + m.Index%2}
		if code := try(func(p string) int { out.Reset(); return run([]string{p}, o, nil, &out, io.Discard) }); code != 0 {
			errs = append(errs, fmt.Errorf("%w: -json: %d", hostile.ErrStatus, code))
		}
		if err := checkDoc(out.Bytes(), tally); err != nil {
			errs = append(errs, err)
		}
		o.asJSON = false
		if code := try(func(p string) int { out.Reset(); return run([]string{p}, o, nil, &out, io.Discard) }); code != 0 {
			errs = append(errs, fmt.Errorf("%w: table: %d", hostile.ErrStatus, code))
		}
		if !strings.HasPrefix(out.String(), "conclusion: ") || !strings.HasSuffix(out.String(), "\n") {
			errs = append(errs, fmt.Errorf("%w: table: %q", hostile.ErrAborted, out.String()))
		}
		return errors.Join(errs...)
	})
	t.Log(tally.Line("compare"))
}

// checkDoc checks a -json document of one capture.
func checkDoc(b []byte, tally *hostile.Tally) error {
	m, err := hostile.Object(b)
	if err != nil {
		return fmt.Errorf("%w: %v", hostile.ErrAborted, err)
	}
	caps, _ := m["captures"].([]any)
	if len(caps) != 1 || m["conclusion"] == nil || m["subjects"] == nil {
		return fmt.Errorf("%w: %d captures, conclusion %v", hostile.ErrAborted, len(caps), m["conclusion"] != nil)
	}
	c, _ := caps[0].(map[string]any)
	sum, ok := c["summary"].(map[string]any)
	if !ok {
		return fmt.Errorf("%w: no summary", hostile.ErrAborted)
	}
	pk, nc, err := hostile.Accounting(sum)
	conns, _ := c["conns"].([]any)
	if uint64(len(conns)) != nc {
		err = errors.Join(err, fmt.Errorf("%w: %d connections explained of %d", hostile.ErrAccounting, len(conns), nc))
	}
	tally.Packets += pk
	tally.Conns += uint64(len(conns))
	if _, e := json.Marshal(m); e != nil {
		err = errors.Join(err, e)
	}
	return err
}
