package flow

// This file is the only place that imports gopacket: google/gopacket decodes
// link and network layers, the gopacket/gopacket fork's pcapgo reads pcap
// files (pcapng files are read by ngblock.go, which says why). The two
// modules define LinkType differently (uint8 in google's, uint16 in the
// fork's, which alone knows SLL2), so link types are converted with an
// explicit switch, never a cast, and the link headers google's module does
// not decode (SLL2, NFLOG, BSD null/loop) are stripped here by hand.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	forklayers "github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// LinkType is a capture link type, numbered as the LINKTYPE_ values of
// tcpdump.org's registry.
type LinkType uint16

// Link types the reader decodes. Packets of any other link type are counted
// as skipped ("unsupported_link_type").
const (
	LinkNull     LinkType = 0   // BSD loopback, address family in host byte order
	LinkEthernet LinkType = 1   // Ethernet, with 802.1Q and QinQ tags
	LinkRawBSD   LinkType = 12  // raw IP (DLT_RAW on some BSDs)
	LinkRawOBSD  LinkType = 14  // raw IP (DLT_RAW on OpenBSD)
	LinkRaw      LinkType = 101 // raw IPv4 or IPv6
	LinkLoop     LinkType = 108 // OpenBSD loopback, address family in network byte order
	LinkLinuxSLL LinkType = 113 // Linux cooked capture v1
	LinkIPv4     LinkType = 228 // raw IPv4
	LinkIPv6     LinkType = 229 // raw IPv6
	LinkNFLog    LinkType = 239 // Linux netfilter NFLOG
	LinkSLL2     LinkType = 276 // Linux cooked capture v2
)

// Packet is one record read from a capture.
type Packet struct {
	Index uint64 // 1-based position in the file, like Wireshark's frame number
	// Time is the capture timestamp, UTC. A pcapng timestamp is computed
	// exactly from its interface's if_tsresol and if_tsoffset (to the
	// nanosecond, fractions dropped), so it may lie outside the years 1
	// to 9999 (the Analyzer skips such packets); one beyond what a
	// time.Time can hold is the latest time.Time. A pcapng Simple Packet
	// Block has no timestamp: its Time is the zero Time.
	Time time.Time
	// Length is the original length on the wire (for a pcapng packet
	// whose original length is below its captured length, the captured
	// length: see Reader.Warnings).
	Length   int
	LinkType LinkType
	// Data holds the captured bytes (len(Data) is the capture length). It
	// is owned by the Reader and valid until the next call to Next.
	Data []byte
}

// Format names a capture file format.
type Format string

// Capture file formats the Reader recognises by magic number.
const (
	FormatPcap   Format = "pcap"
	FormatPcapNG Format = "pcapng"
)

// ReadError reports a record that could not be read. Everything before it
// was delivered; reading stops there.
type ReadError struct {
	// Record is the 1-based index the next packet would have had: the
	// failed record is that packet, or (pcapng) a block before it, which
	// Err names.
	Record uint64
	// Offset is the byte offset (in the decompressed stream) where the
	// failed record or block starts.
	Offset int64
	// OffsetExact is always set: Offset is exact for pcap and pcapng
	// alike. (It was not for pcapng when pcapgo read those files ahead.)
	OffsetExact bool
	Err         error
}

func (e *ReadError) Error() string {
	where := "at"
	if !e.OffsetExact {
		where = "near"
	}
	return fmt.Sprintf("read record %d %s byte offset %d: %v", e.Record, where, e.Offset, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// ErrUnknownFormat is returned by NewReader when the input is neither pcap
// nor pcapng (after gzip decompression, if gzipped).
var ErrUnknownFormat = errors.New("not a pcap or pcapng capture")

// Reader reads packets from a pcap or pcapng capture, either possibly
// gzip-compressed; the format is told by the magic number, never by the
// file name. It streams: one record in memory at a time, in a buffer it
// reuses (records longer than 256 KiB included). Its error is sticky: after
// Next returns an error, it returns the same error.
type Reader struct {
	format  Format
	gzipped bool
	// pcap: pcapgo reads the records from src, a bufio.Reader it uses
	// as it is (so a record's header can be peeked before it does),
	// except those above 256 KiB, read into large.
	pcap      *pcapgo.Reader
	src       *bufio.Reader
	bigEndian bool
	tsFactor  uint32 // nanoseconds per unit of a record's fraction field
	maxCap    uint32 // the longest record pcapgo takes
	large     []byte
	offset    int64 // pcap: offset of the next record
	link      LinkType
	ng        *ngReader
	warn      [numWarnings]uint64
	pkt       Packet
	err       error
}

// NewReader reads the file header of a capture from r and returns a
// Reader positioned at the first packet.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{}
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("read file header: %w", noEOF(err))
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read gzip header: %w", err)
		}
		rd.gzipped = true
		br = bufio.NewReaderSize(zr, 64<<10)
		if magic, err = br.Peek(4); err != nil {
			return nil, fmt.Errorf("read file header: %w", noEOF(err))
		}
	}
	switch m := binary.LittleEndian.Uint32(magic); m {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		rd.format = FormatPcap
		rd.bigEndian = m == 0xd4c3b2a1 || m == 0x4d3cb2a1
		rd.tsFactor = 1000
		if m == 0xa1b23c4d || m == 0x4d3cb2a1 {
			rd.tsFactor = 1
		}
		rd.src = lenientPcapHeader(br, rd.bigEndian)
		p, err := pcapgo.NewReader(rd.src)
		if err != nil {
			return nil, fmt.Errorf("read pcap header: %w", noEOF(err))
		}
		rd.pcap = p
		rd.link = convertLinkType(p.LinkType())
		rd.maxCap = max(p.Snaplen(), pcapgoEagerMax)
		rd.offset = 24
	case 0x0a0d0d0a:
		rd.format = FormatPcapNG
		rd.ng = &ngReader{r: br, warn: &rd.warn}
		typ, body, err := rd.ng.block()
		if err == nil && typ == ngSectionHeader { // it is: the magic is its type
			err = rd.ng.section(body)
		}
		if err != nil {
			return nil, fmt.Errorf("read pcapng section header: %w", noEOF(err))
		}
	default:
		return nil, fmt.Errorf("%w: magic %08x", ErrUnknownFormat, binary.BigEndian.Uint32(magic))
	}
	return rd, nil
}

// pcapgoEagerMax is the longest pcap record pcapgo reads into the buffer
// it reuses (libpcap's largest snap length, 256 KiB); it reads a longer one
// into a new slice that grows as the bytes arrive, some 2.7 times the
// record's size, every time. The Reader reads those itself, into a buffer
// it keeps.
const pcapgoEagerMax = 256 << 10

// lenientPcapHeader returns the stream pcapgo is to read: br, or, when the
// file header's minor version is not 4 (the only one pcapgo accepts),
// the header with minor version 4 followed by the rest of br. libpcap and
// Wireshark read files whose writers put another minor version (0 is
// common in fuzzers' and old tools' output), and the record format does
// not depend on it. Either way it is a bufio.Reader of 64 KiB, which
// pcapgo reads from directly rather than through a buffer of its own.
func lenientPcapHeader(br *bufio.Reader, bigEndian bool) *bufio.Reader {
	hdr, err := br.Peek(24)
	if err != nil {
		return br // pcapgo reports the short header
	}
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	if order.Uint16(hdr[6:]) == 4 {
		return br
	}
	fixed := slices.Clone(hdr)
	order.PutUint16(fixed[6:], 4)
	_, _ = br.Discard(24)
	return bufio.NewReaderSize(io.MultiReader(bytes.NewReader(fixed), br), br.Size())
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Format returns the capture's format.
func (r *Reader) Format() Format { return r.format }

// Gzipped reports whether the capture was gzip-compressed.
func (r *Reader) Gzipped() bool { return r.gzipped }

// Warnings counts, by name, the flaws in the records read so far that the
// Reader worked around rather than stopping at; nil when there were none.
// They concern pcapng files (a pcap record with such a flaw is a
// *ReadError, as pcapgo reads it):
//
//   - block_length_mismatch: a block's trailing length differs from its
//     leading one; the leading one is used (the block was framed by it,
//     and had it been wrong the next block would not have parsed).
//   - orig_len_below_cap_len: a packet's original length is below its
//     captured length; the captured length is taken as the original
//     (those bytes are in the file), so the packet counts as whole.
//   - cap_len_over_snaplen: a packet holds more bytes than its interface's
//     snap length; all are delivered (the block frames them consistently,
//     and tcpdump and Wireshark read them too).
//   - bad_interface_option: an interface's if_tsresol or if_tsoffset has a
//     wrong length or is repeated, or an option runs past its block; the
//     option (the first of a repeated one is kept) or the rest of the
//     list is ignored.
func (r *Reader) Warnings() map[string]uint64 {
	var m map[string]uint64
	for w, n := range r.warn {
		if n > 0 {
			if m == nil {
				m = make(map[string]uint64)
			}
			m[warningNames[w]] = n
		}
	}
	return m
}

// Next returns the next packet. It returns io.EOF after the last one and a
// *ReadError for a record that cannot be read (cut short, a length beyond
// any snap length or limit, a corrupt block; see MaxPcapNGBlock and
// MaxPcapNGInterfaces). The packet's Data is valid until the next call.
func (r *Reader) Next() (*Packet, error) {
	if r.err != nil {
		return nil, r.err
	}
	var err error
	if r.ng != nil {
		err = r.ng.next(&r.pkt)
	} else {
		err = r.nextPcap(&r.pkt)
	}
	if err != nil {
		if err == io.EOF {
			r.err = io.EOF
			return nil, io.EOF
		}
		re := &ReadError{Record: r.pkt.Index + 1, Offset: r.offset, OffsetExact: true, Err: err}
		if r.ng != nil {
			re.Offset = r.ng.start
		}
		r.err = re
		return nil, re
	}
	r.pkt.Index++
	return &r.pkt, nil
}

// nextPcap fills p with the next pcap record (all but Index). pcapgo reads
// it, unless its header (peeked) announces one above pcapgoEagerMax that
// pcapgo would take: that one is read here, with pcapgo's arithmetic.
func (r *Reader) nextPcap(p *Packet) error {
	h, err := r.src.Peek(16)
	if len(h) < 16 {
		if len(h) == 0 && err == io.EOF {
			return io.EOF
		}
		return noEOF(err)
	}
	u32 := binary.LittleEndian.Uint32
	if r.bigEndian {
		u32 = binary.BigEndian.Uint32
	}
	if capLen, origLen := u32(h[8:]), u32(h[12:]); capLen > pcapgoEagerMax && capLen <= r.maxCap && capLen <= origLen {
		sec, frac := u32(h), u32(h[4:])
		_, _ = r.src.Discard(16) // peeked
		data, err := readFullGrow(r.src, &r.large, int(capLen))
		if err != nil {
			return err
		}
		// As pcapgo computes it (the fraction's product in 32 bits), so
		// a record's time does not depend on its size.
		p.Time = time.Unix(int64(sec), int64(frac*r.tsFactor)).UTC()
		p.Length, p.Data = int(origLen), data
	} else {
		data, ci, err := r.pcap.ZeroCopyReadPacketData()
		if err != nil {
			// The header was there: io.EOF means the data is missing.
			return noEOF(err)
		}
		p.Time, p.Length, p.Data = ci.Timestamp, ci.Length, data
	}
	p.LinkType = r.link
	r.offset += 16 + int64(len(p.Data))
	return nil
}

// convertLinkType maps the fork's link type to ours. Every supported type
// is listed; others keep their number and are skipped when decoded.
func convertLinkType(lt forklayers.LinkType) LinkType {
	switch lt {
	case forklayers.LinkTypeNull:
		return LinkNull
	case forklayers.LinkTypeEthernet:
		return LinkEthernet
	case forklayers.LinkTypeRaw:
		return LinkRaw
	case forklayers.LinkTypeLoop:
		return LinkLoop
	case forklayers.LinkTypeLinuxSLL:
		return LinkLinuxSLL
	case forklayers.LinkTypeIPv4:
		return LinkIPv4
	case forklayers.LinkTypeIPv6:
		return LinkIPv6
	case forklayers.LinkTypeLinuxSLL2:
		return LinkSLL2
	case forklayers.LinkType(LinkNFLog), forklayers.LinkType(LinkRawBSD), forklayers.LinkType(LinkRawOBSD):
		return LinkType(lt)
	}
	return LinkType(lt)
}

// netPacket is what the decoder extracts from one packet: the network
// addresses and the transport header with its payload.
type netPacket struct {
	kind     Kind
	skip     SkipReason
	src, dst netip.Addr
	proto    uint8
	// l4 holds the captured transport bytes; l4Len is the transport
	// length on the wire according to the IP header.
	l4    []byte
	l4Len int
	// ipTruncated is set when the capture holds fewer bytes than the IP
	// header says were sent.
	ipTruncated bool
	// etherType and linkDst are what the link header said (see
	// PacketInfo).
	etherType uint16
	linkDst   LinkDst
	// ipID is the IPv4 identification field, valid when hasIPID is set.
	ipID    uint16
	hasIPID bool
}

// decoder decodes link and network layers with gopacket's
// DecodingLayerParser into layer structs it owns: no allocation per packet.
type decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	sll     layers.LinuxSLL
	ip4     layers.IPv4
	ip6     layers.IPv6
	arp     layers.ARP
	pEth    *gopacket.DecodingLayerParser
	pSLL    *gopacket.DecodingLayerParser
	pIP4    *gopacket.DecodingLayerParser
	pIP6    *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newDecoder() *decoder {
	d := &decoder{decoded: make([]gopacket.LayerType, 0, 8)}
	mk := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first)
		// A slice indexed by layer type, not the default map: no hashing
		// per layer decoded.
		p.SetDecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
		p.AddDecodingLayer(&d.eth)
		p.AddDecodingLayer(&d.dot1q)
		p.AddDecodingLayer(&d.sll)
		p.AddDecodingLayer(&d.ip4)
		p.AddDecodingLayer(&d.ip6)
		p.AddDecodingLayer(&d.arp)
		p.IgnoreUnsupported = true
		return p
	}
	d.pEth = mk(layers.LayerTypeEthernet)
	d.pSLL = mk(layers.LayerTypeLinuxSLL)
	d.pIP4 = mk(layers.LayerTypeIPv4)
	d.pIP6 = mk(layers.LayerTypeIPv6)
	return d
}

// Address families found in BSD null/loop and NFLOG headers.
const (
	afInet         = 2
	afInet6Linux   = 10
	afInet6NetBSD  = 24
	afInet6FreeBSD = 28
	afInet6Darwin  = 30
)

// decode fills np from one packet's bytes, of a frame of wire bytes on
// the wire (more than len(data) when the snap length cut it).
func (d *decoder) decode(lt LinkType, data []byte, wire int, np *netPacket) {
	*np = netPacket{}
	p, b := d.parser(lt, data, np)
	if p == nil {
		return // skipped or not IP: np says which
	}
	err := p.DecodeLayers(b, &d.decoded)
	d.link(np)
	d.network(err, len(data) < wire || p.Truncated, np)
	// An IP length claiming more than the frame carried is cut to the
	// frame, as tshark does ("IPv4 total length exceeds packet length"):
	// the transport bytes end with the frame on the wire.
	if at := cap(data) - cap(np.l4); np.l4 != nil && at >= 0 && at <= len(data) && np.l4Len > wire-at {
		np.l4Len = max(wire-at, len(np.l4))
	}
}

// parser picks the layer parser for a packet of link type lt and the
// bytes it starts at, reading the link headers gopacket has no layer for
// (loopback families, SLL2, NFLOG) itself. It returns nil when the packet
// is settled already: skipped, or not IP (np says which).
func (d *decoder) parser(lt LinkType, data []byte, np *netPacket) (*gopacket.DecodingLayerParser, []byte) {
	switch lt {
	case LinkEthernet:
		return d.pEth, data
	case LinkLinuxSLL:
		return d.pSLL, data
	case LinkRaw, LinkRawBSD, LinkRawOBSD:
		if len(data) == 0 {
			np.skip = SkipTruncated
			return nil, nil
		}
		return d.byVersion(data[0]>>4, np), data
	case LinkIPv4:
		return d.pIP4, data
	case LinkIPv6:
		return d.pIP6, data
	case LinkNull, LinkLoop:
		return d.loopback(lt, data, np)
	case LinkSLL2:
		// struct sll2_header: protocol (2), reserved (2), ifindex (4),
		// hatype (2), pkttype (1), halen (1), addr (8).
		if len(data) < 20 {
			np.skip = SkipTruncated
			return nil, nil
		}
		proto := binary.BigEndian.Uint16(data)
		np.etherType, np.linkDst = proto, sllDst(data[10])
		return d.byEtherType(proto, np), data[20:]
	case LinkNFLog:
		return d.nflog(data, np)
	}
	np.skip = SkipUnsupportedLink
	return nil, nil
}

// byVersion is the parser for an IP packet of version v (raw IP links).
func (d *decoder) byVersion(v byte, np *netPacket) *gopacket.DecodingLayerParser {
	switch v {
	case 4:
		return d.pIP4
	case 6:
		return d.pIP6
	}
	np.skip = SkipMalformed
	return nil
}

// byEtherType is the parser for an IPv4 or IPv6 payload of the given
// Ethernet type; other types are non-IP.
func (d *decoder) byEtherType(t uint16, np *netPacket) *gopacket.DecodingLayerParser {
	switch t {
	case 0x0800:
		return d.pIP4
	case 0x86dd:
		return d.pIP6
	}
	np.kind = KindNonIP
	return nil
}

// loopback reads the 4-byte address family of BSD null/loopback (host
// byte order, either) and OpenBSD loop (network order) links.
func (d *decoder) loopback(lt LinkType, data []byte, np *netPacket) (*gopacket.DecodingLayerParser, []byte) {
	if len(data) < 4 {
		np.skip = SkipTruncated
		return nil, nil
	}
	var fam uint32
	if lt == LinkLoop {
		fam = binary.BigEndian.Uint32(data)
	} else if fam = binary.LittleEndian.Uint32(data); fam > 0xffff {
		fam = binary.BigEndian.Uint32(data)
	}
	data = data[4:]
	switch fam {
	case afInet:
		return d.pIP4, data
	case afInet6Linux, afInet6NetBSD, afInet6FreeBSD, afInet6Darwin:
		return d.pIP6, data
	}
	// Some writers put an Ethernet type in the low half instead of an
	// address family; Wireshark accepts that too.
	return d.byEtherType(uint16(fam), np), data
}

// nflog finds the packet in an NFLOG record.
func (d *decoder) nflog(data []byte, np *netPacket) (*gopacket.DecodingLayerParser, []byte) {
	data, fam, ok := nflogPayload(data)
	if !ok {
		np.skip = SkipMalformed
		return nil, nil
	}
	var p *gopacket.DecodingLayerParser
	switch fam {
	case afInet:
		p = d.pIP4
	case afInet6Linux:
		p = d.pIP6
	}
	if p == nil || data == nil { // another family, or a record without a packet
		np.kind = KindNonIP
		return nil, nil
	}
	return p, data
}

// link notes the EtherType and destination of an Ethernet or SLL header
// the parser decoded (after any 802.1Q tags).
func (d *decoder) link(np *netPacket) {
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeEthernet:
			np.etherType = uint16(d.eth.EthernetType)
			switch mac := d.eth.DstMAC; {
			case len(mac) == 6 && mac[0]&mac[1]&mac[2]&mac[3]&mac[4]&mac[5] == 0xff:
				np.linkDst = LinkDstBroadcast
			case len(mac) == 6 && mac[0]&1 == 1:
				np.linkDst = LinkDstMulticast
			case len(mac) == 6:
				np.linkDst = LinkDstUnicast
			}
		case layers.LayerTypeDot1Q:
			np.etherType = uint16(d.dot1q.Type)
		case layers.LayerTypeLinuxSLL:
			np.etherType = uint16(d.sll.EthernetType)
			np.linkDst = sllDst(uint8(d.sll.PacketType))
		}
	}
}

// sllDst reads a Linux cooked header's packet type (0 to us, 1 broadcast,
// 2 multicast, 3 to another host, 4 sent by us).
func sllDst(pkttype uint8) LinkDst {
	switch pkttype {
	case 0, 3, 4:
		return LinkDstUnicast
	case 1:
		return LinkDstBroadcast
	case 2:
		return LinkDstMulticast
	}
	return LinkDstUnknown
}

// nflogPayload walks an NFLOG record's TLVs (lengths in host byte order,
// little-endian on every capture seen) to the packet payload (type 9).
func nflogPayload(b []byte) (payload []byte, family uint8, ok bool) {
	if len(b) < 4 {
		return nil, 0, false
	}
	family = b[0]
	b = b[4:]
	for len(b) >= 4 {
		n := int(binary.LittleEndian.Uint16(b))
		typ := binary.LittleEndian.Uint16(b[2:])
		if n < 4 || n > len(b) {
			return nil, family, false
		}
		if typ == 9 {
			return b[4:n], family, true
		}
		n = (n + 3) &^ 3
		if n > len(b) {
			return nil, family, true
		}
		b = b[n:]
	}
	return nil, family, true
}

// network reads the decoded layers into np.
func (d *decoder) network(err error, truncated bool, np *netPacket) {
	var last gopacket.LayerType
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypeARP:
			last = t
		}
	}
	switch last {
	case layers.LayerTypeARP:
		np.kind = KindARP
		return
	case layers.LayerTypeIPv4:
		ip := &d.ip4
		np.src, _ = netip.AddrFromSlice(ip.SrcIP)
		np.dst, _ = netip.AddrFromSlice(ip.DstIP)
		np.proto = uint8(ip.Protocol)
		np.ipID, np.hasIPID = ip.Id, true
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			// Not reassembled; the addresses stay known to consumers.
			np.skip = SkipFragment
			return
		}
		np.l4 = ip.Payload
		np.l4Len = int(ip.Length) - int(ip.IHL)*4
		np.ipTruncated = len(ip.Payload) < np.l4Len
	case layers.LayerTypeIPv6:
		ip := &d.ip6
		np.src, _ = netip.AddrFromSlice(ip.SrcIP)
		np.dst, _ = netip.AddrFromSlice(ip.DstIP)
		nh, b, wire := uint8(ip.NextHeader), ip.Payload, int(ip.Length)
		if ip.HopByHop != nil {
			nh = uint8(ip.HopByHop.NextHeader)
			wire -= len(ip.HopByHop.Contents)
		}
		if !ipv6Transport(&nh, &b, &wire, np) {
			return
		}
		np.proto, np.l4, np.l4Len = nh, b, wire
		np.ipTruncated = len(b) < wire
	default:
		switch {
		case err != nil && truncated:
			np.skip = SkipTruncated
		case err != nil:
			np.skip = SkipMalformed
		default:
			np.kind = KindNonIP
		}
		return
	}
	if np.l4Len < 0 {
		np.skip = SkipMalformed
		return
	}
	np.kind = kindOfProto(np.proto)
}

// ipv6Transport walks IPv6 extension headers (RFC 8200 section 4) from the
// header type *nh at *b to the transport header. It reports false, with np
// set, for fragments and for chains it cannot walk.
func ipv6Transport(nh *uint8, b *[]byte, wire *int, np *netPacket) bool {
	for range 16 {
		switch *nh {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(*b) < 2 {
				np.skip = SkipTruncated
				return false
			}
			n := (int((*b)[1]) + 1) * 8
			if n > len(*b) {
				np.skip = SkipTruncated
				return false
			}
			*nh = (*b)[0]
			*b = (*b)[n:]
			*wire -= n
		case 51: // authentication header: length in 4-byte units, minus 2
			if len(*b) < 2 {
				np.skip = SkipTruncated
				return false
			}
			n := (int((*b)[1]) + 2) * 4
			if n > len(*b) {
				np.skip = SkipTruncated
				return false
			}
			*nh = (*b)[0]
			*b = (*b)[n:]
			*wire -= n
		case 44:
			np.skip = SkipFragment
			return false
		default:
			return true
		}
	}
	np.skip = SkipMalformed
	return false
}
