package linkq_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/linkq"
)

// echoStream returns n request/reply pairs of 64-byte pings (sequence
// numbers cycling) as PacketInfos; it reuses two buffers, rewritten per
// packet, as flow does.
type echoStream struct {
	req, rep []byte
	p        flow.PacketInfo
}

func (s *echoStream) packet(i int, reply bool) *flow.PacketInfo {
	b := s.req
	src, dst := hostA, hostB
	if reply {
		b, src, dst = s.rep, hostB, hostA
	}
	b[6], b[7] = byte(i>>8), byte(i)
	at := time.Duration(i) * time.Millisecond
	if reply {
		at += 30 * time.Millisecond
	}
	s.p = flow.PacketInfo{Time: t0.Add(at), WireLen: 14 + 20 + len(b), Src: src, Dst: dst, Proto: 1, L4: b, L4Len: len(b)}
	return &s.p
}

func newEchoStream() *echoStream {
	return &echoStream{req: icmpEcho(8, 1, 0, data(64, 0)), rep: icmpEcho(0, 1, 0, data(64, 0))}
}

// BenchmarkEchoPacket measures the per-packet cost of matching pings (one
// request and one reply per iteration) with fits and link use.
func BenchmarkEchoPacket(b *testing.B) {
	a := linkq.New(linkq.Config{Fit: linkq.FitConfig{MaxPoints: 1}})
	s := newEchoStream()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Packet(s.packet(i, false))
		a.Packet(s.packet(i, true))
	}
}

// TestEchoSteadyStateAllocs: once the ring, the maps and the bins exist,
// matching an echo allocates nothing.
func TestEchoSteadyStateAllocs(t *testing.T) {
	a := linkq.New(linkq.Config{Fit: linkq.FitConfig{MaxPoints: 1}, Echo: linkq.EchoConfig{MaxOutstanding: 64}})
	s := newEchoStream()
	i := 0
	for ; i < 20000; i++ { // warm up: fill the ring, grow the maps
		a.Packet(s.packet(i, false))
		a.Packet(s.packet(i, true))
	}
	allocs := testing.AllocsPerRun(2000, func() {
		a.Packet(s.packet(i, false))
		a.Packet(s.packet(i, true))
		i++
	})
	assert.Zero(t, allocs)
}
