package appproto_test

import (
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// script feeds scripted segments to an appproto.Conn and records what it
// reports.
type script struct {
	c    *appproto.Conn
	seq  [2]tcpstate.Seq
	idx  uint64
	now  time.Time
	msgs []appproto.Message
	txns []appproto.Transaction
}

func newScript(cfg appproto.Config, serverPort uint16) *script {
	s := &script{now: t0, seq: [2]tcpstate.Seq{1000, 5000}}
	s.c = appproto.NewConn(&cfg, 40000, serverPort, s)
	for d := range 2 {
		flags := tcpstate.SYN
		if d == 1 {
			flags |= tcpstate.ACK
		}
		s.seg(appproto.Dir(d), s.seq[d], nil, 0, flags)
		s.seq[d]++
	}
	return s
}

// Message records a message (script is an appproto.MessageHandler).
func (s *script) Message(m *appproto.Message) { s.msgs = append(s.msgs, *m) }

// Transaction records a transaction.
func (s *script) Transaction(t *appproto.Transaction) { s.txns = append(s.txns, t.Clone()) }

// seg feeds one segment of wire length wlen (len(p) if 0) at seq.
func (s *script) seg(d appproto.Dir, seq tcpstate.Seq, p []byte, wlen int, f tcpstate.Flags) {
	if wlen == 0 {
		wlen = len(p)
	}
	s.idx++
	s.c.Add(d, &tcpstate.Segment{Index: s.idx, Time: s.now, Seq: seq, Flags: f | tcpstate.ACK, Len: wlen, Payload: p})
}

// send feeds p in order as one PSH segment after advancing the clock by dt.
func (s *script) send(d appproto.Dir, dt time.Duration, p []byte) {
	s.now = s.now.Add(dt)
	s.seg(d, s.seq[d], p, 0, tcpstate.PSH)
	s.seq[d] = s.seq[d].Add(tcpstate.Size(len(p)))
}

// sendSplit feeds p in order cut into segments of at most n bytes, dt apart.
func (s *script) sendSplit(d appproto.Dir, dt time.Duration, p []byte, n int) {
	for len(p) > 0 {
		k := min(n, len(p))
		s.now = s.now.Add(dt)
		var f tcpstate.Flags
		if k == len(p) {
			f = tcpstate.PSH
		}
		s.seg(d, s.seq[d], p[:k], 0, f)
		s.seq[d] = s.seq[d].Add(tcpstate.Size(k))
		p = p[k:]
	}
}

func (s *script) close() appproto.Stats {
	s.c.Close()
	return s.c.Stats()
}

func (s *script) kinds(d appproto.Dir) []string {
	var k []string
	for _, m := range s.msgs {
		if m.Dir == d {
			k = append(k, m.Kind)
		}
	}
	return k
}

func be16(n int) []byte { return []byte{byte(n >> 8), byte(n)} }

func be32(n int) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// tnsPacket builds a TNS packet of type typ with body, 2-byte or 4-byte
// length.
func tnsPacket(large bool, typ byte, body []byte) []byte {
	n := 8 + len(body)
	var h []byte
	if large {
		h = be32(n)
	} else {
		h = cat(be16(n), []byte{0, 0})
	}
	return cat(h, []byte{typ, 0, 0, 0}, body)
}

// tnsConnect builds a Connect packet announcing version v.
func tnsConnect(v int) []byte {
	body := cat(be16(v), be16(300), make([]byte, 40))
	return tnsPacket(false, 1, body)
}

// tnsAccept builds an Accept packet with version v.
func tnsAccept(v int) []byte {
	return tnsPacket(false, 2, cat(be16(v), make([]byte, 24)))
}

// pgMsg builds a typed PostgreSQL message.
func pgMsg(typ byte, body []byte) []byte { return cat([]byte{typ}, be32(4+len(body)), body) }

// pgStartup builds an untyped startup packet with a code.
func pgStartup(code int, body []byte) []byte { return cat(be32(8+len(body)), be32(code), body) }

// myPacket builds a MySQL packet.
func myPacket(seq byte, payload []byte) []byte {
	n := len(payload)
	return cat([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload)
}
