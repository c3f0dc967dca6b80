package appproto

import "fmt"

// TNS packet types (Oracle Net / SQL*Net).
const (
	tnsConnect   = 1
	tnsAccept    = 2
	tnsAck       = 3
	tnsRefuse    = 4
	tnsRedirect  = 5
	tnsData      = 6
	tnsNull      = 7
	tnsAbort     = 9
	tnsResend    = 11
	tnsMarker    = 12
	tnsAttention = 13
	tnsControl   = 14
	// tnsLargeSDU is the first version whose packets after the Accept carry
	// a 4-byte length in place of the 2-byte length and packet checksum.
	tnsLargeSDU = 315
)

var tnsNames = [...]string{tnsConnect: "Connect", tnsAccept: "Accept", tnsAck: "Ack", tnsRefuse: "Refuse",
	tnsRedirect: "Redirect", tnsData: "Data", tnsNull: "Null", tnsAbort: "Abort", tnsResend: "Resend",
	tnsMarker: "Marker", tnsAttention: "Attention", tnsControl: "Control"}

func tnsTypeName(t byte) string {
	if int(t) < len(tnsNames) {
		return tnsNames[t]
	}
	return ""
}

var tnsPorts = []uint16{1521, 1522, 1525, 1526, 1529, 2483}

// TNS is Oracle's Transparent Network Substrate, the transport of SQL*Net
// (Oracle Net). Every TNS packet is a message. Its 8-byte header is a
// length, a packet checksum, the type, flags and a header checksum; once
// an Accept has negotiated version 315 or later, the first four bytes of
// every following packet are a 32-bit length. A client Data packet opens a
// request; the server's packets up to the client's next Data packet are
// its response (TNS marks no end of a reply that framing can see).
type TNS struct{}

// Name returns "tns".
func (TNS) Name() string { return "tns" }

// Ports returns the usual listener ports.
func (TNS) Ports() []uint16 { return tnsPorts }

// Identify recognises a Connect packet (client) or an Accept, Refuse,
// Redirect or Resend packet (server) whose version and lengths are
// plausible, and, more weakly, any packet header with a valid type and
// zero checksums.
func (TNS) Identify(d Dir, b []byte) (float64, bool) {
	if len(b) < 8 {
		return 0, true
	}
	n, _ := be16(b, 0)
	typ := b[4]
	if n < 8 || tnsTypeName(typ) == "" {
		return 0, false
	}
	ver, ok := be16(b, 8)
	switch {
	case typ == tnsConnect && d == ClientToServer || typ == tnsAccept && d == ServerToClient:
		if !ok {
			return 0, true
		}
		if ver >= 300 && ver <= 400 && n >= 24 {
			return 0.95, false
		}
		return 0, false
	case typ == tnsResend && d == ServerToClient && n == 8, typ == tnsRefuse && d == ServerToClient, typ == tnsRedirect && d == ServerToClient:
		return 0.7, false
	}
	// Any other header with zero checksums is a weak match, enough only
	// with the port (see the package documentation).
	if b[6] == 0 && b[7] == 0 && b[2] == 0 && b[3] == 0 {
		return weakMatch, false
	}
	return 0, false
}

// NewParser returns a TNS parser.
func (TNS) NewParser(maxMessage int64) Parser { return &tnsParser{max: maxMessage} }

type tnsParser struct {
	textWaiter
	ft    FrameText
	max   int64
	large bool
	text  textBuf // a chunked statement, joined

	// What the Connect and Accept negotiated, and the packets of each
	// direction (see SQLNetStats).
	version                int
	connectSDU, connectTDU int
	acceptSDU, acceptTDU   int
	dirs                   [2]SQLNetDir
}

// Offsets in Connect and Accept packets (from the packet's start), after
// Wireshark's packet-tns.c: the 2-byte SDU and TDU sizes; and, in packets
// of version 315 or later, the 4-byte ones that replace them (the 2-byte
// fields saturate at 65535, or read 0 in an Accept).
const (
	tnsConnectSDU      = 14
	tnsConnectTDU      = 16
	tnsConnectDataOff  = 26
	tnsConnectLargeSDU = 58
	tnsConnectLargeTDU = 62
	tnsConnectLargeEnd = 66
	tnsAcceptSDU       = 12
	tnsAcceptTDU       = 14
	tnsAcceptDataLen   = 18
	tnsAcceptDataOff   = 20
	tnsAcceptLargeSDU  = 32
	tnsAcceptLargeTDU  = 36
	tnsAcceptLargeEnd  = 40
)

// Split frames one TNS packet.
func (p *tnsParser) Split(d Dir, b []byte) (Frame, error) {
	if len(b) < 8 {
		return Frame{}, nil
	}
	var n int64
	if p.large {
		n, _ = be32(b, 0)
	} else {
		v, _ := be16(b, 0)
		n = int64(v)
	}
	typ := b[4]
	name := tnsTypeName(typ)
	switch {
	case name == "":
		return Frame{}, fmt.Errorf("tns: packet type %d", typ)
	case n < 8:
		return Frame{}, fmt.Errorf("tns: length %d shorter than the header", n)
	case n > p.max:
		return Frame{}, fmt.Errorf("tns: length %d over the limit", n)
	}
	if typ == tnsConnect || typ == tnsAccept {
		// Wait for the sizes (bounded: the packet may be shorter).
		if need := min(n, tnsConnectLargeEnd); int64(len(b)) < need && !p.nowait {
			return Frame{}, nil
		}
		p.negotiation(typ, b)
	}
	f := Frame{Len: n, Start: true, End: true, Kind: name}
	if d == ClientToServer && typ == tnsData && len(b) < p.need(n) {
		return Frame{}, nil // a call's statement is still to come
	}
	p.count(d, typ, n)
	switch {
	case d == ClientToServer && typ == tnsData:
		if q, cut := p.statement(b[8:min(int64(len(b)), n)], int64(len(b)) < n); q != nil {
			p.ft = FrameText{Query: q, QueryCut: cut}
			f.Text, f.Verb = &p.ft, sqlVerb(q)
		}
		f.Role = Request | EndsPrevious
	case d == ServerToClient && typ == tnsRefuse:
		f.Role = Response | Error
	case d == ServerToClient:
		f.Role = Response
	}
	return f, nil
}

// negotiation reads the version, SDU and TDU of a Connect or an Accept
// packet b (as much of it as is given). An Accept of version 315 or later
// makes later packets carry 4-byte lengths.
func (p *tnsParser) negotiation(typ byte, b []byte) {
	ver, ok := be16(b, 8)
	if !ok {
		return
	}
	if typ == tnsAccept {
		p.version = ver
		p.large = ver >= tnsLargeSDU
		p.acceptSDU, p.acceptTDU = tnsSizes(b, tnsAcceptSDU, tnsAcceptTDU)
		dataLen, _ := be16(b, tnsAcceptDataLen)
		dataOff, _ := be16(b, tnsAcceptDataOff)
		if ver >= tnsLargeSDU && (dataLen == 0 || dataOff >= tnsAcceptLargeEnd) {
			p.acceptSDU, p.acceptTDU = tnsLargeSizes(b, tnsAcceptLargeSDU, tnsAcceptLargeTDU, p.acceptSDU, p.acceptTDU)
		}
		return
	}
	p.connectSDU, p.connectTDU = tnsSizes(b, tnsConnectSDU, tnsConnectTDU)
	if dataOff, _ := be16(b, tnsConnectDataOff); ver >= tnsLargeSDU && dataOff >= tnsConnectLargeEnd {
		p.connectSDU, p.connectTDU = tnsLargeSizes(b, tnsConnectLargeSDU, tnsConnectLargeTDU, p.connectSDU, p.connectTDU)
	}
}

// tnsSizes reads 2-byte SDU and TDU sizes at sdu and tdu.
func tnsSizes(b []byte, sdu, tdu int) (int, int) {
	s, _ := be16(b, sdu)
	t, _ := be16(b, tdu)
	return s, t
}

// tnsLargeSizes reads the 4-byte SDU and TDU sizes at sdu and tdu; a size
// absent or zero keeps the 2-byte one (s, t).
func tnsLargeSizes(b []byte, sdu, tdu, s, t int) (int, int) {
	if v, ok := be32(b, sdu); ok && v > 0 {
		s = int(v)
	}
	if v, ok := be32(b, tdu); ok && v > 0 {
		t = int(v)
	}
	return s, t
}

// count adds a packet of type typ and length n to direction d's figures.
func (p *tnsParser) count(d Dir, typ byte, n int64) {
	ds := &p.dirs[d]
	ds.Packets++
	ds.Bytes += n
	ds.HeaderBytes += tnsHeader
	ds.MaxPacket = max(ds.MaxPacket, int(n))
	switch typ {
	case tnsData:
		ds.DataPackets++
		ds.DataBytes += n - tnsHeader
	case tnsMarker:
		ds.MarkerPackets++
		ds.MarkerBytes += n - tnsHeader
	}
}

// tnsHeader is the length of a TNS packet header.
const tnsHeader = 8

// addStats fills the SQL*Net figures of st from what the parser counted
// and the connection's segments (cc).
func (p *tnsParser) addStats(st Stats, cc connCounts) Stats {
	sn := &st.SQLNet
	sn.Version = p.version
	sn.ConnectSDU, sn.ConnectTDU = p.connectSDU, p.connectTDU
	sn.AcceptSDU, sn.AcceptTDU = p.acceptSDU, p.acceptTDU
	st.SDU, st.TDU = p.connectSDU, p.connectTDU
	if p.acceptSDU > 0 {
		st.SDU, st.TDU = p.acceptSDU, p.acceptTDU
	}
	sn.PathMSS = cc.pathMSS()
	sn.SDUForMSS = sn.PathMSS
	sn.C2S = p.dirs[ClientToServer].ratios(cc.segments[ClientToServer], cc.msgSegments[ClientToServer])
	sn.S2C = p.dirs[ServerToClient].ratios(cc.segments[ServerToClient], cc.msgSegments[ServerToClient])
	return st
}

// ratios returns ds with its segments (segs; msgSegs summed over its
// packets) and the ratios computed.
func (ds SQLNetDir) ratios(segs, msgSegs uint64) SQLNetDir {
	ds.Segments = segs
	if segs > 0 {
		ds.PacketsPerSegment = float64(ds.Packets) / float64(segs)
	}
	if ds.Packets > 0 {
		ds.SegmentsPerPacket = float64(msgSegs) / float64(ds.Packets)
	}
	if ds.Bytes > 0 {
		ds.Overhead = float64(ds.HeaderBytes+ds.MarkerBytes) / float64(ds.Bytes)
	}
	return ds
}

// Resync finds a plausible TNS header: a known type, a length of at least
// a header and within the limit, zero header checksum (and zero packet
// checksum with 2-byte lengths).
func (p *tnsParser) Resync(d Dir, b []byte) int {
	for i := 0; i+8 <= len(b); i++ {
		h := b[i:]
		if tnsTypeName(h[4]) == "" || h[6] != 0 || h[7] != 0 {
			continue
		}
		var n int64
		if p.large {
			n, _ = be32(h, 0)
		} else {
			if h[2] != 0 || h[3] != 0 {
				continue
			}
			v, _ := be16(h, 0)
			n = int64(v)
		}
		if n >= 8 && n <= p.max {
			return i
		}
	}
	return -1
}

// TTI (Two-Task Interface) codes of a Data packet's body, after its two
// flag bytes, that lead to a statement.
const (
	ttiFunction  = 0x03 // a function call: the call's code follows
	ttiPiggyback = 0x11 // piggybacked calls, then the function call
)

// tnsExecCall reports whether c is the code of a call that carries a
// statement's text: 0x3e (62, bundled execution), 0x47 (71, OALL7) and
// 0x5e (94, OALL8).
func tnsExecCall(c byte) bool { return c == 0x3e || c == 0x47 || c == 0x5e }

// statement returns the SQL text of an execution call in body, the bytes
// of a client Data packet after its header (more: the packet goes on past
// them), or nil. The call's fields before the text vary with the version,
// so the text is found as the first string in the call, past the call
// code, that begins with an SQL keyword: a length byte and that many
// bytes, or 0xfe and chunks, each a length byte and its bytes, ended by a
// zero length (joined into the parser's buffer). A text cut by the end
// of body is returned with cut set.
func (p *tnsParser) statement(body []byte, more bool) (text []byte, cut bool) {
	if len(body) < 4 {
		return nil, false
	}
	i := 2
	switch body[2] {
	case ttiFunction:
	case ttiPiggyback:
		// Find the function call after the piggybacked ones.
		for i = 3; i+1 < len(body) && !(body[i] == ttiFunction && tnsExecCall(body[i+1])); i++ {
		}
	default:
		return nil, false
	}
	if i+1 >= len(body) || body[i] != ttiFunction || !tnsExecCall(body[i+1]) {
		return nil, false
	}
	for j := i + 2; j+2 < len(body); j++ {
		n := int(body[j])
		switch {
		case n == 0xfe && body[j+1] > 0 && body[j+1] < 0xfe && sqlStart(body[j+2:]):
			return p.chunks(body[j+1:], more)
		case n > 0 && n < 0xfe && sqlStart(body[j+1:min(len(body), j+1+n)]):
			if j+1+n > len(body) {
				return body[j+1:], true
			}
			return body[j+1 : j+1+n], false
		}
	}
	return nil, false
}

// chunks joins the chunks of a long string (each a length byte and its
// bytes, up to a zero length) into the parser's buffer.
func (p *tnsParser) chunks(b []byte, more bool) (text []byte, cut bool) {
	p.text.reset()
	for len(b) > 0 {
		n := int(b[0])
		if n == 0 {
			return p.text.text(), cut
		}
		if 1+n > len(b) {
			return p.text.text(), p.text.add(b[1:]) || true
		}
		if p.text.add(b[1 : 1+n]) {
			return p.text.text(), true
		}
		b = b[1+n:]
	}
	return p.text.text(), more
}
