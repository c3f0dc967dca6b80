package census

import (
	"fmt"

	"github.com/netecology/netecology/flow"
)

// linkCast is how the link layer addressed a frame.
type linkCast uint8

const (
	linkUnicast linkCast = iota
	linkMulticast
	linkBroadcast
)

// linkInfo is what the census needs of a frame's link layer: its
// EtherType (0 for an IEEE 802.3 frame whose type field is a length) and
// how its destination was addressed, as flow's decoder read them
// (flow.PacketInfo.EtherType and LinkDst). known is false for link types
// that show neither (raw IP, loopback, NFLOG); Layers.LinkKnown counts the
// packets that showed them. The tests may set Census.link to a function
// that returns what they know of the frames they built.
type linkInfo struct {
	known     bool
	etherType uint16
	cast      linkCast
}

// linkOf returns what flow tells of p's link layer.
func linkOf(p *flow.PacketInfo) linkInfo {
	l := linkInfo{known: p.LinkDst != flow.LinkDstUnknown, etherType: p.EtherType}
	switch p.LinkDst {
	case flow.LinkDstMulticast:
		l.cast = linkMulticast
	case flow.LinkDstBroadcast:
		l.cast = linkBroadcast
	}
	return l
}

// etherTypeNames names the EtherTypes of non-IP protocols a WAN census is
// likely to meet (IEEE registry).
var etherTypeNames = map[uint16]string{
	0x0000: "802.3/llc",
	0x6003: "decnet",
	0x8035: "rarp",
	0x809b: "appletalk",
	0x80f3: "aarp",
	0x8137: "ipx",
	0x8138: "ipx",
	0x8809: "slow_protocols",
	0x8847: "mpls",
	0x8848: "mpls",
	0x8863: "pppoe_discovery",
	0x8864: "pppoe_session",
	0x888e: "eapol",
	0x88cc: "lldp",
	0x88f7: "ptp",
	0x9000: "loopback",
}

// etherTypeName is the row name of non-IP frames of EtherType t.
func etherTypeName(t uint16) string {
	if n, ok := etherTypeNames[t]; ok {
		return fmt.Sprintf("0x%04x %s", t, n)
	}
	return fmt.Sprintf("0x%04x", t)
}
