package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
)

func lab(name string) string { return filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name) }

// tool is a built command.
type tool struct{ bin string }

// run executes the tool and returns its standard output and error and its
// exit status.
func (tl tool) run(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(tl.bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errOut.String(), 0
	case errors.As(err, &ee):
		return out.String(), errOut.String(), ee.ExitCode()
	}
	t.Fatalf("run %s: %v", tl.bin, err)
	return "", "", -1
}

// build compiles the command in dir (relative to the module root) into
// out.
func build(t *testing.T, pkg, out string) tool {
	t.Helper()
	bin := filepath.Join(out, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, "./"+pkg)
	cmd.Dir = flowtest.RepoRoot()
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s: %s", pkg, b)
	return tool{bin}
}

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

const spec150 = `at: {rtt: 150ms}
checks:
  - name: session at 150 ms
    check: max(projected.duration_s) <= 5s
`

// TestTool builds budget and compare into a temporary folder and runs them
// as CI would: exit statuses, messages, the projected values against
// compare's, baselines through files, JUnit and JSON.
func TestTool(t *testing.T) {
	dir := t.TempDir()
	budget := build(t, "examples/budget", dir)
	compare := build(t, "examples/compare", dir)
	spec := write(t, dir, "budget.yaml", spec150)

	t.Run("projected values are compare's", func(t *testing.T) {
		for _, tc := range []struct {
			file string
			code int
		}{{"rtt10-http-bulk.pcap", 0}, {"rtt10-pg-chatty.pcap", 1}} {
			out, errOut, code := budget.run(t, nil, "check", "-spec", spec, lab(tc.file))
			require.Equal(t, tc.code, code, "%s%s", out, errOut)
			cmpOut, _, code := compare.run(t, nil, "-rtt", "150ms", lab(tc.file))
			require.Zero(t, code)
			m := regexp.MustCompile(`(?m)^\s*projected \(s\) at 150ms\s+([0-9.]+)\s*$`).FindStringSubmatch(cmpOut)
			require.NotNil(t, m, cmpOut)
			assert.Contains(t, out, "max(projected.duration_s) = "+m[1]+" s at 150ms", "compare says %s s", m[1])

			jout, _, _ := budget.run(t, nil, "check", "-json", "-spec", spec, lab(tc.file))
			var doc output
			require.NoError(t, json.Unmarshal([]byte(jout), &doc))
			cjout, _, _ := compare.run(t, nil, "-json", "-rtt", "150ms", lab(tc.file))
			var cdoc struct {
				Subjects []struct {
					Projected struct {
						DurationS float64 `json:"duration_s"`
					} `json:"projected"`
				} `json:"subjects"`
			}
			require.NoError(t, json.Unmarshal([]byte(cjout), &cdoc))
			require.Len(t, cdoc.Subjects, 1)
			assert.Equal(t, cdoc.Subjects[0].Projected.DurationS, doc.Reports[0].Results[0].Measured, tc.file)
		}
	})

	t.Run("exit statuses", func(t *testing.T) {
		truncated := filepath.Join(dir, "truncated.pcap")
		full, err := os.ReadFile(lab("rtt10-pg-chatty.pcap"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(truncated, full[:len(full)/2+7], 0o644))
		absent := write(t, dir, "absent.yaml", "checks:\n  - check: sum(app.turns) <= 10\n    where: {proto: tns}\n")
		baselined := write(t, dir, "baselined.yaml", "checks:\n  - check: sum(app.turns) <= baseline\n")
		for _, tc := range []struct {
			name   string
			args   []string
			code   int
			stderr string // in standard error
			stdout string // in standard output
		}{
			{"pass", []string{"check", "-spec", spec, lab("rtt10-http-bulk.pcap")}, 0, "", "budget: 1 check on 1 trace: 1 passed, 0 failed"},
			{"fail", []string{"check", "-spec", spec, lab("rtt10-http-bulk.pcap"), lab("rtt10-pg-chatty.pcap")}, 1, "", "FAIL  " + lab("rtt10-pg-chatty.pcap")},
			{"absent figure fails", []string{"check", "-spec", absent, lab("rtt10-http-bulk.pcap")}, 1, "", "sum(app.turns) absent: no connection selected [proto=tns]"},
			{"unknown figure", []string{"check", "-spec", write(t, dir, "fig.yaml", "checks:\n  - check: sum(app.turnz) <= 10\n"), lab("rtt10-http-bulk.pcap")}, 2,
				"fig.yaml:2:16: checks[0].check: unknown figure \"app.turnz\" for connections (did you mean app.turns?)", ""},
			{"bad operator", []string{"check", "-spec", write(t, dir, "op.yaml", "checks:\n  - name: x\n    check: count => 1\n"), lab("rtt10-http-bulk.pcap")}, 2,
				"op.yaml:3:18: checks[0].check: unexpected '=': the comparisons are <=, <, >=, >, == and within", ""},
			{"malformed file", []string{"check", "-spec", write(t, dir, "bad.yaml", "checks:\n  - check: count == 1\n   name: x\n"), lab("rtt10-http-bulk.pcap")}, 2, "bad.yaml:3: ", ""},
			{"unknown field", []string{"check", "-spec", write(t, dir, "field.yaml", "checks:\n  - check: count == 1\n    limt: 3\n"), lab("rtt10-http-bulk.pcap")}, 2, "field.yaml:3:5: checks[0].limt: unknown field", ""},
			{"missing spec file", []string{"check", "-spec", filepath.Join(dir, "none.yaml"), lab("rtt10-http-bulk.pcap")}, 2, "none.yaml: no such file", ""},
			{"missing trace", []string{"check", "-spec", spec, filepath.Join(dir, "none.pcap")}, 2, "none.pcap: no such file", "ERROR open " + filepath.Join(dir, "none.pcap")},
			{"not a capture", []string{"check", "-spec", spec, spec}, 2, "not a pcap or pcapng capture", ""},
			{"truncated capture", []string{"check", "-spec", spec, truncated}, 2, "truncated.pcap: ", "0 passed, 0 failed, 1 unreadable"},
			{"unreadable trace among passing", []string{"check", "-spec", spec, lab("rtt10-http-bulk.pcap"), truncated}, 2, "", "budget: 1 check on 2 traces: 1 passed, 0 failed, 1 unreadable"},
			{"baseline needed", []string{"check", "-spec", baselined, lab("rtt10-http-bulk.pcap")}, 2, "compares with the baseline: give a baseline", ""},
			{"no trace", []string{"check", "-spec", spec}, 2, "no trace to check", ""},
			{"nothing to check", []string{"check", lab("rtt10-http-bulk.pcap")}, 2, "give -spec, -baseline or both", ""},
			{"bad tolerance", []string{"check", "-spec", spec, "-tolerance", "ten", lab("rtt10-http-bulk.pcap")}, 2, "-tolerance \"ten\": want a percentage", ""},
			{"zero tolerance", []string{"check", "-spec", spec, "-tolerance", "0%", lab("rtt10-http-bulk.pcap")}, 2, "give a positive tolerance", ""},
			{"unknown flag", []string{"check", "-spec", spec, "-strict", lab("rtt10-http-bulk.pcap")}, 2, "flag provided but not defined: -strict", ""},
			{"unknown command", []string{"verify"}, 2, "unknown command \"verify\"", ""},
			{"no command", nil, 2, "usage: budget check", ""},
			{"record without trace", []string{"record"}, 2, "no trace to record", ""},
			{"record unreadable trace", []string{"record", truncated}, 2, "truncated.pcap: ", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out, errOut, code := budget.run(t, nil, tc.args...)
				assert.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
				assert.Contains(t, errOut, tc.stderr)
				assert.Contains(t, out, tc.stdout)
				if code == 2 {
					assert.NotContains(t, out, "PASS  "+truncated)
				}
			})
		}
	})

	t.Run("baseline", func(t *testing.T) {
		base := filepath.Join(dir, "baseline.json")
		out, errOut, code := budget.run(t, nil, "record", lab("rtt10-pg-chatty.pcap"))
		require.Zero(t, code, errOut)
		require.NoError(t, os.WriteFile(base, []byte(out), 0o644))
		assert.Contains(t, out, `"trace": "rtt10-pg-chatty.pcap"`)
		assert.Contains(t, out, `"rtt": "10.662ms"`) // the connection's base RTT (explain: rtt_ms 10.662, its legs 10.648 + 0.014 ms)
		// the same workload over 50 and 150 ms compares at the baseline's path
		for _, f := range []string{"rtt50-pg-chatty.pcap", "wan2m-pg-chatty.pcap"} {
			out, errOut, code := budget.run(t, nil, "check", "-baseline", base, lab(f))
			assert.Zero(t, code, "%s%s", out, errOut)
			assert.Contains(t, out, "projected network time: ")
			assert.Contains(t, out, "at 10.662ms")
		}
		// another workload: curl's 584712-byte download
		out, _, code = budget.run(t, nil, "check", "-baseline", base, lab("wan2m-http-bulk.pcap"))
		assert.Equal(t, 1, code)
		assert.Regexp(t, `FAIL  \S+wan2m-http-bulk.pcap  bytes server to client: sum\(app.bytes_s2c\) = 584712 B; baseline 82604 B \(\+607.8%\), tolerance 10%, higher is worse`, out)
		assert.Contains(t, out, "PASS+ ", "its fewer turns are reported as improvements")
		// -tolerance 1000% lets the bytes pass; the PostgreSQL server is still missing
		out, _, code = budget.run(t, nil, "check", "-baseline", base, "-tolerance", "1000%", lab("wan2m-http-bulk.pcap"))
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "connections [proto=postgres server_port=5432]: count absent: no connection selected")
		assert.NotContains(t, out, "FAIL  "+lab("wan2m-http-bulk.pcap")+"  bytes")

		// two snapshots: each trace is checked against its namesake
		two, errOut, code := budget.run(t, nil, "record", lab("rtt10-pg-chatty.pcap"), lab("rtt10-http-bulk.pcap"))
		require.Zero(t, code, errOut)
		base2 := write(t, dir, "two.json", two)
		_, _, code = budget.run(t, nil, "check", "-baseline", base2, lab("rtt10-pg-chatty.pcap"), lab("rtt10-http-bulk.pcap"))
		assert.Zero(t, code)
		_, errOut, code = budget.run(t, nil, "check", "-baseline", base2, lab("rtt50-pg-chatty.pcap"))
		assert.Equal(t, 2, code)
		assert.Contains(t, errOut, "has no snapshot of rtt50-pg-chatty.pcap")
		_, errOut, code = budget.run(t, nil, "record", lab("rtt10-pg-chatty.pcap"), lab("rtt10-pg-chatty.pcap"))
		assert.Equal(t, 2, code)
		assert.Contains(t, errOut, "two traces named rtt10-pg-chatty.pcap")

		// a budget's baselined checks, recorded and checked
		bspec := write(t, dir, "bspec.yaml", "checks:\n  - name: turns per query\n    check: sum(app.turns) / sum(app.transactions) <= baseline + 5%\n")
		out, errOut, code = budget.run(t, nil, "record", "-spec", bspec, "-rtt", "150ms", "-rate", "2M", lab("rtt10-pg-chatty.pcap"))
		require.Zero(t, code, errOut)
		assert.Contains(t, out, `"rtt": "150ms"`)
		assert.Contains(t, out, `"rate": "2000000"`)
		base3 := write(t, dir, "base3.json", out)
		out, errOut, code = budget.run(t, nil, "check", "-spec", bspec, "-baseline", base3, lab("wan2m-pg-chatty.pcap"))
		assert.Zero(t, code, "%s%s", out, errOut)
		assert.Contains(t, out, "turns per query: sum(app.turns) / sum(app.transactions) = 1.02, limit <= baseline 1.02 +5% = 1.071 (+0.0% from baseline)")
		// a hand-edited baseline with a mistake: its line and field
		bad := write(t, dir, "bad.json", strings.Replace(out3(t, base3), `"class": "count"`, `"class": "counts"`, 1))
		_, errOut, code = budget.run(t, nil, "check", "-baseline", bad, lab("wan2m-pg-chatty.pcap"))
		assert.Equal(t, 2, code)
		assert.Regexp(t, `bad.json:\d+:\d+: traces\[0\].figures\[0\].class: unknown class "counts"`, errOut)
	})

	t.Run("junit and json", func(t *testing.T) {
		junit := filepath.Join(dir, "budget.xml")
		out, _, code := budget.run(t, nil, "check", "-spec", spec, "-junit", junit, lab("rtt10-http-bulk.pcap"), lab("rtt10-pg-chatty.pcap"))
		assert.Equal(t, 1, code, out)
		data, err := os.ReadFile(junit)
		require.NoError(t, err)
		var doc struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Suites   []struct {
				Name  string `xml:"name,attr"`
				Cases []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
					} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		require.NoError(t, xml.Unmarshal(data, &doc))
		assert.Equal(t, 2, doc.Tests)
		assert.Equal(t, 1, doc.Failures)
		require.Len(t, doc.Suites, 2)
		assert.Equal(t, lab("rtt10-pg-chatty.pcap"), doc.Suites[1].Name)
		require.NotNil(t, doc.Suites[1].Cases[0].Failure)
		assert.Contains(t, doc.Suites[1].Cases[0].Failure.Message, "max(projected.duration_s) = 31.135 s at 150ms, limit <= 5.000 s")
		assert.Nil(t, doc.Suites[0].Cases[0].Failure)

		jout, _, code := budget.run(t, nil, "check", "-json", "-spec", spec, lab("rtt10-http-bulk.pcap"), lab("rtt10-pg-chatty.pcap"))
		assert.Equal(t, 1, code)
		var j output
		require.NoError(t, json.Unmarshal([]byte(jout), &j))
		assert.Equal(t, 2, j.Checks)
		assert.Equal(t, 1, j.Passed)
		assert.Equal(t, 1, j.Failed)
		r := j.Reports[1].Results[0]
		assert.False(t, r.Pass)
		require.NotNil(t, r.Worst)
		assert.Equal(t, 1, r.Worst.Conn)
		assert.Equal(t, "s", r.Unit)
	})

	t.Run("standard input", func(t *testing.T) {
		data, err := os.ReadFile(lab("rtt10-pg-chatty.pcap"))
		require.NoError(t, err)
		out, _, code := budget.run(t, data, "check", "-spec", spec, "-")
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "FAIL  -  session at 150 ms: max(projected.duration_s) = 31.135 s")
	})
}

func out3(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return string(b)
}
