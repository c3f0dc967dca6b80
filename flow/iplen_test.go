package flow_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
)

// ipLengthLies is a connection whose IPv4 total lengths claim more than
// the frames held: a handshake, then (4) a pure ACK, 40 bytes whole, whose
// total length says 20276; then (5) a data segment of 1000 payload bytes
// on the wire, 140 of its 1040 bytes captured (snap length), whose total
// length says 20040. Raw IPv4 (LINKTYPE_RAW).
func ipLengthLies(t *testing.T) []byte {
	t.Helper()
	c := netip.MustParseAddrPort("10.0.0.1:40000")
	s := netip.MustParseAddrPort("10.0.0.2:80")
	var b bytes.Buffer
	w, err := flowtest.NewPcapWriter(&b, flowtest.LinkRaw, false)
	require.NoError(t, err)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	put := func(seg flowtest.TCP, ipLen uint16, keep int) {
		p := flowtest.AppendIP(nil, &seg)
		wire := len(p)
		if ipLen > 0 {
			binary.BigEndian.PutUint16(p[2:], ipLen)
		}
		if keep > 0 {
			p = p[:keep]
		}
		at = at.Add(time.Millisecond)
		require.NoError(t, w.WritePacket(at, p, wire))
	}
	put(flowtest.TCP{Src: c, Dst: s, Seq: 100, Flags: 0x02, Window: 65535}, 0, 0)
	put(flowtest.TCP{Src: s, Dst: c, Seq: 500, Ack: 101, Flags: 0x12, Window: 65535}, 0, 0)
	put(flowtest.TCP{Src: c, Dst: s, Seq: 101, Ack: 501, Flags: 0x10, Window: 65535}, 0, 0)
	put(flowtest.TCP{Src: c, Dst: s, Seq: 101, Ack: 501, Flags: 0x10, Window: 65535}, 20276, 0)
	put(flowtest.TCP{Src: s, Dst: c, Seq: 501, Ack: 101, Flags: 0x18, Window: 65535, Payload: make([]byte, 1000)}, 20040, 140)
	if p := os.Getenv("NETECOLOGY_WRITE_IPLEN"); p != "" {
		require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	}
	return b.Bytes()
}

// TestIPLengthBeyondFrame: an IPv4 total length that claims more than
// the frame carried on the wire is taken as the frame's length, as tshark
// does ("IPv4 total length exceeds packet length"): tshark 4.0 gives
// tcp.len 0 for packet 4 (the frame holds 40 bytes) and 1000 for packet 5
// (1040 bytes on the wire), so c2s carries no payload and s2c 1000 bytes,
// 140 of them captured. The lengths once counted 20236 and 20000 payload
// bytes, more than the wire carried.
func TestIPLengthBeyondFrame(t *testing.T) {
	res, err := flow.Analyze(bytes.NewReader(ipLengthLies(t)), flow.Config{KeepConns: true})
	require.NoError(t, err)
	require.Len(t, res.Conns, 1)
	c := res.Conns[0]
	assert.Equal(t, uint64(3), c.C2S.Packets)
	assert.Equal(t, uint64(0), c.C2S.PayloadBytes, "packet 4: tcp.len 0")
	assert.Equal(t, uint64(0), c.C2S.UniqueBytes)
	assert.Equal(t, uint64(1000), c.S2C.PayloadBytes, "packet 5: tcp.len 1000")
	assert.Equal(t, uint64(1000), c.S2C.UniqueBytes)
	assert.Equal(t, uint64(1), c.S2C.Truncated, "packet 5: 140 of 1040 bytes captured")
	for _, d := range []*struct{ p, w uint64 }{{c.C2S.PayloadBytes, c.C2S.WireBytes}, {c.S2C.PayloadBytes, c.S2C.WireBytes}} {
		assert.LessOrEqual(t, d.p, d.w, "payload within the wire bytes")
	}
}
