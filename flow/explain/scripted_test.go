package explain_test

import (
	"bytes"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

const (
	c2s = tcpstate.ClientToServer
	s2c = tcpstate.ServerToClient
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func newBuilder() *flowtest.Builder {
	return flowtest.NewBuilder(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:5432"), t0)
}

func explainBytes(t *testing.T, pcap []byte) *explain.Conn {
	t.Helper()
	rep, err := explain.Analyze(bytes.NewReader(pcap), explain.Options{})
	require.NoError(t, err)
	require.Len(t, rep.Conns, 1)
	return rep.Conns[0]
}

// Three request/response turns seen from the client: 100 ms to the server
// and back, 5 ms of server time, 10 ms of client time before each request.
func TestScriptedChattyBudget(t *testing.T) {
	b := newBuilder()
	b.Handshake(100*time.Millisecond, 100*time.Microsecond, flowtest.OptMSS(1460), flowtest.OptMSS(1460))
	for range 3 {
		b.Advance(10 * time.Millisecond)
		b.Send(c2s, 100, nil)
		b.Advance(105 * time.Millisecond)
		b.Send(s2c, 500, nil)
	}
	b.Advance(time.Millisecond)
	b.Ack(c2s, nil)
	c := explainBytes(t, b.Bytes())
	bu := c.Budget
	base := 0.1001 // SYN to the handshake's ACK: legs of 100 ms to the server, 0.1 ms to the client
	assert.Equal(t, tcpstate.VantageClient, c.Vantage)
	// no rate is known (one answer segment a turn), so no serialization
	// is taken out of the legs
	assert.Equal(t, explain.Legs{ToServer: 100 * time.Millisecond, ToClient: 100 * time.Microsecond, ServerFrom: tcpstate.LegHandshake, ClientFrom: tcpstate.LegHandshake}, c.Legs)
	assert.InDelta(t, base*1000, units.Ms(c.RTT), 1e-6)
	assert.InDelta(t, base+3*0.115+0.001, bu.Duration.Seconds(), 1e-9)
	assert.InDelta(t, base, bu.Handshake.Seconds(), 1e-9)
	// each answer pays the 100 ms leg to the server; each later request
	// and the last ACK the 0.1 ms leg to the client, the rest is think
	assert.InDelta(t, 0.010+2*(0.010-0.0001)+(0.001-0.0001), bu.ClientThink.Seconds(), 1e-9)
	assert.InDelta(t, 3*0.100+3*0.0001, bu.RoundTrip.Seconds(), 1e-9)
	assert.InDelta(t, 3*(0.105-0.100), bu.ServerThink.Seconds(), 1e-9)
	assert.InDelta(t, bu.Duration.Seconds(), bu.Sum().Seconds(), 1e-9)
	assert.Equal(t, 3, c.Turns)
	assert.Equal(t, 3, c.Model.RoundTrips)
	assert.Equal(t, explain.LimitRoundTrip, c.Limit)
	// at 10 ms: handshake and turns shrink tenfold, think stays
	p := c.Project(10*time.Millisecond+10*time.Microsecond, 0)
	assert.InDelta(t, 0.01001+3*0.01001+0.0307+0.015, p.Duration.Seconds(), 1e-9)
	assert.Equal(t, 4, p.RoundTrips)
}

// A receiver that closes its window for 300 ms in the middle of a bulk
// response.
func TestScriptedZeroWindow(t *testing.T) {
	b := newBuilder()
	b.Handshake(50*time.Millisecond, 100*time.Microsecond, flowtest.OptMSS(1460), flowtest.OptMSS(1460))
	b.Send(c2s, 60, nil)
	b.Advance(50 * time.Millisecond)
	for range 4 {
		b.Send(s2c, 1460, nil)
		b.Advance(time.Millisecond)
	}
	b.SetWindow(c2s, 0)
	b.Ack(c2s, nil)
	b.Advance(300 * time.Millisecond)
	b.SetWindow(c2s, 65535)
	b.Ack(c2s, nil)
	b.Advance(50 * time.Millisecond)
	for range 4 {
		b.Send(s2c, 1460, nil)
		b.Advance(time.Millisecond)
	}
	b.Ack(c2s, nil)
	c := explainBytes(t, b.Bytes())
	assert.InDelta(t, 0.001+0.300+0.050, c.Budget.ZeroWindow.Seconds(), 1e-9)
	assert.Equal(t, explain.LimitReceiverWindow, c.Limit)
	assert.InDelta(t, c.Budget.Duration.Seconds(), c.Budget.Sum().Seconds(), 1e-9)
	require.NotEmpty(t, c.Stalls)
	assert.Equal(t, explain.CauseZeroWindow, c.Stalls[0].Cause)
	assert.InDelta(t, 0.351, c.Stalls[0].Duration.Seconds(), 1e-9)
}

// A request lost after the capture point and sent again by timeout.
func TestScriptedRequestRTO(t *testing.T) {
	b := newBuilder()
	b.Handshake(50*time.Millisecond, 100*time.Microsecond, flowtest.OptMSS(1460), flowtest.OptMSS(1460))
	seq := b.Send(c2s, 100, nil)
	b.Advance(300 * time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Seq: seq, SetSeq: true, Len: 100})
	b.Advance(55 * time.Millisecond)
	b.Send(s2c, 300, nil)
	c := explainBytes(t, b.Bytes())
	assert.InDelta(t, 0.300, c.Budget.RTO.Seconds(), 1e-9)
	assert.EqualValues(t, 1, c.Model.RTOs)
	assert.InDelta(t, 0.050, c.Budget.RoundTrip.Seconds(), 1e-9, "the leg to the server")
	assert.InDelta(t, 0.055-0.050, c.Budget.ServerThink.Seconds(), 1e-9)
	// at 150 ms the timeout grows with the RTT above its 200 ms floor
	p := c.Project(150*time.Millisecond, 0)
	assert.InDelta(t, 0.300*(0.2+0.150)/(0.2+0.0501), p.Budget.RTO.Seconds(), 1e-9)
}

// FuzzScript builds a connection from fuzz bytes (sends, ACKs, window
// changes, pauses, losses) and checks the invariants: the budget adds up to
// the duration, no part is negative, projections are finite.
func FuzzScript(f *testing.F) {
	f.Add([]byte{0, 1, 50, 2, 200, 3, 0, 40, 1, 30})
	f.Add([]byte{1, 2, 255, 2, 255, 2, 255, 5, 0, 200, 4, 5, 2, 10})
	f.Fuzz(runScript)
}

// runScript is FuzzScript's body.
func runScript(t *testing.T, script []byte) {
	b := newBuilder()
	{
		if len(script) > 0 && script[0]%2 == 0 {
			b.Handshake(time.Duration(script[0])*time.Millisecond, 100*time.Microsecond, flowtest.OptMSS(1460), nil)
		}
		for i := 1; i+1 < len(script) && i < 400; i += 2 {
			op, arg := script[i]%8, int(script[i+1])
			switch op {
			case 0:
				b.Advance(time.Duration(arg) * time.Millisecond)
			case 1:
				b.Send(c2s, arg*5+1, nil)
			case 2:
				b.Send(s2c, arg*5+1, nil)
			case 3:
				b.Ack(c2s, nil)
			case 4:
				b.Ack(s2c, nil)
			case 5:
				b.SetWindow(c2s, uint16(arg)*200)
			case 6:
				b.Lose(s2c, arg*5+1)
			case 7:
				b.Packet(s2c, flowtest.Seg{Seq: b.Nxt(s2c) - uint32(arg), SetSeq: true, Len: arg + 1})
			}
		}
		rep, err := explain.Analyze(bytes.NewReader(b.Bytes()), explain.Options{})
		if err != nil {
			return
		}
		for _, c := range rep.Conns {
			bu := c.Budget
			if math.Abs(bu.Sum().Seconds()-bu.Duration.Seconds()) > 1e-6+0.01*bu.Duration.Seconds() {
				t.Fatalf("budget %+v sums to %v, duration %v", bu, bu.Sum().Seconds(), bu.Duration.Seconds())
			}
			for k := explain.CauseTransfer; k <= explain.CauseRTO; k++ {
				if bu.Part(k) < 0 {
					t.Fatalf("negative %s: %+v", k, bu)
				}
			}
			for _, at := range []time.Duration{time.Millisecond, time.Second} {
				p := c.Project(at, 800*units.Kbps) // 1e5 bytes/s
				if math.IsNaN(p.Duration.Seconds()) || math.IsInf(p.Duration.Seconds(), 0) || p.Duration.Seconds() < 0 {
					t.Fatalf("projection %+v", p)
				}
			}
		}
	}
}

// The same exchange captured at the server: the server's think time is
// seen directly, the client's hides behind a round trip.
func TestScriptedServerVantage(t *testing.T) {
	b := newBuilder()
	b.Handshake(100*time.Microsecond, 100*time.Millisecond, flowtest.OptMSS(1460), flowtest.OptMSS(1460))
	for range 3 {
		b.Advance(time.Millisecond) // request arrives just after the ACK or the last answer's round trip
		b.Send(c2s, 100, nil)
		b.Advance(5 * time.Millisecond)
		b.Send(s2c, 500, nil)
		b.Advance(109 * time.Millisecond) // 100 ms round trip, 9 ms of client think
	}
	b.Send(c2s, 50, nil)
	c := explainBytes(t, b.Bytes())
	bu := c.Budget
	assert.Equal(t, tcpstate.VantageServer, c.Vantage)
	assert.InDelta(t, 100.1, units.Ms(c.RTT), 1e-6)
	// the 0.1 ms leg to the server in each answer's gap
	assert.InDelta(t, 3*(0.005-0.0001), bu.ServerThink.Seconds(), 1e-9)
	assert.InDelta(t, 3*0.0001+3*0.100, bu.RoundTrip.Seconds(), 1e-9)
	// 1 ms before the first request, then 110 ms between an answer and the
	// next request (109 ms for the last), less the 100 ms leg to the
	// client each
	assert.InDelta(t, 0.001+2*(0.110-0.100)+(0.109-0.100), bu.ClientThink.Seconds(), 1e-9)
	assert.InDelta(t, bu.Duration.Seconds(), bu.Sum().Seconds(), 1e-9)
}

// A capture that lost the SYN/ACK: the handshake ends with the first data
// and the rest is still attributed.
func TestScriptedMissingSynAck(t *testing.T) {
	b := newBuilder()
	b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN, Opts: flowtest.OptMSS(1460)})
	b.Advance(80 * time.Millisecond)
	b.Send(c2s, 100, nil) // the SYN/ACK and the ACK were not captured
	b.Advance(60 * time.Millisecond)
	b.Send(s2c, 300, nil)
	b.Advance(10 * time.Millisecond)
	b.Send(c2s, 100, nil)
	c := explainBytes(t, b.Bytes())
	assert.Equal(t, tcpstate.VantageUnknown, c.Vantage)
	assert.InDelta(t, 0.080, c.Budget.Handshake.Seconds(), 1e-9)
	assert.InDelta(t, 0.010, c.Budget.ClientThink.Seconds(), 1e-9)
	assert.InDelta(t, c.Budget.Duration.Seconds(), c.Budget.Sum().Seconds(), 1e-9)
	assert.InDelta(t, 0.060, c.Budget.RoundTrip.Seconds()+c.Budget.ServerThink.Seconds(), 1e-9)
}

// A SYN answered only when sent again after 1 s: which SYN the SYN/ACK
// answers cannot be told (Karn's rule), so the handshake's round trip is
// timed from the first SYN (tcpstate's Handshake.RTT, 1.0501 s, an upper
// bound) and the base RTT is the request's 55 ms; the vantage is judged on
// the legs from the latest SYN. In the budget the second before the SYN's
// resend is a timeout (rto, counted in the model's rtos and syn_rto_s),
// the 50.1 ms after it handshake.
func TestScriptedSynRetransmitted(t *testing.T) {
	b := newBuilder()
	b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN, Opts: flowtest.OptMSS(1460)})
	b.Advance(time.Second)
	b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN, Seq: 1000, Opts: flowtest.OptMSS(1460)}) // same ISN again
	b.Advance(50 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Flags: tcpstate.SYN | tcpstate.ACK, Opts: flowtest.OptMSS(1460)})
	b.Advance(100 * time.Microsecond)
	b.Ack(c2s, nil)
	b.Advance(10 * time.Millisecond)
	b.Send(c2s, 100, nil)
	b.Advance(55 * time.Millisecond)
	b.Send(s2c, 300, nil)
	c := explainBytes(t, b.Bytes())
	assert.Equal(t, tcpstate.VantageClient, c.Vantage, "50 ms to the server, 0.1 ms to the client")
	assert.InDelta(t, 55.1, units.Ms(c.RTT), 1e-6, "the request's 55 ms to the server, 0.1 ms to the client")
	assert.Equal(t, 2, c.RTTSamples, "the handshake and the request timed by the answer's ACK")
	assert.InDelta(t, 0.0501, c.Budget.Handshake.Seconds(), 1e-9)
	assert.InDelta(t, 1.0, c.Budget.RTO.Seconds(), 1e-9)
	assert.Equal(t, 1, c.Model.RTOs)
	assert.Equal(t, time.Second, c.Model.SYNTimeouts)
	assert.EqualValues(t, 1, c.AcksC2S.Retransmissions, "the SYN sent again")
	// projected to a path of 10 times the RTT the timer's second stays
	p := c.ProjectTo(explain.Target{RTT: 551 * time.Millisecond})
	assert.InDelta(t, 1.0, p.Budget.RTO.Seconds(), 1e-9)
	assert.InDelta(t, c.Budget.Duration.Seconds(), c.Budget.Sum().Seconds(), 1e-9)
}

// A handshake too short to place the capture (tcpstate's vantage is
// unknown below 200 µs): taken to be at the client.
func TestScriptedLoopbackVantage(t *testing.T) {
	b := newBuilder()
	b.Handshake(50*time.Microsecond, 10*time.Microsecond, nil, nil)
	b.Send(c2s, 100, nil)
	b.Advance(time.Millisecond)
	b.Send(s2c, 100, nil)
	c := explainBytes(t, b.Bytes())
	assert.Equal(t, tcpstate.VantageUnknown, c.Vantage)
	assert.InDelta(t, 0.06, units.Ms(c.RTT), 1e-9, "the handshake's 60 µs")
}

// A capture that begins inside a loss recovery (cs_tcp_dupack.pcapng's
// shape): the client's first ACK already SACKs data above a hole the
// capture never saw, the server's new data draws duplicate ACKs, and the
// server fast-retransmits the hole's first segment 0.7 ms in. Nothing is
// labelled "previous segment not captured"; the SACK block (tcpstate's
// SACKHole) shows the hole, so the time up to the retransmission is loss
// recovery, not the server's think time.
func TestScriptedCaptureStartsInRecovery(t *testing.T) {
	b := newBuilder()
	b.SetISN(c2s, 1000)
	b.SetISN(s2c, 5000)
	b.Step = 100 * time.Microsecond
	sack := func(right uint32) []byte { return flowtest.OptSACK([2]uint32{7000, right}) }
	b.Packet(c2s, flowtest.Seg{Ack: 5000, SetAck: true, Opts: sack(8000)}) // the hole 5000-7000
	for _, seq := range []uint32{8000, 9000, 10000} {
		b.Packet(s2c, flowtest.Seg{Seq: seq, SetSeq: true, Ack: 1000, SetAck: true, Len: 1000})
		b.Packet(c2s, flowtest.Seg{Ack: 5000, SetAck: true, Opts: sack(seq + 1000)}) // duplicate ACK
	}
	b.Packet(s2c, flowtest.Seg{Seq: 5000, SetSeq: true, Ack: 1000, SetAck: true, Len: 1000}) // fast retransmit
	b.Packet(c2s, flowtest.Seg{Ack: 6000, SetAck: true, Opts: sack(11000)})
	c := explainBytes(t, b.Bytes())
	assert.Equal(t, explain.LimitLoss, c.Limit)
	assert.InDelta(t, 0.0007, c.Budget.LossRecovery.Seconds(), 1e-9, "from the first ACK to the retransmission")
	assert.Zero(t, c.Budget.ServerThink)
}
