package netlog_test

import (
	"testing"

	"github.com/netecology/netecology/flow/netlog"
)

// FuzzParseULM: no line makes ParseULM panic, and a line it accepts,
// written again with AppendULM, reads back to the same event and PROG.
func FuzzParseULM(f *testing.F) {
	for _, b := range logBytesF(f) {
		for i := range b {
			f.Add(string(netlog.AppendULM(nil, &b[i], "seed")))
		}
	}
	f.Add(`DATE=20261123120000.5 HOST=::1 PROG="a b" LVL=Warning NL.EVNT=tcp.rst VERB="x\"y\\z"`)
	f.Add("DATE=1 HOST= PROG= LVL= NL.EVNT=")
	f.Fuzz(func(t *testing.T, line string) {
		e, prog, err := netlog.ParseULM(line)
		if err != nil {
			return
		}
		again := string(netlog.AppendULM(nil, &e, prog))
		e2, prog2, err := netlog.ParseULM(again)
		if err != nil {
			t.Fatalf("%q parsed, written as %q, which does not: %v", line, again, err)
		}
		if !same(e, e2) || prog != prog2 {
			t.Fatalf("%q: %+v read back as %+v", again, e, e2)
		}
	})
}
