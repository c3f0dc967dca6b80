// Package budget checks packet captures against performance budgets: the
// build gate of a CI pipeline that runs regression checks against recorded
// traces. A team records a capture of its test run; the build fails when
// the application starts paying more round trips per request, sending
// smaller segments, moving more bytes, waiting longer on the server, or
// when its duration projected to the production path's RTT exceeds what
// users accept (NPAD's symptom scaling as a gate: test on a short path,
// fail for the long one).
//
// # Budget files
//
// A budget is a YAML (or JSON) file of checks over the figures the
// analysis already produces:
//
//	at: {rtt: 150ms, rate: 2M}          # the production path, for projected.* figures
//	checks:
//	  - name: order report at 150 ms and 2 Mbit/s
//	    where: {server_port: 5432}
//	    check: sum(projected.duration_s) <= 5s
//	  - name: p95 server time of SELECTs
//	    of: transactions
//	    where: {proto: postgres, verb: SELECT}
//	    check: p95(server_time_s) <= 40ms
//	  - name: at most one application turn per 10 response messages
//	    check: sum(app.turns) / sum(app.messages_s2c) <= 10%
//	  - name: no timeout retransmissions
//	    check: c2s.retrans_timeout + s2c.retrans_timeout == 0
//	  - name: small segments in bulk phases
//	    check: explain.segments_s2c.non_final_small_share <= 20%
//	  - name: bytes stay those of the baseline
//	    check: sum(app.bytes_s2c) within ±5% of baseline
//
// Each check has an optional name (default: its text), a scope (of), an
// optional selector (where), an optional path (at) and its text (check):
// a value, a comparison and a limit. Unknown fields, figures, aggregates,
// operators and units are errors (*SpecError, with the line and the field
// path such as checks[2].check); so is a name given twice.
//
// Scopes and figures (of):
//
//   - conns (default): each TCP connection. Figures are the numeric fields
//     of its conn record in `flows -json`, by JSON path: flow.Conn's
//     (duration_s, c2s.retransmissions, rtt.p95_ms, client_options.mss,
//     ...), its app object (app.turns, app.server_time_s, ...: appproto.Stats),
//     its explain object (explain.budget.round_trip_s,
//     explain.segments_s2c.small_share, explain.acks_c2s.covered[0],
//     explain.model.round_trips, ...: explain.Conn) and projected.* (the
//     explain.Projection at the check's path: projected.duration_s,
//     projected.round_trips, projected.budget.round_trip_s, ...).
//   - transactions: each application transaction; figures are the fields
//     of appproto.Transaction as `flows -transactions -json` prints them
//     (server_time_s, duration_s, request_bytes, response_segments, turns,
//     error, ...).
//   - capture: the capture as one item: its packet accounting
//     (flow.Summary: packets, tcp_packets, connections, truncated_tcp,
//     skipped.malformed, other.udp, ...) and duration_s, from its first
//     packet to its last.
//
// Booleans count as 0 and 1. The figure set is built from the JSON tags of
// those types, so a field added to them is a figure at once.
//
// Selectors (where; all given must match, a list matches any): proto
// (appproto's protocol, else explain's guess from the port), server
// (address:port), server_addr and client_addr (an address or a prefix such
// as 10.0.0.0/24), server_port; for transactions also verb (SELECT, GET,
// ...; any case) and kind (Query, Parse, ...). query_prefix and url_prefix
// (the start of a transaction's SQL text or HTTP request target) are part
// of the language but need that text on appproto.Transaction, which this
// version does not carry: a budget that uses them is refused with a
// message saying so.
//
// Paths (at): {rtt: 150ms, rate: 2M}: the base RTT and the bottleneck rate
// in bit/s (k, M, G suffixes) that projected.* figures are projected to
// (explain.Conn.Project; an omitted one keeps the capture's own). A check's
// at overrides the file's.
//
// # The check language
//
//	check      = value comparison
//	value      = an expression of figures, numbers, + - * / and parentheses;
//	             either every figure inside an aggregate, or none
//	aggregate  = count | sum(x) | mean(x) | min(x) | max(x) | median(x) | p50(x) | p95(x) | pNN(x)
//	comparison = ("<=" | "<" | ">=" | ">" | "==") LIMIT
//	           | ("<=" | "<" | ">=" | ">" | "==") "baseline" [("+" | "-") N "%"]
//	           | "within" ["±"] N "%" ["of baseline"]
//	LIMIT      = a number with an optional unit: s, ms, us, min for times;
//	             B, kB, MB, GB, KiB, MiB, GiB for sizes; % for shares and ratios
//
// A value with aggregates is computed once over the selected items, and
// the report names the item whose own value (the expression over a
// selection of that item alone) is the worst. A value without aggregates
// is judged on each item: it passes when every item passes, the report
// gives the worst item's value and how many broke the limit. A limit's
// unit is converted to the value's (40ms against a figure in seconds is
// 0.040); a unit that does not fit the value (ms against bytes) is an
// error. A ratio of two figures of the same unit is a ratio (% allowed);
// bytes divided by a count stay bytes.
//
// A figure absent from a trace is a failure that says why, never a pass:
// no item selected (a check of TNS on a capture without TNS), no item with
// the value (a connection without a segment has no explanation), or a
// division by zero. count of no items is 0, a value.
//
// # Baselines
//
// Record snapshots a capture's regression figures for its connections as a
// whole and for each server (protocol and port): connections, requests,
// transactions and application turns (ClassCount: compared exactly unless
// Options.CountTolerance is given); round trips paid, bytes each way, bytes
// the capture missed (gaps) and the mean segment size each way
// (ClassAmount); the network time projected to a reference path, the
// projected duration less the think times (ClassTime); the server's and the
// client's think time (ClassTimePart). ClassAmount and ClassTime figures
// may move by Options.Tolerance (DefaultTolerance, 10 %) before they are
// regressions; a ClassTimePart figure may grow by the tolerance times the
// whole projected duration (think times jitter from run to run by tens of
// percent, while their weight in the session stays small). Improvements
// are reported (Result.Improved), never failed. The reference path is the
// one given (RecordOptions.At, else the budget's at, else the first
// connection's own RTT and rate); the check projects the new capture to the
// same path, so that a capture of the same workload over another RTT
// compares. With a budget, Record also keeps the values of its checks that
// compare with the baseline. The baseline file (Baseline, JSON) holds a
// Snapshot per trace; Baseline.For picks the one to check a trace against.
//
// # Use
//
// In a Go test:
//
//	budget.AssertFile(t, "testdata/order-report.pcap", "testdata/budget.yaml")
//
// In a pass of its own: Evaluate / EvaluateFile; in a pass shared with
// other consumers: a Checker in flow.Config.Consumers, then
// Checker.Report. examples/budget is the command-line tool (check, record,
// JUnit XML, JSON).
//
// # Memory
//
// The Checker streams: connections and transactions are judged as they
// end and not kept. Its memory is a fixed state per check plus, for each
// quantile aggregate, at most MaxSamples values (exact quantiles up to
// that many, a deterministic uniform reservoir beyond), plus the
// explanation of each live connection (the Checker runs an
// explain.Explainer); Record adds the regression figures of at most
// MaxGroups servers. It never reads the clock, never prints,
// and is not safe for concurrent use.
package budget
