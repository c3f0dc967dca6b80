package flow_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
)

// txRecorder records which connection each transaction is delivered with.
type txRecorder struct{ got []txSeen }

type txSeen struct {
	conn        int
	first, last uint64
	proto       string
}

func (*txRecorder) Packet(*flow.PacketInfo) {}
func (*txRecorder) ConnEnd(*flow.Conn)      {}
func (r *txRecorder) Transaction(c *flow.Conn, t *appproto.Transaction) {
	r.got = append(r.got, txSeen{c.ID, t.FirstPacket, t.LastPacket, t.Proto})
}

// TestTransactionConn checks that each transaction reaches the
// TransactionConsumers with its own connection when two HTTP connections
// interleave: B's exchange completes inside A's.
func TestTransactionConn(t *testing.T) {
	const a, b = 40001, 40002
	respA := []byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
	pkts := [][]byte{
		ipv4TCP(cli, srv, a, 80, 1000, 0x02, nil),                                                          // 1 A SYN
		ipv4TCP(srv, cli, 80, a, 5000, 0x12, nil),                                                          // 2 A SYN/ACK
		ipv4TCP(cli, srv, b, 80, 2000, 0x02, nil),                                                          // 3 B SYN
		ipv4TCP(srv, cli, 80, b, 6000, 0x12, nil),                                                          // 4 B SYN/ACK
		ipv4TCP(cli, srv, a, 80, 1001, 0x18, []byte("GET /a HTTP/1.1\r\n\r\n")),                            // 5 A request (19 bytes)
		ipv4TCP(cli, srv, b, 80, 2001, 0x18, []byte("GET /bb HTTP/1.1\r\n\r\n")),                           // 6 B request
		ipv4TCP(srv, cli, 80, b, 6001, 0x18, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nbb")),     // 7 B response
		ipv4TCP(srv, cli, 80, a, 5001, 0x18, respA),                                                        // 8 A response
		ipv4TCP(cli, srv, a, 80, 1020, 0x18, []byte("GET /a2 HTTP/1.1\r\n\r\n")),                           // 9 A request 2 (1001+19)
		ipv4TCP(srv, cli, 80, a, 5001+uint32(len(respA)), 0x18, []byte("HTTP/1.1 204 No Content\r\n\r\n")), // 10 A response 2
	}
	var rec txRecorder
	res := analyzeRaw(t, flow.Config{KeepConns: true, Consumers: []flow.Consumer{&rec}}, pkts, times(len(pkts)))
	require.Len(t, res.Conns, 2)
	// A is connection 1 (its SYN came first), B connection 2. Each
	// transaction runs from its request's packet to its response's, in
	// completion order: B's (6-7), then A's (5-8), then A's second (9-10).
	assert.Equal(t, []txSeen{{2, 6, 7, "http"}, {1, 5, 8, "http"}, {1, 9, 10, "http"}}, rec.got)
	assert.Equal(t, uint64(2), res.Conns[0].App.Transactions)
	assert.Equal(t, uint64(1), res.Conns[1].App.Transactions)
}

// TestMidstreamServerPortFromRegistry: the mid-stream client rule takes
// its well-known ports from the registry of Config.App, the one port
// table: a service registered there makes its end the server.
func TestMidstreamServerPortFromRegistry(t *testing.T) {
	pkts := [][]byte{
		// First packet from port 7000 to an ephemeral port: without a
		// claim on 7000 its sender is the client.
		ipv4TCP(srv, cli, 7000, 51000, 7, 0x18, []byte("row")),
		// 2483 is one of the TNS protocol's Ports (Oracle's registered
		// listener port): the server's end in the default registry.
		ipv4TCP(srv, cli, 2483, 51001, 7, 0x18, []byte("row")),
	}
	res := analyzeRaw(t, flow.Config{KeepConns: true}, pkts, times(len(pkts)))
	require.Len(t, res.Conns, 2)
	assert.Equal(t, "10.0.0.2:7000", res.Conns[0].Client.String())
	assert.Equal(t, "10.0.0.1:51001", res.Conns[1].Client.String())

	reg := appproto.DefaultRegistry()
	require.NoError(t, reg.RegisterService("inhouse", 7000))
	res = analyzeRaw(t, flow.Config{KeepConns: true, App: appproto.Config{Registry: reg}}, pkts, times(len(pkts)))
	require.Len(t, res.Conns, 2)
	assert.Equal(t, "10.0.0.1:51000", res.Conns[0].Client.String())
	assert.Equal(t, "10.0.0.2:7000", res.Conns[0].Server.String())
}
