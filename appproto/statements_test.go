package appproto_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
)

func TestNormalizeSQL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		mysql    bool
	}{
		{in: "SELECT * FROM orders WHERE order_id = 8437;", want: "SELECT * FROM orders WHERE order_id = ?"},
		{in: "  select  a,b\n\tfrom t1 where x=-1.5e+3 and y = .5 ; ", want: "select a,b from t1 where x=-? and y = ?"},
		{in: "SELECT * FROM t WHERE id IN (1, 2, 3) AND s not in ('a','b')", want: "SELECT * FROM t WHERE id IN (?) AND s not in (?)"},
		{in: "select 'it''s', E'a\\'b', N'x', X'0f', 0x1F from dual", want: "select ?, ?, ?, ?, ? from dual"},
		{in: `select "Col1" from "T2" where a = $1 and b = :2 and c = @p3`, want: `select "Col1" from "T2" where a = $1 and b = :2 and c = @p3`},
		{in: `insert into foo (animal, name) values ("dog", "Goofy")`, want: `insert into foo (animal, name) values (?, ?)`, mysql: true},
		{in: `select 'a\' b' from t`, want: `select ? from t`, mysql: true},
		{in: "select $$body; 1$$, $f$x$f$ -- trailing\n", want: "select ?, ?"},
		{in: "select /*+ RULE */ a /* note 42 */ from t", want: "select /*+ RULE */ a from t"},
		{in: "FETCH FORWARD 15 FROM _psql_cursor", want: "FETCH FORWARD ? FROM _psql_cursor"},
		{in: "select 'unterminated", want: "select ?"},
		{in: "WHERE x IN (?, y)", want: "WHERE x IN (?, y)"},
		{in: "   ;  ", want: ""},
	} {
		got := appproto.NormalizeSQL(nil, []byte(tc.in), tc.mysql)
		assert.Equal(t, tc.want, string(got), "%q", tc.in)
		assert.LessOrEqual(t, len(got), len(tc.in))
	}
	// Appends to dst.
	assert.Equal(t, "x:SELECT ?", string(appproto.NormalizeSQL([]byte("x:"), []byte("SELECT 1"), false)))
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"/row/7920.csv":      "/row/?.csv",
		"/rows.csv":          "/rows.csv",
		"/v2/order-42/items": "/v2/order-?/items",
		"/u/550e8400-e29b-41d4-a716-446655440000/x":                "/u/?/x",
		"/a?id=7&x=y&flag":                                         "/a?id=?&x=?&flag",
		"/ubuntu/pool/main/m/manpages/manpages-dev_4.04-2_all.deb": "/ubuntu/pool/main/m/manpages/manpages-dev_?.?-?_all.deb",
	} {
		assert.Equal(t, want, string(appproto.NormalizePath(nil, []byte(in))), in)
	}
}

// TestStatementGroupsChatty runs 200 single-row queries with different
// literals through a Conn whose server answers the i-th after i ms (i = 1
// .. 200): one group of 200, whose nearest-rank p50 is the 100th smallest
// server time (100 ms) and p95 the 190th (190 ms); sum 200*201/2 ms.
func TestStatementGroupsChatty(t *testing.T) {
	g := appproto.NewStatementGroups(0)
	s := &script{now: t0}
	s.c = appproto.NewConn(&appproto.Config{}, 40000, 5432, g)
	s.send(c2s, 0, pgStartup(196608, []byte("user\x00u\x00\x00")))
	s.send(s2c, ms, cat(pgMsg('R', be32(0)), pgMsg('Z', []byte("I"))))
	_, a := chattyRound()
	for i := 1; i <= 200; i++ {
		s.send(c2s, ms, pgMsg('Q', fmt.Appendf(nil, "SELECT * FROM orders WHERE order_id = %d;\x00", i*97%20000)))
		s.send(s2c, time.Duration(i)*ms, a)
	}
	s.close()
	gs := g.Groups()
	require.Len(t, gs, 1)
	grp := gs[0]
	assert.Equal(t, "SELECT * FROM orders WHERE order_id = ?", grp.Statement)
	assert.Equal(t, "postgres", grp.Proto)
	assert.Equal(t, "Query", grp.Kind)
	assert.Equal(t, "SELECT", grp.Verb)
	assert.Equal(t, 200, grp.Count)
	assert.Equal(t, 200, grp.Turns)
	assert.InDelta(t, 0.100, grp.ServerTimeP50.Seconds(), 1e-9)
	assert.InDelta(t, 0.190, grp.ServerTimeP95.Seconds(), 1e-9)
	assert.InDelta(t, 0.200, grp.ServerTimeMax.Seconds(), 1e-9)
	assert.InDelta(t, 200*201/2*0.001, grp.ServerTime.Seconds(), 1e-6)
	assert.Equal(t, int64(len(a)*200), grp.ResponseBytes)
}

// TestStatementGroupsBounds: statements beyond the bound go to the Other
// group; past 1024 transactions a group keeps a regular sample of its
// server times; Merge adds the counts of two collectors.
func TestStatementGroupsBounds(t *testing.T) {
	g := appproto.NewStatementGroups(2)
	tx := func(q string, st time.Duration) *appproto.Transaction {
		return &appproto.Transaction{Proto: "postgres", Kind: "Query", Query: appproto.Text(q), ServerTime: st, Turns: 1}
	}
	for i := range 5000 {
		g.Add(tx(fmt.Sprintf("select %d", i), time.Duration(i+1)*time.Millisecond)) // 1 .. 5000 ms
	}
	g.Add(tx("select b from t", 2*time.Second))
	g.Add(tx("select c from t", 3*time.Second))
	gs := g.Groups()
	require.Len(t, gs, 3)
	assert.Equal(t, "select ?", gs[0].Statement)
	assert.Equal(t, 5000, gs[0].Count)
	assert.Equal(t, "select b from t", gs[1].Statement)
	assert.True(t, gs[2].Other)
	assert.Equal(t, 1, gs[2].Count)
	// The sample halves each time it holds 1024: after 1024, 2048 and
	// 4096 transactions, so it keeps every 8th: 1, 9, ..., 4993 ms, 625
	// values. Nearest rank: p50 the 313th, 1+8*312 = 2497 ms; p95 the
	// 594th, 1+8*593 = 4745 ms (the exact ones are 2500 and 4750).
	assert.Equal(t, 2497*time.Millisecond, gs[0].ServerTimeP50)
	assert.Equal(t, 4745*time.Millisecond, gs[0].ServerTimeP95)
	assert.Equal(t, 5*time.Second, gs[0].ServerTimeMax)
	assert.Equal(t, 5000*5001/2*time.Millisecond, gs[0].ServerTime)

	h := appproto.NewStatementGroups(0)
	h.Add(tx("select 2", 500*time.Millisecond))
	h.Add(tx("select x from y", 250*time.Millisecond))
	g.Merge(h)
	gs = g.Groups()
	require.Len(t, gs, 3)
	assert.Equal(t, 5001, gs[0].Count)
	assert.Equal(t, 2, gs[2].Count, "select x from y joins Other: the bound is reached")
	assert.Equal(t, 3, g.Len())
}

// TestStatementGroupsKeys: HTTP requests group by method, host and
// normalised path; Redis commands by name; requests without text by
// kind.
func TestStatementGroupsKeys(t *testing.T) {
	g := appproto.NewStatementGroups(0)
	for i := range 3 {
		g.Add(&appproto.Transaction{Proto: "http", Kind: "GET", Verb: "GET", Host: appproto.Text("h"),
			Path: appproto.Text(fmt.Sprintf("/row/%d.csv", i)), Turns: 1})
	}
	g.Add(&appproto.Transaction{Proto: "http", Kind: "GET", Verb: "GET", Host: appproto.Text("other"), Path: appproto.Text("/row/1.csv")})
	g.Add(&appproto.Transaction{Proto: "redis", Kind: "command", Query: appproto.Text("GET"), Incomplete: true})
	g.Add(&appproto.Transaction{Proto: "tns", Kind: "Data"})
	g.Add(&appproto.Transaction{Proto: "tns", Kind: "Data", Query: appproto.Text(strings.Repeat("select 1 ", 40)), TextTruncated: true})
	gs := g.Groups()
	require.Len(t, gs, 5)
	assert.Equal(t, "/row/?.csv", gs[0].Statement)
	assert.Equal(t, "h", gs[0].Host)
	assert.Equal(t, 3, gs[0].Count)
	assert.Equal(t, "other", gs[1].Host)
	assert.Equal(t, "GET", gs[2].Statement)
	assert.Equal(t, 1, gs[2].Incomplete)
	assert.Equal(t, "", gs[3].Statement)
	assert.True(t, gs[4].TextTruncated)
}

// TestStatementGroupsAllocs: adding a transaction of a statement already
// seen allocates nothing.
func TestStatementGroupsAllocs(t *testing.T) {
	g := appproto.NewStatementGroups(0)
	tx := &appproto.Transaction{Proto: "postgres", Kind: "Query", Verb: "SELECT", Query: appproto.Text("SELECT * FROM orders WHERE order_id = 1"), Turns: 1}
	g.Add(tx)
	allocs := testing.AllocsPerRun(2000, func() { g.Add(tx) })
	assert.Zero(t, allocs)
}
