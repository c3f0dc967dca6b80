package flow_test

import (
	"bytes"
	"compress/gzip"
	"testing"

	forkgopacket "github.com/gopacket/gopacket"
	forklayers "github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
)

// TestPcapNGMixedLinkTypes writes one connection whose packets alternate
// between an Ethernet interface and a raw-IP interface (with another
// timestamp resolution), as a capture on "any" interface can hold.
func TestPcapNGMixedLinkTypes(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{
		Name: "eth0", LinkType: forklayers.LinkTypeEthernet, SnapLength: 65535,
	}, pcapgo.NgWriterOptions{})
	require.NoError(t, err)
	raw, err := w.AddInterface(pcapgo.NgInterface{
		Name: "tun0", LinkType: forklayers.LinkTypeRaw, SnapLength: 65535, TimestampResolution: 6,
	})
	require.NoError(t, err)
	ts := times(7)
	for i, p := range handshake() {
		iface, data := 0, ether(0x0800, nil, p)
		if i%2 == 1 {
			iface, data = raw, p
		}
		ci := forkgopacket.CaptureInfo{Timestamp: ts[i], CaptureLength: len(data), Length: len(data), InterfaceIndex: iface}
		require.NoError(t, w.WritePacket(ci, data))
	}
	require.NoError(t, w.Flush())

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(buf.Bytes())
	require.NoError(t, zw.Close())
	for _, in := range [][]byte{buf.Bytes(), gz.Bytes()} {
		res, err := flow.Analyze(bytes.NewReader(in), flow.Config{KeepConns: true})
		require.NoError(t, err)
		assert.Equal(t, flow.FormatPcapNG, res.Format)
		require.Len(t, res.Conns, 1)
		c := res.Conns[0]
		assert.Equal(t, uint64(4), c.C2S.Packets)
		assert.Equal(t, uint64(3), c.S2C.Packets)
		assert.Equal(t, ts[0], c.First)
		assert.Equal(t, ts[6], c.Last)
		assert.Equal(t, "complete", c.State.String())
	}
}
