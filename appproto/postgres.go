package appproto

import "fmt"

var pgPorts = []uint16{5432}

// PostgreSQL startup codes (Frontend/Backend Protocol, "Message Formats").
const (
	pgProtocol3 = 3 << 16
	pgSSL       = 80877103
	pgGSSENC    = 80877104
	pgCancel    = 80877102
)

var pgFrontend = [256]string{'B': "Bind", 'C': "Close", 'd': "CopyData", 'c': "CopyDone", 'f': "CopyFail",
	'D': "Describe", 'E': "Execute", 'H': "Flush", 'F': "FunctionCall", 'p': "Password", 'P': "Parse",
	'Q': "Query", 'S': "Sync", 'X': "Terminate"}

var pgBackend = [256]string{'R': "Authentication", 'K': "BackendKeyData", '2': "BindComplete",
	'3': "CloseComplete", 'C': "CommandComplete", 'd': "CopyData", 'c': "CopyDone", 'G': "CopyInResponse",
	'H': "CopyOutResponse", 'W': "CopyBothResponse", 'D': "DataRow", 'I': "EmptyQueryResponse",
	'E': "ErrorResponse", 'V': "FunctionCallResponse", 'v': "NegotiateProtocolVersion", 'n': "NoData",
	'N': "NoticeResponse", 'A': "NotificationResponse", 't': "ParameterDescription", 'S': "ParameterStatus",
	'1': "ParseComplete", 's': "PortalSuspended", 'Z': "ReadyForQuery", 'T': "RowDescription"}

// Postgres is the PostgreSQL frontend/backend protocol, version 3. Every
// protocol message is a message: the untyped startup packets
// (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest), then a type
// byte and a 32-bit length. A Query, or a run of extended-query messages
// (Parse, Bind, Describe, Execute, Close, Flush) closed by Sync, is a
// request; the backend's messages up to ReadyForQuery are its response.
// The one-byte answer to SSLRequest is framed; an accepted SSL or GSS
// encryption makes the rest unknown.
type Postgres struct{}

// Name returns "postgres".
func (Postgres) Name() string { return "postgres" }

// Ports returns 5432.
func (Postgres) Ports() []uint16 { return pgPorts }

// Identify recognises a startup packet (client) and, more weakly, a typed
// message with a plausible length in either direction.
func (Postgres) Identify(d Dir, b []byte) (float64, bool) {
	if len(b) < 8 {
		return 0, len(b) < 8
	}
	n, _ := be32(b, 0)
	code, _ := be32(b, 4)
	if d == ClientToServer && b[0] == 0 && n >= 8 && n <= 10000 {
		switch {
		case code == pgSSL && n == 8, code == pgGSSENC && n == 8, code == pgCancel && n == 16:
			return 0.9, false
		case code>>16 == 3 && n > 8:
			return 0.95, false
		}
		return 0, false
	}
	names := &pgBackend
	if d == ClientToServer {
		names = &pgFrontend
	}
	m, _ := be32(b, 1)
	if names[b[0]] != "" && m >= 4 && m <= 1<<20 {
		if int64(len(b)) > 1+m {
			// The next message must look right too.
			if nx := b[1+m:]; len(nx) >= 5 {
				m2, _ := be32(nx, 1)
				if names[nx[0]] == "" || m2 < 4 {
					return 0, false
				}
			}
			return 0.6, false
		}
		if b[0] == 'R' && d == ServerToClient && m == 8 {
			return 0.6, false
		}
		return 0.55, false
	}
	return 0, false
}

// NewParser returns a PostgreSQL parser.
func (Postgres) NewParser(maxMessage int64) Parser { return &pgParser{max: maxMessage} }

type pgParser struct {
	textWaiter
	ft         FrameText
	max        int64
	started    bool // the client has sent its StartupMessage (or a typed message)
	sslPending bool // the server owes a one-byte answer to SSLRequest/GSSENCRequest
}

// Split frames one PostgreSQL message.
func (p *pgParser) Split(d Dir, b []byte) (Frame, error) {
	if d == ClientToServer && !p.started {
		if len(b) < 1 {
			return Frame{}, nil
		}
		if b[0] == 0 {
			return p.startup(b)
		}
		p.started = true
	}
	if d == ServerToClient && p.sslPending {
		if len(b) < 1 {
			return Frame{}, nil
		}
		switch b[0] {
		case 'N':
			p.sslPending = false
			return Frame{Len: 1, Start: true, End: true, Kind: "SSLResponse"}, nil
		case 'S', 'G':
			p.sslPending = false
			return Frame{Len: 1, Start: true, End: true, Kind: "SSLResponse", Unframe: true}, nil
		}
		p.sslPending = false
	}
	if len(b) < 5 {
		return Frame{}, nil
	}
	n, _ := be32(b, 1)
	names := &pgBackend
	if d == ClientToServer {
		names = &pgFrontend
	}
	kind := names[b[0]]
	switch {
	case kind == "":
		return Frame{}, fmt.Errorf("postgres: message type 0x%02x", b[0])
	case n < 4:
		return Frame{}, fmt.Errorf("postgres: %s length %d", kind, n)
	case n > p.max:
		return Frame{}, fmt.Errorf("postgres: %s length %d over the limit", kind, n)
	}
	f := Frame{Len: 1 + n, Start: true, End: true, Kind: kind}
	if d == ClientToServer {
		switch b[0] {
		case 'Q', 'P':
			if len(b) < p.need(1+n) {
				return Frame{}, nil // the statement's text is still to come
			}
			f.Role = Request | RequestEnd
			body := b[5:min(int64(len(b)), 1+n)]
			if b[0] == 'P' {
				// Parse: statement name (a C string), then the query text.
				f.Role = Request
				body = afterCString(body)
			}
			p.ft = FrameText{}
			p.ft.Query, p.ft.QueryCut = cString(body, int64(len(b)) < 1+n)
			f.Text, f.Verb = &p.ft, sqlVerb(p.ft.Query)
		case 'B', 'D', 'E', 'C', 'H':
			f.Role = Request
		case 'S', 'F':
			f.Role = Request | RequestEnd
		}
		return f, nil
	}
	switch b[0] {
	case 'Z':
		f.Role = Response | ResponseEnd
	case 'E':
		f.Role = Response | Error
	default:
		f.Role = Response
	}
	return f, nil
}

// run steps over the whole backend messages at the start of b that
// Split would frame as plain responses: all but ReadyForQuery and
// ErrorResponse (see runner).
func (p *pgParser) run(d Dir, b []byte) (n, count int) {
	if d != ServerToClient || p.sslPending {
		return 0, 0
	}
	for len(b)-n >= 5 {
		t := b[n]
		m := int64(b[n+1])<<24 | int64(b[n+2])<<16 | int64(b[n+3])<<8 | int64(b[n+4])
		if t == 'Z' || t == 'E' || pgBackend[t] == "" || m < 4 || m > p.max || int64(len(b)-n) < 1+m {
			break
		}
		n += int(1 + m)
		count++
	}
	return n, count
}

// startup frames an untyped startup packet.
func (p *pgParser) startup(b []byte) (Frame, error) {
	if len(b) < 8 {
		return Frame{}, nil
	}
	n, _ := be32(b, 0)
	code, _ := be32(b, 4)
	if n < 8 || n > 10000 {
		return Frame{}, fmt.Errorf("postgres: startup length %d", n)
	}
	f := Frame{Len: n, Start: true, End: true}
	switch {
	case code == pgSSL:
		f.Kind, p.sslPending = "SSLRequest", true
	case code == pgGSSENC:
		f.Kind, p.sslPending = "GSSENCRequest", true
	case code == pgCancel:
		f.Kind = "CancelRequest"
	case code>>16 == 3:
		f.Kind, p.started = "StartupMessage", true
	default:
		return Frame{}, fmt.Errorf("postgres: startup code %d", code)
	}
	return f, nil
}

// Resync finds a typed message header followed by another (or by the end
// of the data), both with plausible lengths.
func (p *pgParser) Resync(d Dir, b []byte) int {
	names := &pgBackend
	if d == ClientToServer {
		names = &pgFrontend
	}
	ok := func(h []byte) (int64, bool) {
		n, good := be32(h, 1)
		return n, good && names[h[0]] != "" && n >= 4 && n <= min(p.max, 1<<24)
	}
	for i := 0; i+5 <= len(b); i++ {
		n, good := ok(b[i:])
		if !good {
			continue
		}
		j := int64(i) + 1 + n
		if j+5 <= int64(len(b)) {
			if _, good2 := ok(b[j:]); !good2 {
				continue
			}
		}
		p.started = true
		return i
	}
	return -1
}
