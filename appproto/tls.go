package appproto

import "fmt"

var tlsPorts = []uint16{443, 465, 636, 853, 993, 995, 8443}

var tlsNames = [...]string{20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data", 24: "heartbeat"}

// TLS is the TLS record layer (RFC 8446 section 5.1; also SSL 3.0 and TLS
// 1.0-1.2 records). Records are counted, not decrypted: each record is a
// message. Application-data records are paired turn by turn like TNS: a
// client record opens a request, the server's records up to the client's
// next one are its response.
type TLS struct{}

// Name returns "tls".
func (TLS) Name() string { return "tls" }

// Ports returns the usual TLS service ports.
func (TLS) Ports() []uint16 { return tlsPorts }

// Identify recognises a handshake record holding a ClientHello (client)
// or a ServerHello (server).
func (TLS) Identify(d Dir, b []byte) (float64, bool) {
	if len(b) < 6 {
		return 0, true
	}
	if b[0] != 22 || b[1] != 3 || b[2] > 4 {
		return 0, false
	}
	if d == ClientToServer && b[5] == 1 || d == ServerToClient && b[5] == 2 {
		return 0.95, false
	}
	return 0, false
}

// NewParser returns a TLS record parser.
func (TLS) NewParser(maxMessage int64) Parser { return tlsParser{} }

type tlsParser struct{}

// maxRecord is the largest TLSCiphertext fragment (RFC 8446 section 5.2)
// plus the allowance of earlier versions.
const maxRecord = 1<<14 + 2048

// Split frames one TLS record.
func (tlsParser) Split(d Dir, b []byte) (Frame, error) {
	if len(b) < 5 {
		return Frame{}, nil
	}
	n, _ := be16(b, 3)
	switch {
	case b[0] < 20 || b[0] > 24:
		return Frame{}, fmt.Errorf("tls: record type %d", b[0])
	case b[1] != 3:
		return Frame{}, fmt.Errorf("tls: record version %d.%d", b[1], b[2])
	case n > maxRecord:
		return Frame{}, fmt.Errorf("tls: record length %d", n)
	}
	f := Frame{Len: 5 + int64(n), Start: true, End: true, Kind: tlsNames[b[0]]}
	if b[0] == 23 {
		if d == ClientToServer {
			f.Role = Request | EndsPrevious
		} else {
			f.Role = Response
		}
	}
	return f, nil
}

// run steps over the whole application-data records the server sends at
// the start of b, which Split would frame as plain responses (see
// runner).
func (tlsParser) run(d Dir, b []byte) (n, count int) {
	if d != ServerToClient {
		return 0, 0
	}
	for len(b)-n >= 5 && b[n] == 23 && b[n+1] == 3 {
		m := int(b[n+3])<<8 | int(b[n+4])
		if m > maxRecord || len(b)-n < 5+m {
			break
		}
		n += 5 + m
		count++
	}
	return n, count
}

// Resync finds a plausible record header.
func (tlsParser) Resync(d Dir, b []byte) int {
	for i := 0; i+5 <= len(b); i++ {
		n, _ := be16(b, i+3)
		if b[i] >= 20 && b[i] <= 24 && b[i+1] == 3 && b[i+2] <= 4 && n <= maxRecord {
			return i
		}
	}
	return -1
}
