package appproto

import (
	"math"
	"slices"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// Bounds of a StatementGroups collector.
const (
	// DefaultMaxStatementGroups is the number of groups a
	// StatementGroups keeps when NewStatementGroups is given 0.
	DefaultMaxStatementGroups = 500
	// maxServerTimes is how many server times a group keeps for its
	// quantiles; beyond it, it keeps every 2^k-th.
	maxServerTimes = 1024
)

// StatementGroup sums the transactions of one statement: the same
// protocol, request kind and verb, HTTP host, and normalised statement
// (literals replaced by ?, see NormalizeSQL and NormalizePath).
type StatementGroup struct {
	Proto string `json:"proto"`
	Kind  string `json:"kind"`
	Verb  string `json:"verb,omitempty"`
	Host  string `json:"host,omitempty"`
	// Statement is the normalised statement: the SQL text with its
	// literals replaced by ?, an HTTP path with its numbers and query
	// values replaced by ?, a Redis command name; "" for requests that
	// carry no text (a TNS call other than an execution, a MySQL
	// COM_STMT_EXECUTE). TextTruncated says a member's text was cut at
	// MaxText bytes, so Statement may be a prefix.
	Statement     string `json:"statement"`
	TextTruncated bool   `json:"text_truncated,omitempty"`
	// Other is set on the one group that gathers the transactions of
	// statements beyond the collector's bound on groups.
	Other bool `json:"other,omitempty"`
	// Count is the number of transactions, Errors and Incomplete how
	// many of them reported an error or were incomplete.
	Count      int `json:"count"`
	Errors     int `json:"errors,omitempty"`
	Incomplete int `json:"incomplete,omitempty"`
	// Turns sums the transactions' client turns: the round trips the
	// statement paid.
	Turns         int   `json:"turns"`
	RequestBytes  int64 `json:"request_bytes"`
	ResponseBytes int64 `json:"response_bytes"`
	// ServerTime sums the transactions' server times;
	// ServerTimeP50 and ServerTimeP95 are nearest-rank quantiles, exact
	// over the first 1024 transactions, over a regular sample of them
	// (every 2nd, 4th...) beyond; ServerTimeMax is the largest.
	ServerTime    time.Duration `json:"server_time_s"`
	ServerTimeP50 time.Duration `json:"server_time_p50_s"`
	ServerTimeP95 time.Duration `json:"server_time_p95_s"`
	ServerTimeMax time.Duration `json:"server_time_max_s"`
	// Duration sums the transactions' durations.
	Duration time.Duration `json:"duration_s"`
}

// MarshalJSON writes the group with its durations in seconds.
func (s StatementGroup) MarshalJSON() ([]byte, error) { return units.MarshalJSON(s) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (s StatementGroup) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, s) }

// UnmarshalJSON reads what MarshalJSON writes.
func (s *StatementGroup) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, s) }

// stmtGroup is a group being gathered, with its server-time sample.
type stmtGroup struct {
	StatementGroup
	times  []time.Duration
	stride int // one server time kept every stride transactions
	skip   int // transactions to pass before the next one kept
}

// StatementGroups gathers transactions by statement (StatementGroup),
// with a bounded number of groups: the transactions of further
// statements go to one group marked Other. It is a Handler, so it can be
// given to NewConn, and its Add may be called with the transactions of
// many connections. Adding a transaction of a statement already seen
// allocates nothing. It is not safe for concurrent use; Merge combines
// collectors filled apart.
type StatementGroups struct {
	max    int
	groups []*stmtGroup
	index  map[string]int
	other  *stmtGroup
	key    []byte // scratch for the lookup key
	norm   [MaxText]byte
}

// NewStatementGroups returns a collector of at most maxGroups groups
// besides the Other one; 0 means DefaultMaxStatementGroups.
func NewStatementGroups(maxGroups int) *StatementGroups {
	if maxGroups <= 0 {
		maxGroups = DefaultMaxStatementGroups
	}
	return &StatementGroups{max: maxGroups, index: map[string]int{}}
}

// Transaction adds t (StatementGroups is a Handler).
func (g *StatementGroups) Transaction(t *Transaction) { g.Add(t) }

// Add counts t in the group of its statement.
func (g *StatementGroups) Add(t *Transaction) {
	var stmt []byte
	switch {
	case t.Proto == "http" && len(t.Path) > 0:
		stmt = NormalizePath(g.norm[:0], t.Path)
	case t.Proto == "redis":
		stmt = append(g.norm[:0], t.Query...)
	case len(t.Query) > 0:
		stmt = NormalizeSQL(g.norm[:0], t.Query, t.Proto == "mysql")
	}
	grp := g.group(t.Proto, t.Kind, t.Verb, t.Host, stmt)
	grp.add(t)
}

// group returns the group of a statement, made if new (the Other group
// once the bound is reached).
func (g *StatementGroups) group(proto, kind, verb string, host, stmt []byte) *stmtGroup {
	k := append(g.key[:0], proto...)
	k = append(append(k, 0), kind...)
	k = append(append(k, 0), verb...)
	k = append(append(k, 0), host...)
	k = append(append(k, 0), stmt...)
	g.key = k
	if i, ok := g.index[string(k)]; ok {
		return g.groups[i]
	}
	if len(g.groups) >= g.max {
		if g.other == nil {
			g.other = &stmtGroup{StatementGroup: StatementGroup{Proto: "*", Kind: "*", Other: true}, stride: 1}
		}
		return g.other
	}
	grp := &stmtGroup{StatementGroup: StatementGroup{Proto: proto, Kind: kind, Verb: verb, Host: string(host),
		Statement: string(stmt)}, stride: 1}
	g.index[string(k)] = len(g.groups)
	g.groups = append(g.groups, grp)
	return grp
}

// add counts one transaction.
func (s *stmtGroup) add(t *Transaction) {
	s.Count++
	if t.Error {
		s.Errors++
	}
	if t.Incomplete {
		s.Incomplete++
	}
	s.TextTruncated = s.TextTruncated || t.TextTruncated
	s.Turns += t.Turns
	s.RequestBytes += t.RequestBytes
	s.ResponseBytes += t.ResponseBytes
	s.ServerTime += t.ServerTime
	s.ServerTimeMax = max(s.ServerTimeMax, t.ServerTime)
	s.Duration += t.Duration
	s.sample(t.ServerTime)
}

// sample keeps one server time in stride: all of them up to
// maxServerTimes, then every other one of those kept and so on.
func (s *stmtGroup) sample(v time.Duration) {
	if s.skip > 0 {
		s.skip--
		return
	}
	if len(s.times) == maxServerTimes {
		s.decimate()
	}
	s.times = append(s.times, v)
	s.skip = s.stride - 1
}

// decimate keeps every other server time and doubles the stride.
func (s *stmtGroup) decimate() {
	n := 0
	for i := 0; i < len(s.times); i += 2 {
		s.times[n] = s.times[i]
		n++
	}
	s.times = s.times[:n]
	s.stride *= 2
}

// Groups returns the groups in the order their first transaction was
// added, the Other group (if any) last, with their quantiles.
func (g *StatementGroups) Groups() []StatementGroup {
	out := make([]StatementGroup, 0, len(g.groups)+1)
	var tmp []time.Duration
	for _, grp := range append(g.groups[:len(g.groups):len(g.groups)], g.other) {
		if grp == nil {
			continue
		}
		s := grp.StatementGroup
		tmp = append(tmp[:0], grp.times...)
		slices.Sort(tmp)
		s.ServerTimeP50, s.ServerTimeP95 = nearestRank(tmp, 0.50), nearestRank(tmp, 0.95)
		out = append(out, s)
	}
	return out
}

// Len returns the number of groups, the Other one included.
func (g *StatementGroups) Len() int {
	if g.other != nil {
		return len(g.groups) + 1
	}
	return len(g.groups)
}

// nearestRank returns the p-quantile of sorted v: its ceil(p*n)-th
// smallest value; 0 for none.
func nearestRank(v []time.Duration, p float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(v)))) - 1
	return v[min(max(i, 0), len(v)-1)]
}

// Merge adds the groups of o, a collector filled apart (another shard's):
// the sums and counts add up; the server-time samples are joined at the
// coarser of the two strides.
func (g *StatementGroups) Merge(o *StatementGroups) {
	for _, og := range append(o.groups[:len(o.groups):len(o.groups)], o.other) {
		if og == nil {
			continue
		}
		var grp *stmtGroup
		if og.Other {
			if g.other == nil {
				g.other = &stmtGroup{StatementGroup: StatementGroup{Proto: "*", Kind: "*", Other: true}, stride: 1}
			}
			grp = g.other
		} else {
			grp = g.group(og.Proto, og.Kind, og.Verb, []byte(og.Host), []byte(og.Statement))
		}
		grp.merge(og)
	}
}

// merge adds the counts and samples of o to s.
func (s *stmtGroup) merge(o *stmtGroup) {
	s.Count += o.Count
	s.Errors += o.Errors
	s.Incomplete += o.Incomplete
	s.TextTruncated = s.TextTruncated || o.TextTruncated
	s.Turns += o.Turns
	s.RequestBytes += o.RequestBytes
	s.ResponseBytes += o.ResponseBytes
	s.ServerTime += o.ServerTime
	s.ServerTimeMax = max(s.ServerTimeMax, o.ServerTimeMax)
	s.Duration += o.Duration
	times := o.times
	for stride := o.stride; stride < s.stride; stride *= 2 {
		times = everyOther(times)
	}
	for s.stride < o.stride {
		s.decimate()
	}
	s.times = append(s.times, times...)
	for len(s.times) > maxServerTimes {
		s.decimate()
	}
}

// everyOther returns a new slice of every other value of v.
func everyOther(v []time.Duration) []time.Duration {
	out := make([]time.Duration, 0, (len(v)+1)/2)
	for i := 0; i < len(v); i += 2 {
		out = append(out, v[i])
	}
	return out
}
