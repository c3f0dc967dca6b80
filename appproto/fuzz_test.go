package appproto_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

// fuzzFramer runs one framer on fuzzed streams, two ways: its Split
// directly over each direction's bytes, and a whole Conn fed the two
// directions in interleaved segments of a fuzzed size. Invariants: no
// panic; frames have a positive length or ask for more; the Conn accounts
// for every byte; transactions never outnumber requests; the Handler is
// given every message and transaction the Stats count, each with sane
// sizes and at least one turn.
func fuzzFramer(f *testing.F, p appproto.Protocol, seeds [][2][]byte) {
	for _, s := range seeds {
		f.Add(s[0], s[1], uint16(7))
		f.Add(s[0], s[1], uint16(1460))
	}
	f.Fuzz(func(t *testing.T, c2sData, s2cData []byte, cut uint16) { checkFramer(t, p, c2sData, s2cData, cut) })
}

// checkFramer runs one fuzz case of fuzzFramer.
func checkFramer(t *testing.T, p appproto.Protocol, c2sData, s2cData []byte, cut uint16) {
	{
		parser := p.NewParser(1 << 20)
		for d, b := range [][]byte{c2sData, s2cData} {
			for n := 0; len(b) > 0 && n < 10000; n++ {
				fr, err := parser.Split(appproto.Dir(d), b)
				if err != nil || fr.Len == 0 {
					break
				}
				if fr.Len < 0 {
					t.Fatalf("negative frame length %d", fr.Len)
				}
				b = b[min(fr.Len, int64(len(b))):]
			}
		}
		reg := &appproto.Registry{}
		if err := reg.Register(p); err != nil {
			t.Fatal(err)
		}
		cfg := appproto.Config{Registry: reg, MaxHeader: 4096, MaxMessage: 1 << 20}
		h := &fuzzHandler{t: t}
		c := appproto.NewConn(&cfg, 40000, p.Ports()[0], h)
		// A twin whose Handler takes transactions only: framing may then
		// report runs of plain responses as one message to pairing.
		var tl txList
		twin := appproto.NewConn(&cfg, 40000, p.Ports()[0], &tl)
		seq := [2]tcpstate.Seq{1, 1}
		var idx uint64
		rest := [2][]byte{c2sData, s2cData}
		n := max(int(cut%2048), 1)
		for len(rest[0])+len(rest[1]) > 0 {
			for d := range rest {
				k := min(n, len(rest[d]))
				if k == 0 {
					continue
				}
				idx++
				seg := &tcpstate.Segment{Index: idx, Seq: seq[d], Flags: tcpstate.ACK | tcpstate.PSH, Len: k, Payload: rest[d][:k]}
				c.Add(appproto.Dir(d), seg)
				twin.Add(appproto.Dir(d), seg)
				seq[d] = seq[d].Add(tcpstate.Size(k))
				rest[d] = rest[d][k:]
			}
		}
		c.Close()
		twin.Close()
		st := c.Stats()
		if ts := twin.Stats(); ts != st {
			t.Fatalf("stats with a MessageHandler %+v, without %+v", st, ts)
		}
		if len(tl.txns) != len(h.tx) {
			t.Fatalf("%d transactions with a MessageHandler, %d without", len(h.tx), len(tl.txns))
		}
		for i := range tl.txns {
			if !reflect.DeepEqual(tl.txns[i], h.tx[i]) {
				t.Fatalf("transaction %d with a MessageHandler %+v, without %+v", i, h.tx[i], tl.txns[i])
			}
		}
		if st.BytesC2S != int64(len(c2sData)) || st.BytesS2C != int64(len(s2cData)) {
			t.Fatalf("bytes %d/%d, fed %d/%d", st.BytesC2S, st.BytesS2C, len(c2sData), len(s2cData))
		}
		if st.Transactions > st.Requests || st.UnknownBytes > int64(len(c2sData)+len(s2cData)) {
			t.Fatalf("stats %+v", st)
		}
		if st.MessagesC2S != h.msgs[0] || st.MessagesS2C != h.msgs[1] || st.Transactions != h.txns {
			t.Fatalf("messages %d/%d, transactions %d; reported %d/%d, %d",
				st.MessagesC2S, st.MessagesS2C, st.Transactions, h.msgs[0], h.msgs[1], h.txns)
		}
	}
}

// TestFuzzFound holds the inputs fuzzing found failing, by name.
func TestFuzzFound(t *testing.T) {
	// A request (Bind) starts while a response message spanning
	// segments is under way, then a second plain response follows: it
	// must not join the first as one message to pairing, whose start
	// closes the Bind's request (FuzzPostgres, coalescing).
	t.Run("postgres-interleaved-plain-responses", func(t *testing.T) {
		checkFramer(t, appproto.Postgres{},
			[]byte("\x00\x00\x00\b\x04\xd2\x160000000000B\x00\x00\x00\x0400000Q\x00\x00\x00\r000000000P\x00\x00\x00\x0f00000000000B\x00\x00\x00\x0400B\x00\x00\x00\x04B\x00\x0000"),
			[]byte("0000000000000001\x00\x00\x00\x0501\x00\x06000"), 4)
	})
}

// fuzzHandler checks and counts what a fuzzed Conn reports.
type fuzzHandler struct {
	t    *testing.T
	msgs [2]uint64
	txns uint64
	tx   []appproto.Transaction
}

func (h *fuzzHandler) Message(m *appproto.Message) {
	if m.Bytes < 0 || m.Segments < 0 {
		h.t.Fatalf("message %+v", *m)
	}
	h.msgs[m.Dir]++
}

func (h *fuzzHandler) Transaction(t *appproto.Transaction) {
	if t.RequestBytes < 0 || t.ResponseBytes < 0 || t.Turns < 1 {
		h.t.Fatalf("transaction %+v", *t)
	}
	h.txns++
	h.tx = append(h.tx, t.Clone())
}

func FuzzTNS(f *testing.F) {
	fuzzFramer(f, appproto.TNS{}, [][2][]byte{
		{cat(tnsConnect(318), tnsPacket(true, 6, make([]byte, 30)), tnsPacket(true, 12, []byte{1, 0, 1})),
			cat(tnsAccept(318), tnsPacket(true, 6, make([]byte, 300)))},
		{cat(tnsConnect(312), tnsPacket(false, 6, []byte("select"))), cat(tnsPacket(false, 11, nil), tnsAccept(312))},
	})
}

func FuzzHTTP(f *testing.F) {
	fuzzFramer(f, appproto.HTTP{}, [][2][]byte{
		{[]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\n\r\nPOST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
			[]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 C\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nT: 1\r\n\r\n")},
		{[]byte("CONNECT a:443 HTTP/1.1\r\n\r\n\x16\x03\x01"), []byte("HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03")},
	})
}

func FuzzPostgres(f *testing.F) {
	fuzzFramer(f, appproto.Postgres{}, [][2][]byte{
		{cat(pgStartup(80877103, nil), pgStartup(196608, []byte("user\x00u\x00\x00")), pgMsg('Q', []byte("select 1\x00")),
			pgMsg('P', []byte("\x00FETCH 1\x00\x00\x00")), pgMsg('B', nil), pgMsg('E', nil), pgMsg('S', nil), pgMsg('X', nil)),
			cat([]byte("N"), pgMsg('R', be32(0)), pgMsg('Z', []byte("I")), pgMsg('T', nil), pgMsg('D', nil), pgMsg('Z', []byte("I")),
				pgMsg('1', nil), pgMsg('E', []byte("x\x00")), pgMsg('Z', []byte("E")))},
	})
}

func FuzzMySQL(f *testing.F) {
	greeting := cat([]byte{10}, []byte("8.0.1\x00"), make([]byte, 13), []byte{0xff, 0xf7, 8, 2, 0, 0xff, 0x81}, make([]byte, 20))
	fuzzFramer(f, appproto.MySQL{}, [][2][]byte{
		{cat(myPacket(1, make([]byte, 40)), myPacket(0, []byte("\x03SELECT 1")), myPacket(0, []byte{0x16, 'x'}), myPacket(0, []byte{1})),
			cat(myPacket(0, greeting), myPacket(2, []byte{0, 0, 0, 2, 0, 0, 0}), myPacket(1, []byte{1}), myPacket(2, make([]byte, 20)),
				myPacket(3, []byte{0xfe, 0, 0, 2, 0}), myPacket(4, []byte{1, 'a'}), myPacket(5, []byte{0xfe, 0, 0, 2, 0}),
				myPacket(1, []byte{0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0}), myPacket(2, make([]byte, 10)), myPacket(3, make([]byte, 10)))},
	})
}

func FuzzTDS(f *testing.F) {
	tds := func(typ, status byte, body int) []byte {
		return cat([]byte{typ, status}, be16(8+body), []byte{0, 0, 1, 0}, make([]byte, body))
	}
	fuzzFramer(f, appproto.TDS{}, [][2][]byte{
		{cat(tds(18, 1, 20), tds(16, 1, 60), tds(1, 0, 30), tds(1, 1, 10), tds(6, 1, 0)), cat(tds(4, 1, 20), tds(4, 1, 30), tds(4, 0, 100), tds(4, 1, 5))},
	})
}

func FuzzTLS(f *testing.F) {
	rec := func(typ byte, n int, first byte) []byte {
		b := cat([]byte{typ, 3, 3}, be16(n), make([]byte, n))
		b[5] = first
		return b
	}
	fuzzFramer(f, appproto.TLS{}, [][2][]byte{
		{cat(rec(22, 100, 1), rec(20, 1, 1), rec(23, 50, 0)), cat(rec(22, 80, 2), rec(23, 3000, 0), rec(21, 2, 0))},
	})
}

func FuzzRedis(f *testing.F) {
	fuzzFramer(f, appproto.Redis{}, [][2][]byte{
		{[]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n"),
			[]byte("$5\r\nhello\r\n+PONG\r\n*2\r\n%1\r\n+a\r\n:1\r\n|1\r\n+k\r\n+v\r\n#t\r\n-ERR " + strings.Repeat("x", 10) + "\r\n")},
	})
}
