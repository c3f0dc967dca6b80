package flow_test

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/netecology/netecology/flow"
)

// Analyze a capture held in memory: one HTTP exchange over IPv4 on a raw-IP
// link, built by hand.
func ExampleAnalyze() {
	pkts := handshake()
	capture := pcapFile(binary.LittleEndian, false, uint32(flow.LinkRaw), pkts, times(len(pkts)))

	res, err := flow.Analyze(bytes.NewReader(capture), flow.Config{KeepConns: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range res.Conns {
		fmt.Printf("%d %s -> %s %s, %d+%d packets, %d+%d payload bytes\n",
			c.ID, c.Client, c.Server, c.State, c.C2S.Packets, c.S2C.Packets,
			c.C2S.UniqueBytes, c.S2C.UniqueBytes)
	}
	fmt.Println(res.Summary.Packets, "packets,", res.Summary.TCPPackets, "TCP")
	// Output:
	// 1 10.0.0.1:40000 -> 10.0.0.2:80 complete, 4+3 packets, 18+24 payload bytes
	// 7 packets, 7 TCP
}

// Stream a capture connection by connection: a Consumer receives each
// connection as it ends and the Analyzer keeps none (Config.KeepConns is
// not set), so memory is bounded by the live ones.
func ExampleAnalyzer() {
	pkts := handshake()
	capture := pcapFile(binary.LittleEndian, false, uint32(flow.LinkRaw), pkts, times(len(pkts)))

	rd, err := flow.NewReader(bytes.NewReader(capture))
	if err != nil {
		fmt.Println(err)
		return
	}
	a := flow.NewAnalyzer(flow.Config{
		MaxConns: 1000,
		Consumers: []flow.Consumer{flow.ConnFunc(func(c *flow.Conn) {
			fmt.Println("ended:", c.Client, "->", c.Server, c.State, c.End)
		})},
	})
	for {
		p, err := rd.Next()
		if err != nil {
			break // io.EOF, or a *flow.ReadError for a damaged file
		}
		a.Add(p)
	}
	a.Close()
	// Output:
	// ended: 10.0.0.1:40000 -> 10.0.0.2:80 complete closed
}

// counter is a Consumer of the pass: it counts the TCP segments carrying
// data and prints each connection as it ends.
type counter struct{ data int }

func (c *counter) Packet(p *flow.PacketInfo) {
	if p.Seg != nil && p.Seg.Len > 0 {
		c.data++
	}
}

func (c *counter) ConnEnd(conn *flow.Conn) {
	fmt.Printf("conn %d ended (%s): %d data segments so far, %d packets\n",
		conn.ID, conn.End, c.data, conn.C2S.Packets+conn.S2C.Packets)
}

// Consumers share the Analyzer's one pass: each sees every packet, then
// every connection as it ends, in the order listed.
func ExampleConsumer() {
	pkts := handshake()
	capture := pcapFile(binary.LittleEndian, false, uint32(flow.LinkRaw), pkts, times(len(pkts)))
	c := &counter{}
	res, err := flow.Analyze(bytes.NewReader(capture), flow.Config{Consumers: []flow.Consumer{c}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Summary.Connections, "connection,", len(res.Conns), "kept")
	// Output:
	// conn 1 ended (closed): 2 data segments so far, 7 packets
	// 1 connection, 0 kept
}
