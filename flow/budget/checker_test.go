package budget_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/budget"
)

// Every value below is arithmetic on the script of threeSessions: turns 3,
// 5 and 1; request bytes 100 and answer bytes 500 per turn; answers after
// 105, 115, 125 | 110 x5 | 200 ms; durations 0.1001 + sum(0.010 + delay)
// + 0.001 s = 0.4761, 0.7011 and 0.3111 s; 10 + 14 + 6 = 30 packets.
func TestScriptedAggregates(t *testing.T) {
	pcap := threeSessions(t)
	for _, tc := range []struct {
		check    string
		pass     bool
		measured float64
		worst    int // connection named as the worst, 0 for none
		txn      int // and its transaction
	}{
		{"check: sum(app.turns) == 9", true, 9, 0, 0},           // 3 + 5 + 1
		{"check: max(app.turns) <= 4", false, 5, 2, 0},          // conn 2's 5 turns
		{"check: mean(app.turns) == 3", true, 3, 0, 0},          // 9 / 3
		{"check: min(duration_s) >= 0.4s", false, 0.3111, 3, 0}, // conn 3: 0.1001 + 0.010 + 0.200 + 0.001
		{"check: sum(duration_s) < 1.5s", true, 1.4883, 0, 0},   // 0.4761 + 0.7011 + 0.3111
		{"check: count == 3", true, 3, 0, 0},
		{"check: sum(app.bytes_s2c) <= 4.5kB", true, 4500, 0, 0},                   // 9 answers of 500 B
		{"check: sum(app.bytes_s2c) / sum(app.bytes_c2s) <= 400%", false, 5, 1, 0}, // 4500 / 900; each conn's own ratio is 5, the first is kept
		{"check: sum(c2s.data_segments) / sum(app.turns) == 1", true, 1, 0, 0},     // one request segment per turn
		{"{of: transactions, check: count == 9}", true, 9, 0, 0},
		{"{of: transactions, check: sum(server_time_s) == 1.095}", true, 1.095, 0, 0},      // 0.345 + 0.550 + 0.200
		{"{of: transactions, check: p50(server_time_s) <= 110ms}", true, 0.110, 0, 0},      // sorted: .105 .110 x5 .115 .125 .200; rank ceil(4.5) = 5
		{"{of: transactions, check: p95(server_time_s) <= 150ms}", false, 0.200, 3, 1},     // rank ceil(8.55) = 9
		{"{of: transactions, check: max(server_time_s) < 0.2s}", false, 0.200, 3, 1},       // conn 3's only transaction
		{"{of: transactions, check: mean(server_time_s) <= 122ms}", true, 1.095 / 9, 0, 0}, // 0.121667
		{"{of: transactions, where: {server_port: 7000}, check: max(server_time_s) <= 125ms}", true, 0.125, 0, 0},
		{"{of: capture, check: packets == 30}", true, 30, 0, 0},
		{"{of: capture, check: tcp_packets == 30}", true, 30, 0, 0},
		{"{of: capture, check: connections == 3}", true, 3, 0, 0},
		{"{of: capture, check: duration_s <= 2.5s}", true, 2.3111, 0, 0}, // conn 3 starts at 2 s and lasts 0.3111 s
		{"{of: capture, check: skipped.malformed == 0}", true, 0, 0, 0},
		{"{where: {server_port: 7000}, check: sum(app.turns) == 8}", true, 8, 0, 0},
		{"{where: {server: '10.0.0.2:7000'}, check: count == 2}", true, 2, 0, 0},
		{"{where: {server_addr: 10.0.0.3}, check: sum(app.turns) == 1}", true, 1, 0, 0},
		{"{where: {server_addr: 10.0.0.2}, check: count == 2}", true, 2, 0, 0},
		{"{where: {server_addr: 10.0.0.0/30}, check: count == 3}", true, 3, 0, 0}, // .0 to .3
		{"{where: {client_addr: 10.0.0.1}, check: count == 3}", true, 3, 0, 0},
		{"{where: {proto: unknown}, check: count == 2}", true, 2, 0, 0}, // 'x' payloads on port 7000
		{"{where: {proto: http}, check: count == 1}", true, 1, 0, 0},    // port 8000: http by its port alone (appproto's ConfidencePort)
		{"{where: {server_port: [7000, 8000]}, check: count == 3}", true, 3, 0, 0},
		{"{where: {server_port: 9999}, check: count == 0}", true, 0, 0, 0}, // count of nothing is 0, a value
	} {
		t.Run(tc.check, func(t *testing.T) {
			rep := evaluate(t, pcap, "checks: ["+braced(tc.check)+"]", budget.Options{})
			require.Len(t, rep.Results, 1)
			r := rep.Results[0]
			require.Empty(t, r.Absent)
			assert.Equal(t, tc.pass, r.Pass, r.String())
			assert.InDelta(t, tc.measured, r.Measured, 1e-9, r.String())
			if tc.worst == 0 {
				assert.Nil(t, r.Worst, r.String())
				return
			}
			require.NotNil(t, r.Worst, r.String())
			assert.Equal(t, tc.worst, r.Worst.Conn, r.String())
			assert.Equal(t, tc.txn, r.Worst.Transaction, r.String())
		})
	}
}

// A max or a min is one item's value: that item broke the limit. A
// quantile, a sum or a ratio names only the worst item.
func TestScriptedCulprits(t *testing.T) {
	rep := evaluate(t, threeSessions(t), `
checks:
  - {of: transactions, check: max(server_time_s) <= 150ms}
  - {of: transactions, check: p50(server_time_s) <= 100ms}
  - check: sum(app.turns) <= 8
`, budget.Options{})
	assert.Contains(t, rep.Results[0].String(), "; broken by conn 3 10.0.0.1:40003 -> 10.0.0.3:8000 http transaction 1 (packets 28-29)")
	// p50 is 110 ms (conn 2's answers); the worst transaction is conn 3's 200 ms
	// one: its request and answer are packets 28 and 29 (conn 1 has 10, conn
	// 2 14, then conn 3's handshake)
	assert.Contains(t, rep.Results[1].String(), "p50(server_time_s) = 110.000 ms, limit <= 100.000 ms; worst conn 3 10.0.0.1:40003 -> 10.0.0.3:8000 http transaction 1 (packets 28-29) = 200.000 ms")
	assert.Contains(t, rep.Results[2].String(), "; worst conn 2 ")
}

// braced turns "check: X" into a flow mapping; others are already one.
func braced(s string) string {
	if s[0] == '{' {
		return s
	}
	return "{" + s + "}"
}

// A check without aggregate is judged on each connection.
func TestScriptedPerItem(t *testing.T) {
	rep := evaluate(t, threeSessions(t), `
checks:
  - check: app.turns <= 4
  - check: duration_s < 0.5s
  - check: c2s.retrans_timeout + s2c.retrans_timeout == 0
`, budget.Options{})
	require.Len(t, rep.Results, 3)
	turns, dur, rto := rep.Results[0], rep.Results[1], rep.Results[2]
	// conn 2 has 5 turns, the others 3 and 1
	assert.False(t, turns.Pass)
	assert.True(t, turns.PerItem)
	assert.Equal(t, 3, turns.Items)
	assert.Equal(t, 1, turns.Failing)
	assert.EqualValues(t, 5, turns.Measured)
	require.NotNil(t, turns.Worst)
	assert.Equal(t, 2, turns.Worst.Conn)
	assert.Contains(t, turns.String(), "app.turns = 5 (worst of 3 connections, 1 over the limit), limit <= 4; broken by conn 2 10.0.0.1:40002 -> 10.0.0.2:7000 unknown (packets 11-24)")
	// 0.4761 and 0.3111 pass, 0.7011 does not
	assert.False(t, dur.Pass)
	assert.Equal(t, 1, dur.Failing)
	assert.InDelta(t, 0.7011, dur.Measured, 1e-9)
	// no retransmission in the script
	assert.True(t, rto.Pass, rto.String())
	assert.Zero(t, rto.Measured)
	assert.Equal(t, 1, rep.Failed+rep.Passed-2)
}

// A figure the trace lacks fails, saying why; it never passes.
func TestScriptedAbsentFails(t *testing.T) {
	rep := evaluate(t, threeSessions(t), `
checks:
  - check: sum(app.turns) <= 100
    where: {proto: tns}
  - check: sum(app.turns) / sum(c2s.retransmissions) <= 1
  - check: p95(server_time_s) <= 1s
    of: transactions
    where: {verb: SELECT}
  - check: app.turns <= 100
    where: {server_port: 9999}
`, budget.Options{})
	require.Len(t, rep.Results, 4)
	for _, r := range rep.Results {
		assert.False(t, r.Pass, r.String())
	}
	assert.Equal(t, "no connection selected", rep.Results[0].Absent)
	assert.Contains(t, rep.Results[0].String(), "sum(app.turns) absent: no connection selected [proto=tns], limit <= 100")
	assert.Equal(t, "division by zero (sum(c2s.retransmissions) is 0)", rep.Results[1].Absent)
	assert.Equal(t, "no transaction selected", rep.Results[2].Absent)
	assert.Equal(t, "no connection selected", rep.Results[3].Absent)
	assert.Equal(t, 4, rep.Failed)
	assert.False(t, rep.OK())
}

// projected.* figures: the script's sessions at a 10 ms path. The explain
// package prices each turn one base RTT (100.1 ms, the handshake's) and
// the rest of each answer's delay as server think time; at 10 ms the
// handshake and the turns take 10 ms each and think times stay: conn 2
// takes 0.010 + 5 * 0.010 + (5 * 0.010 + 0.001) + 5 * (0.110 - 0.1001) s.
func TestScriptedProjection(t *testing.T) {
	rep := evaluate(t, threeSessions(t), `
at: {rtt: 10ms}
checks:
  - check: max(projected.duration_s) <= 150ms
  - check: max(projected.round_trips) == 6
  - check: sum(projected.budget.server_think_s) - sum(explain.budget.server_think_s) == 0
`, budget.Options{})
	dur, rt, think := rep.Results[0], rep.Results[1], rep.Results[2]
	// handshake and 5 turns at 10 ms, think kept: client 10 + 4*9.9 + 0.9 ms,
	// server 5*(110-100) ms (each less its leg; see TestRecordScripted)
	assert.InDelta(t, 0.010+5*0.010+(0.010+4*0.0099+0.0009)+5*(0.110-0.100), dur.Measured, 1e-9, dur.String())
	assert.False(t, dur.Pass)
	require.NotNil(t, dur.Worst)
	assert.Equal(t, 2, dur.Worst.Conn)
	assert.Equal(t, "10ms", dur.At)
	assert.True(t, rt.Pass, rt.String()) // handshake + 5 turns
	assert.True(t, think.Pass, think.String())
	// server think: (105+115+125 - 3*100) + 5*(110-100) + (200-100) ms
	assert.Zero(t, think.Measured)
	rep = evaluate(t, threeSessions(t), "checks: [{check: sum(explain.budget.server_think_s) > 0}]", budget.Options{})
	assert.InDelta(t, 0.045+0.050+0.100, rep.Results[0].Measured, 1e-9)
}
