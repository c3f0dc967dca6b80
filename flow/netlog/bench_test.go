package netlog_test

import (
	"path/filepath"
	"testing"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/netlog"
	"github.com/netecology/netecology/tcpstate"
)

// recorded is one packet as flow passed it, copied out of the pass.
type recorded struct {
	info flow.PacketInfo
	seg  tcpstate.Segment
	an   tcpstate.Analysis
}

// recorder keeps copies of the packets and transactions of a pass.
type recorder struct {
	pkts []recorded
	txns []appproto.Transaction
	conn *flow.Conn
}

func (r *recorder) Packet(p *flow.PacketInfo) {
	if p.Seg == nil {
		return
	}
	x := recorded{info: *p, seg: *p.Seg}
	if p.Analysis != nil {
		x.an = *p.Analysis
	}
	x.info.L4, x.seg.Payload = nil, nil
	r.pkts = append(r.pkts, x)
}

func (r *recorder) ConnEnd(c *flow.Conn) { r.conn = c }

func (r *recorder) Transaction(_ *flow.Conn, t *appproto.Transaction) { r.txns = append(r.txns, *t) }

// BenchmarkLoggerPacket feeds a Logger the 415 packets and 200
// transactions of the committed chatty PostgreSQL session, then ends the
// connection: after the first pass the event list is reused, so a pass
// allocates nothing.
func BenchmarkLoggerPacket(b *testing.B) {
	r := &recorder{}
	_, err := flow.AnalyzeFile(filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-pg-chatty.pcap"),
		flow.Config{Consumers: []flow.Consumer{r}})
	if err != nil {
		b.Fatal(err)
	}
	lg := netlog.New(netlog.Config{}, netlog.HandlerFunc(func(*flow.Conn, []netlog.Event) error { return nil }))
	for i := range r.pkts {
		x := &r.pkts[i]
		x.info.Seg, x.info.Analysis = &x.seg, &x.an
	}
	pass := func() {
		for i := range r.pkts {
			lg.Packet(&r.pkts[i].info)
		}
		for i := range r.txns {
			lg.Transaction(r.conn, &r.txns[i])
		}
		lg.ConnEnd(r.conn)
	}
	pass()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pass()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(r.pkts)), "ns/packet")
}
