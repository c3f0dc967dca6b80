// Command floodgen writes synthetic hostile captures for the memory and
// streaming tests of the tools (they are large; not committed):
//
//	go run ./flow/flowtest/floodgen -mode syn -n 1000000 > syn.pcap
//	go run ./flow/flowtest/floodgen -mode concurrent -n 200000 > conc.pcap
//	go run ./flow/flowtest/floodgen -mode endless | go run ./examples/flows -json -
//
// syn: n SYNs, each from its own source address and port, to one server
// (an answered-by-nobody flood: n one-packet connections). concurrent: n
// connections opened (handshake and a 100-byte request each) before any
// is answered, then each answered (200 bytes) and closed in the same
// order, so all n are live at once. endless: short connections (handshake,
// request, response, FIN both ways) forever, 64 open at a time, until the
// output is closed. Packets are raw IPv4 (LINKTYPE_RAW), 10 µs apart,
// from 2026-01-01.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/netecology/netecology/flow/flowtest"
)

func main() {
	mode := flag.String("mode", "syn", "syn, concurrent or endless")
	n := flag.Int("n", 1000000, "connections (syn, concurrent)")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	g, err := newGen(w)
	if err == nil {
		switch *mode {
		case "syn":
			err = g.syn(*n)
		case "concurrent":
			err = g.concurrent(*n)
		case "endless":
			err = g.endless()
		default:
			err = fmt.Errorf("unknown -mode %q", *mode)
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floodgen:", err)
		os.Exit(1)
	}
}

type gen struct {
	pw  *flowtest.PcapWriter
	t   time.Time
	buf []byte
	srv netip.AddrPort
}

func newGen(w *bufio.Writer) (*gen, error) {
	pw, err := flowtest.NewPcapWriter(w, flowtest.LinkRaw, true)
	return &gen{pw: pw, t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		srv: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 1}), 80)}, err
}

// client returns the i-th client endpoint: 10.x.y.z, port 1024 + i%60000.
func client(i int) netip.AddrPort {
	h := i / 60000
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(h >> 16), byte(h >> 8), byte(h)}), uint16(1024+i%60000))
}

var payload [200]byte

func (g *gen) put(s flowtest.TCP) error {
	g.buf = flowtest.AppendIP(g.buf[:0], &s)
	g.t = g.t.Add(10 * time.Microsecond)
	return g.pw.WritePacket(g.t, g.buf, len(g.buf))
}

const (
	fin = 0x01
	syn = 0x02
	psh = 0x08
	ack = 0x10
)

func (g *gen) syn(n int) error {
	for i := range n {
		if err := g.put(flowtest.TCP{Src: client(i), Dst: g.srv, Seq: uint32(i), Flags: syn, Window: 65535}); err != nil {
			return err
		}
	}
	return nil
}

// open writes the handshake and a 100-byte request of connection i.
func (g *gen) open(i int) error {
	c := client(i)
	for _, s := range []flowtest.TCP{
		{Src: c, Dst: g.srv, Seq: 1000, Flags: syn, Window: 65535},
		{Src: g.srv, Dst: c, Seq: 5000, Ack: 1001, Flags: syn | ack, Window: 65535},
		{Src: c, Dst: g.srv, Seq: 1001, Ack: 5001, Flags: ack, Window: 65535},
		{Src: c, Dst: g.srv, Seq: 1001, Ack: 5001, Flags: psh | ack, Window: 65535, Payload: payload[:100]},
	} {
		if err := g.put(s); err != nil {
			return err
		}
	}
	return nil
}

// close writes the 200-byte answer of connection i and its teardown.
func (g *gen) close(i int) error {
	c := client(i)
	for _, s := range []flowtest.TCP{
		{Src: g.srv, Dst: c, Seq: 5001, Ack: 1101, Flags: psh | ack, Window: 65535, Payload: payload[:200]},
		{Src: c, Dst: g.srv, Seq: 1101, Ack: 5201, Flags: fin | ack, Window: 65535},
		{Src: g.srv, Dst: c, Seq: 5201, Ack: 1102, Flags: fin | ack, Window: 65535},
		{Src: c, Dst: g.srv, Seq: 1102, Ack: 5202, Flags: ack, Window: 65535},
	} {
		if err := g.put(s); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) concurrent(n int) error {
	for i := range n {
		if err := g.open(i); err != nil {
			return err
		}
	}
	for i := range n {
		if err := g.close(i); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) endless() error {
	const open = 64
	for i := 0; ; i++ {
		if err := g.open(i); err != nil {
			return err
		}
		if i >= open {
			if err := g.close(i - open); err != nil {
				return err
			}
		}
	}
}
