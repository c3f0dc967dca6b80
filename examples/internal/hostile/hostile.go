// Package hostile runs the example tools on hostile input in their
// tests: the mutants of the mutation campaign (flowtest.Campaign over the
// committed lab captures, 1 to 8 bytes flipped anywhere in the packet
// data) and the checks that what a tool wrote is whole and adds up.
//
// Each tool's TestMutants runs it on every mutant, in process, through
// the tool's own run function. By default a test runs 50 mutants (so CI
// keeps the campaign); NETECOLOGY_MUTANTS=N runs N and
// NETECOLOGY_MUTANT_SEED=S draws them from another seed (default 1).
// testdata/hostile/mutate.sh runs the full campaign over every tool and
// prints its figures; go run ./flow/flowtest/mutate -seed S -i N writes
// mutant N for the built tools.
package hostile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/netecology/netecology/flow/flowtest"
)

// DefaultMutants is how many mutants a test runs without
// NETECOLOGY_MUTANTS.
const DefaultMutants = 50

// Tally counts what a campaign found.
type Tally struct {
	Mutants int
	// Runs counts the tool runs (a tool run in several modes runs
	// several times per mutant).
	Runs int
	// Panics, Aborted (output cut short, not JSON, or without its
	// summary), Accounting (packets != tcp + other + skipped, or the
	// connections' packets != tcp_packets) and Unique (unique bytes above
	// payload bytes in a direction) count failed runs; Status counts exit
	// statuses outside those the tool documents.
	Panics, Aborted, Accounting, Unique, Status int
	// Conns and Packets add up the connections and packets the runs
	// reported.
	Conns, Packets uint64
}

// Line is the tally as the campaign script reads it.
func (t *Tally) Line(tool string) string {
	return fmt.Sprintf("mutants: tool %s, %d mutants, %d runs, %d panics, %d aborted outputs, %d accounting failures, "+
		"%d unique>payload, %d bad exit statuses; %d packets, %d connections reported",
		tool, t.Mutants, t.Runs, t.Panics, t.Aborted, t.Accounting, t.Unique, t.Status, t.Packets, t.Conns)
}

// Campaign returns the test's campaign over the committed lab captures
// and how many mutants to run.
func Campaign(t testing.TB) (*flowtest.Campaign, int) {
	t.Helper()
	n := DefaultMutants
	if s := os.Getenv("NETECOLOGY_MUTANTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			t.Fatalf("NETECOLOGY_MUTANTS=%q: want a count", s)
		}
		n = v
	}
	seed := uint64(1)
	if s := os.Getenv("NETECOLOGY_MUTANT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("NETECOLOGY_MUTANT_SEED=%q: want a number", s)
		}
		seed = v
	}
	src, err := flowtest.LabCaptures()
	if err != nil || len(src) == 0 {
		t.Fatalf("the lab captures: %v (%d found)", err, len(src))
	}
	return &flowtest.Campaign{Sources: src, Seed: seed}, n
}

// A Run is one run of a tool on a mutant: it returns the tool's exit
// status; it may panic (Each recovers and counts it).
type Run func(path string) int

// What a check finds wrong, counted in the Tally by kind (errors.Is).
var (
	ErrAborted    = errors.New("aborted output")
	ErrAccounting = errors.New("accounting")
	ErrUnique     = errors.New("unique bytes above payload")
	ErrStatus     = errors.New("exit status")
)

// Each runs check on every mutant of the test's campaign, the mutant
// written to a file (path) in a temporary folder. check runs the tool
// through run (which counts the run and recovers a panic, failing the
// test with the mutant's name and the stack) and returns what it found
// wrong (errors wrapping ErrAborted, ErrAccounting, ErrUnique, ErrStatus,
// joined), which fails the test with the mutant's name and is counted.
// It returns the tally, which the test logs.
func Each(t *testing.T, check func(m *flowtest.Mutant, path string, run func(Run) int, tally *Tally) error) *Tally {
	t.Helper()
	c, n := Campaign(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "mutant.pcap")
	tally := &Tally{}
	for i := range n {
		m, err := c.Mutant(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, m.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		tally.Mutants++
		run := func(r Run) (status int) {
			tally.Runs++
			defer func() {
				if v := recover(); v != nil {
					tally.Panics++
					t.Errorf("%s: panic: %v\n%s", m, v, debug.Stack())
					status = -1
				}
			}()
			return r(path)
		}
		if err := check(m, path, run, tally); err != nil {
			t.Errorf("%s: %v", m, err)
			for _, k := range []struct {
				err error
				n   *int
			}{{ErrAborted, &tally.Aborted}, {ErrAccounting, &tally.Accounting}, {ErrUnique, &tally.Unique}, {ErrStatus, &tally.Status}} {
				if errors.Is(err, k.err) {
					*k.n++
				}
			}
		}
	}
	return tally
}

// Lines reads JSON lines: every line must be one JSON value (numbers kept
// exact). It returns them in order.
func Lines(out []byte) ([]map[string]any, error) {
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for n := 1; sc.Scan(); n++ {
		m, err := Object(sc.Bytes())
		if err != nil {
			return recs, fmt.Errorf("line %d: %w", n, err)
		}
		recs = append(recs, m)
	}
	return recs, sc.Err()
}

// Object decodes one JSON object, numbers kept exact (json.Number), and
// fails on anything after it.
func Object(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("more than one JSON value")
	}
	return m, nil
}

// Uint reads the non-negative integer at the path of keys in a decoded
// JSON object (0 if absent).
func Uint(m map[string]any, keys ...string) (uint64, error) {
	var v any = m
	for _, k := range keys {
		o, ok := v.(map[string]any)
		if !ok {
			return 0, fmt.Errorf("%v: not an object", keys)
		}
		if v, ok = o[k]; !ok {
			return 0, nil
		}
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%v: %v is not a number", keys, v)
	}
	return strconv.ParseUint(n.String(), 10, 64)
}

// sumOf adds up the counts of a JSON object of counts (summary's other
// and skipped).
func sumOf(m map[string]any, key string) (uint64, error) {
	o, _ := m[key].(map[string]any)
	var s uint64
	for k := range o {
		v, err := Uint(o, k)
		if err != nil {
			return 0, err
		}
		s += v
	}
	return s, nil
}

// Accounting checks flow's promise on a summary (flow.Summary as JSON):
// packets = tcp_packets + the sum of other + the sum of skipped. It
// returns the packets and connections the summary gives.
func Accounting(sum map[string]any) (packets, conns uint64, err error) {
	p, err1 := Uint(sum, "packets")
	tcp, err2 := Uint(sum, "tcp_packets")
	other, err3 := sumOf(sum, "other")
	skipped, err4 := sumOf(sum, "skipped")
	conns, err5 := Uint(sum, "connections")
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return 0, 0, err
	}
	if p != tcp+other+skipped {
		return p, conns, fmt.Errorf("%w: %d packets != %d tcp + %d other + %d skipped", ErrAccounting, p, tcp, other, skipped)
	}
	return p, conns, nil
}

// UniqueWithinPayload checks a connection record (flow.Conn as JSON):
// in each direction the unique payload bytes are at most the payload
// bytes, and the payload bytes at most the wire bytes. It returns the
// connection's packets.
func UniqueWithinPayload(conn map[string]any) (uint64, error) {
	var pk uint64
	var bad error
	for _, d := range []string{"c2s", "s2c"} {
		u, err1 := Uint(conn, d, "unique_bytes")
		p, err2 := Uint(conn, d, "payload_bytes")
		w, err3 := Uint(conn, d, "wire_bytes")
		n, err4 := Uint(conn, d, "packets")
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return 0, err
		}
		if (u > p || p > w) && bad == nil {
			bad = fmt.Errorf("%w: conn %v %s: unique %d, payload %d, wire %d bytes", ErrUnique, conn["id"], d, u, p, w)
		}
		pk += n
	}
	return pk, bad
}

// ConnLines checks JSON lines of connection records ending with their
// summary, as flows -json writes them (and the summary's accounting): every
// line JSON, records of type conn then one of type summary, last; each
// connection's unique bytes within its payload; as many connections as
// the summary says, holding its TCP packets. It adds the packets and
// connections to the tally.
func ConnLines(out []byte, tally *Tally) error {
	recs, err := Lines(out)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrAborted, err)
	}
	if len(recs) == 0 || recs[len(recs)-1]["type"] != "summary" {
		return fmt.Errorf("%w: no summary last (%d lines)", ErrAborted, len(recs))
	}
	var errs []error
	var conns, inConns uint64
	for _, r := range recs[:len(recs)-1] {
		if r["type"] != "conn" {
			return fmt.Errorf("%w: a record of type %v before the summary", ErrAborted, r["type"])
		}
		conns++
		n, err := UniqueWithinPayload(r)
		if err != nil {
			errs = append(errs, err)
		}
		inConns += n
	}
	sum := recs[len(recs)-1]
	pk, nc, err := Accounting(sum)
	if err != nil {
		errs = append(errs, err)
	}
	tcp, _ := Uint(sum, "tcp_packets")
	if nc != conns || inConns != tcp {
		errs = append(errs, fmt.Errorf("%w: %d conn records holding %d packets; the summary says %d connections, %d TCP packets",
			ErrAccounting, conns, inConns, nc, tcp))
	}
	tally.Packets += pk
	tally.Conns += conns
	return errors.Join(errs...)
}
