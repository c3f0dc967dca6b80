// Command floor is the read+decode floor the project's speed is measured
// against: it reads a pcap or pcapng capture with pcapgo's ZeroCopyReadPacketData
// and decodes each packet's Ethernet, IPv4/IPv6 and TCP/UDP headers with
// gopacket's DecodingLayerParser, and does nothing else (it prints the
// packet and TCP counts). No analysis can be faster than this.
//
//	go run ./flow/flowtest/floor FILE
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	forkgopacket "github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var r interface {
		ZeroCopyReadPacketData() ([]byte, forkgopacket.CaptureInfo, error)
	}
	if magic, _ := br.Peek(4); string(magic) == "\x0a\x0d\x0d\x0a" {
		r, err = pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
	} else {
		r, err = pcapgo.NewReader(br)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		udp     layers.UDP
		payload gopacket.Payload
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &udp, &payload)
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	var n, ntcp uint64
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if err != nil {
			break
		}
		n++
		_ = p.DecodeLayers(data, &decoded)
		for _, t := range decoded {
			if t == layers.LayerTypeTCP {
				ntcp++
			}
		}
	}
	fmt.Printf("%d packets, %d TCP\n", n, ntcp)
}
