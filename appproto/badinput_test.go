package appproto_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
)

// TestBadInput feeds hostile or broken streams: each must end in a
// per-connection framing error or unknown data, never a panic, and never
// an allocation of a declared length.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		port    uint16
		c2s     [][]byte
		s2c     [][]byte
		proto   string
		errs    uint64 // framing errors
		unknown int64  // unknown bytes at least
		max     int64  // Config.MaxMessage
	}{
		{name: "tns gigabyte length", port: 1521,
			c2s: [][]byte{tnsConnect(318), cat(be32(0x7fffffff), []byte{6, 0, 0, 0}, make([]byte, 100))},
			s2c: [][]byte{tnsAccept(318)}, proto: "tns", errs: 1, unknown: 100},
		{name: "tns length that lies", port: 1521,
			c2s: [][]byte{tnsConnect(312), cat(be16(20), []byte{0, 0, 6, 0, 0, 0}, []byte("short"), []byte("GARBAGEGARBAGE!!"))},
			s2c: [][]byte{tnsAccept(312)}, proto: "tns", errs: 1, unknown: 8},
		{name: "tns length below header", port: 1521,
			c2s: [][]byte{tnsConnect(312), cat(be16(3), []byte{0, 0, 6, 0, 0, 0})},
			s2c: [][]byte{tnsAccept(312)}, proto: "tns", errs: 1},
		{name: "postgres gigabyte length", port: 5432,
			c2s:   [][]byte{pgStartup(196608, []byte("user\x00u\x00\x00")), cat([]byte{'Q'}, be32(0x7ffffff0), []byte("select"))},
			proto: "postgres", errs: 1, unknown: 11},
		{name: "postgres garbage after a valid start", port: 5432,
			c2s:   [][]byte{pgStartup(196608, []byte("user\x00u\x00\x00")), []byte("\x01\x02\x03\x04\x05\x06\x07\x08")},
			proto: "postgres", errs: 1, unknown: 8},
		{name: "mysql length over the limit", port: 3306,
			s2c:   [][]byte{myPacket(0, cat([]byte{10}, []byte("8.0.1\x00"), make([]byte, 40))), cat([]byte{0xff, 0xff, 0xff, 0}, make([]byte, 64))},
			proto: "mysql", errs: 1, unknown: 68, max: 1 << 20},
		{name: "http binary on port 80", port: 80,
			c2s: [][]byte{{0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x81, 0x82, 0, 0, 0, 1}}, proto: "tls"},
		{name: "http random binary on port 80", port: 80,
			c2s: [][]byte{{0x00, 0x9f, 0x81, 0x82, 0, 0, 0, 1, 0xee, 0xff}}, proto: "http", unknown: 10},
		{name: "http garbage after a request", port: 80,
			c2s: [][]byte{[]byte("GET / HTTP/1.1\r\n\r\n\x00\x01\x02binary")}, proto: "http", errs: 1, unknown: 9},
		{name: "http gigantic chunk size", port: 80,
			c2s: [][]byte{[]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n")}, proto: "http", errs: 1},
		{name: "http header without end", port: 80,
			c2s: [][]byte{[]byte("GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 70000))}, proto: "http", errs: 1},
		{name: "tds truncated header", port: 1433,
			c2s: [][]byte{{18, 1, 0, 40, 0, 0, 0, 0}, make([]byte, 32), {1, 1, 0}}, proto: "tds"},
		{name: "redis nesting too deep", port: 6379,
			c2s: [][]byte{[]byte("*1\r\n$1\r\n" + strings.Repeat("*1\r\n", 40))}, proto: "redis", errs: 1},
		{name: "redis bulk of a gigabyte", port: 6379,
			c2s: [][]byte{[]byte("*1\r\n$1073741824000\r\nabc")}, proto: "redis", errs: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			s := newScript(appproto.Config{MaxMessage: tc.max}, tc.port)
			n := max(len(tc.c2s), len(tc.s2c))
			for i := range n {
				if i < len(tc.c2s) {
					s.send(c2s, ms, tc.c2s[i])
				}
				if i < len(tc.s2c) {
					s.send(s2c, ms, tc.s2c[i])
				}
			}
			st := s.close()
			runtime.ReadMemStats(&after)
			assert.Equal(t, tc.proto, s.c.Protocol())
			assert.Equal(t, tc.errs, st.FramingErrors, "%+v", st)
			assert.GreaterOrEqual(t, st.UnknownBytes, tc.unknown)
			if tc.errs > 0 {
				assert.NotEmpty(t, st.FramingError)
			}
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "allocated a declared length?")
		})
	}
}

// TestIdentifyByPortOnly: data no protocol recognises, on a known port, is
// attributed to the port's protocol with low confidence and left unframed.
func TestIdentifyByPortOnly(t *testing.T) {
	s := newScript(appproto.Config{}, 1521)
	s.send(c2s, 0, []byte("\xde\xad\xbe\xef hello"))
	s.send(s2c, ms, []byte("\xca\xfe"))
	s.send(c2s, ms, []byte("more"))
	st := s.close()
	assert.Equal(t, "tns", s.c.Protocol())
	assert.Equal(t, appproto.ConfidencePort, s.c.Confidence())
	assert.Equal(t, int64(16), st.UnknownBytes)
	assert.Equal(t, uint64(2), st.MessagesC2S)
	assert.Equal(t, uint64(1), st.Transactions) // turn-based pairing of unknown data

	s = newScript(appproto.Config{}, 40001)
	s.send(c2s, 0, []byte("\xde\xad\xbe\xef hello"))
	st = s.close()
	assert.Equal(t, "unknown", s.c.Protocol())
	assert.Equal(t, appproto.ConfidenceNone, s.c.Confidence())
	assert.Equal(t, uint64(1), st.MessagesC2S)
}

// TestRegistryCustomProtocol adds a protocol from outside the package.
func TestRegistryCustomProtocol(t *testing.T) {
	reg := appproto.DefaultRegistry()
	require.NoError(t, reg.Register(lineProto{}))
	require.ErrorIs(t, reg.Register(lineProto{}), appproto.ErrDuplicate)
	require.NotNil(t, reg.Lookup("line"))
	s := newScript(appproto.Config{Registry: reg}, 7777)
	s.send(c2s, 0, []byte("HELLO a\nHELLO b\n"))
	s.send(s2c, 2*ms, []byte("ok\nok\n"))
	st := s.close()
	assert.Equal(t, "line", s.c.Protocol())
	assert.Equal(t, uint64(2), st.Transactions)
	assert.Equal(t, uint64(2), st.MessagesS2C)
}

// lineProto is a toy protocol: one request or reply per line.
type lineProto struct{}

func (lineProto) Name() string    { return "line" }
func (lineProto) Ports() []uint16 { return nil }
func (lineProto) Identify(d appproto.Dir, b []byte) (float64, bool) {
	if strings.HasPrefix(string(b), "HELLO ") {
		return 0.9, false
	}
	return 0, len(b) < 6
}
func (lineProto) NewParser(int64) appproto.Parser { return lineParser{} }

type lineParser struct{}

func (lineParser) Split(d appproto.Dir, b []byte) (appproto.Frame, error) {
	i := strings.IndexByte(string(b), '\n')
	if i < 0 {
		return appproto.Frame{}, nil
	}
	f := appproto.Frame{Len: int64(i + 1), Start: true, End: true, Kind: "line", Role: appproto.Request | appproto.RequestEnd}
	if d == appproto.ServerToClient {
		f.Role = appproto.Response | appproto.ResponseEnd
	}
	return f, nil
}
