package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/netecology/netecology/examples/internal/hostile"
	"github.com/netecology/netecology/flow/flowtest"
)

// TestMutants runs flows in every mode on the mutants of the mutation
// campaign (package examples/internal/hostile: 50 by default,
// NETECOLOGY_MUTANTS for more), with one worker and with two in turn:
// no panic, exit status 0, JSON lines complete and ending with their
// summary, the packet accounting whole (packets = tcp + other + skipped,
// the connections holding the TCP packets), no direction with more unique
// bytes than payload bytes, and the text outputs ending with their last
// line.
func TestMutants(t *testing.T) {
	defer func(w int) { workers = w }(workers)
	explainEnd := regexp.MustCompile(`(?m)^\d+ labelled lines in \d+ connections\n\z`)
	tally := hostile.Each(t, func(m *flowtest.Mutant, path string, try func(hostile.Run) int, tally *hostile.Tally) error {
		workers = 1 + m.Index%2
		var errs []error
		var out bytes.Buffer
		mode := func(name string, f func(path string) int, ends func(string) bool) {
			out.Reset()
			if code := try(f); code != 0 {
				errs = append(errs, fmt.Errorf("%w: %s: %d", hostile.ErrStatus, name, code))
			}
			if ends != nil && !ends(out.String()) {
				errs = append(errs, fmt.Errorf("%w: %s: output ends %q", hostile.ErrAborted, name, tail(out.String())))
			}
		}
		suffix := func(s string) func(string) bool { return func(o string) bool { return strings.HasSuffix(o, s) } }
		mode("-json", func(p string) int { return run([]string{p}, true, nil, &out, io.Discard) }, nil)
		if err := hostile.ConnLines(out.Bytes(), tally); err != nil {
			errs = append(errs, fmt.Errorf("-json: %w", err))
		}
		mode("table", func(p string) int { return run([]string{p}, false, nil, &out, io.Discard) }, suffix("* = picked up mid-stream\n"))
		mode("-transactions -json", func(p string) int { return runTransactions([]string{p}, true, nil, &out, io.Discard) }, nil)
		if err := txLines(out.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("-transactions -json: %w", err))
		}
		mode("-transactions", func(p string) int { return runTransactions([]string{p}, false, nil, &out, io.Discard) },
			suffix("(cut by the end of the capture, or lost in a gap)\n"))
		mode("-explain", func(p string) int { return runExplain([]string{p}, nil, &out, io.Discard) }, explainEnd.MatchString)
		return errors.Join(errs...)
	})
	t.Log(tally.Line("flows"))
}

// txLines checks -transactions -json: JSON lines of transactions, then
// statements, then the summary, whose accounting holds and which counts
// the lines before it.
func txLines(out []byte) error {
	recs, err := hostile.Lines(out)
	if err != nil {
		return fmt.Errorf("%w: %v", hostile.ErrAborted, err)
	}
	if len(recs) == 0 || recs[len(recs)-1]["type"] != "summary" {
		return fmt.Errorf("%w: no summary last", hostile.ErrAborted)
	}
	sum := recs[len(recs)-1]
	var tx, st uint64
	for _, r := range recs[:len(recs)-1] {
		switch r["type"] {
		case "transaction":
			tx++
		case "statement":
			st++
		default:
			return fmt.Errorf("%w: a line of type %v", hostile.ErrAborted, r["type"])
		}
	}
	_, _, err = hostile.Accounting(sum)
	ntx, _ := hostile.Uint(sum, "transactions")
	nst, _ := hostile.Uint(sum, "statements")
	if ntx != tx || nst != st {
		err = errors.Join(err, fmt.Errorf("%w: %d transaction and %d statement lines, the summary says %d and %d",
			hostile.ErrAccounting, tx, st, ntx, nst))
	}
	return err
}

func tail(s string) string {
	if len(s) > 80 {
		return s[len(s)-80:]
	}
	return s
}
