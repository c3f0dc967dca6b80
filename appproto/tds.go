package appproto

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

var tdsPorts = []uint16{1433}

var tdsNames = [...]string{1: "SQLBatch", 2: "PreTDS7Login", 3: "RPC", 4: "TabularResult", 6: "Attention",
	7: "BulkLoad", 8: "FedAuthToken", 14: "TransactionManager", 16: "Login7", 17: "SSPI", 18: "PreLogin"}

func tdsTypeName(t byte) string {
	if int(t) < len(tdsNames) {
		return tdsNames[t]
	}
	return ""
}

// TDS is Microsoft's Tabular Data Stream ([MS-TDS]), the protocol of SQL
// Server. A message is a run of TDS packets (8-byte header: type, status,
// length, SPID, packet id, window) ended by the packet with the status bit
// EOM. A SQL batch, RPC, bulk load or transaction-manager message is a
// request; a tabular result is its response.
type TDS struct{}

// Name returns "tds".
func (TDS) Name() string { return "tds" }

// Ports returns 1433.
func (TDS) Ports() []uint16 { return tdsPorts }

// Identify recognises a PreLogin or Login packet from the client, or a
// tabular result from the server, with a plausible header.
func (TDS) Identify(d Dir, b []byte) (float64, bool) {
	if len(b) < 8 {
		return 0, true
	}
	n, _ := be16(b, 2)
	if n < 8 || b[1]&^0x1f != 0 || b[7] != 0 {
		return 0, false
	}
	switch {
	case d == ClientToServer && (b[0] == 18 || b[0] == 16 || b[0] == 2):
		return 0.9, false
	case d == ServerToClient && b[0] == 4 && b[1]&1 == 1:
		return 0.7, false
	case d == ClientToServer && (b[0] == 1 || b[0] == 3) && n == len(b):
		return 0.6, false
	}
	return 0, false
}

// NewParser returns a TDS parser.
func (TDS) NewParser(maxMessage int64) Parser { return &tdsParser{} }

type tdsParser struct {
	textWaiter
	ft   FrameText
	in   [2]bool // a message is under way
	text textBuf // a SQL batch's text, in UTF-8
}

// tdsSQLBatch is the packet type of a SQL batch.
const tdsSQLBatch = 1

// Split frames one TDS packet.
func (p *tdsParser) Split(d Dir, b []byte) (Frame, error) {
	if len(b) < 8 {
		return Frame{}, nil
	}
	n, _ := be16(b, 2)
	name := tdsTypeName(b[0])
	switch {
	case name == "":
		return Frame{}, fmt.Errorf("tds: packet type %d", b[0])
	case n < 8:
		return Frame{}, fmt.Errorf("tds: length %d shorter than the header", n)
	}
	eom := b[1]&1 != 0
	f := Frame{Len: int64(n), Start: !p.in[d], End: eom, Kind: name}
	if d == ClientToServer && b[0] == tdsSQLBatch && f.Start {
		if len(b) < p.need(int64(n)) {
			return Frame{}, nil // the batch's text is still to come
		}
		p.ft = FrameText{}
		p.ft.Query, p.ft.QueryCut = p.batchText(b[8:min(len(b), n)], len(b) < n || !eom)
		f.Text, f.Verb = &p.ft, sqlVerb(p.ft.Query)
	}
	p.in[d] = !eom
	switch {
	case d == ClientToServer && (b[0] == 1 || b[0] == 3 || b[0] == 7 || b[0] == 14):
		f.Role = Request | RequestEnd
	case d == ServerToClient && b[0] == 4:
		f.Role = Response | ResponseEnd
	}
	return f, nil
}

// batchText converts the SQL text of a batch's first packet, b after the
// packet header, from UTF-16LE to UTF-8 in the parser's buffer. TDS 7.2
// and later put ALL_HEADERS first: a little-endian total length that
// includes itself, which UTF-16 text (two characters, the second not NUL)
// cannot be below 64 KiB. more says the text goes on past b.
func (p *tdsParser) batchText(b []byte, more bool) (text []byte, cut bool) {
	if total, ok := le32(b, 0); ok && total >= 4 && total < 1<<16 {
		if int(total) > len(b) {
			return nil, false
		}
		b = b[total:]
	}
	p.text.reset()
	var enc [utf8.UTFMax]byte
	for len(b) >= 2 {
		r := rune(b[0]) | rune(b[1])<<8
		k := 2
		if utf16.IsSurrogate(r) && len(b) >= 4 {
			r = utf16.DecodeRune(r, rune(b[2])|rune(b[3])<<8)
			k = 4
		}
		if p.text.add(utf8.AppendRune(enc[:0], r)) {
			return p.text.text(), true
		}
		b = b[k:]
	}
	return p.text.text(), more || len(b) > 0
}
