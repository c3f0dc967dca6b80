package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

// rec is one packet of a raw-IP capture (nanosecond pcap, LINKTYPE_RAW,
// as flowtest.Builder writes).
type rec struct {
	t    time.Time
	data []byte
}

// records reads the packets of a flowtest.Builder capture.
func records(t *testing.T, b []byte) []rec {
	le := binary.LittleEndian
	require.Equal(t, uint32(0xa1b23c4d), le.Uint32(b))
	var out []rec
	for b = b[24:]; len(b) >= 16; {
		n := int(le.Uint32(b[8:]))
		out = append(out, rec{time.Unix(int64(le.Uint32(b)), int64(le.Uint32(b[4:]))).UTC(), b[16 : 16+n]})
		b = b[16+n:]
	}
	return out
}

func writePcap(recs []rec) []byte {
	slices.SortStableFunc(recs, func(a, b rec) int { return a.t.Compare(b.t) })
	le := binary.LittleEndian
	out := make([]byte, 24)
	le.PutUint32(out, 0xa1b23c4d)
	le.PutUint16(out[4:], 2)
	le.PutUint16(out[6:], 4)
	le.PutUint32(out[16:], 262144)
	le.PutUint32(out[20:], 101)
	for _, r := range recs {
		var h [16]byte
		le.PutUint32(h[0:], uint32(r.t.Unix()))
		le.PutUint32(h[4:], uint32(r.t.Nanosecond()))
		le.PutUint32(h[8:], uint32(len(r.data)))
		le.PutUint32(h[12:], uint32(len(r.data)))
		out = append(append(out, h[:]...), r.data...)
	}
	return out
}

// echo is an IPv4 ICMP echo (type 8 or 0) with n bytes of payload: 28+n
// bytes.
func echo(src, dst netip.Addr, typ uint8, seq uint16, n int) []byte {
	b := make([]byte, 28+n)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	b[8], b[9] = 64, 1
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	b[20] = typ
	binary.BigEndian.PutUint16(b[24:], 0x77)
	binary.BigEndian.PutUint16(b[26:], seq)
	return b
}

var (
	pinger = netip.MustParseAddr("10.77.0.9")
	client = netip.MustParseAddr("10.77.0.1")
	server = netip.MustParseAddr("10.77.0.2")
	start  = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
)

// floodCapture is a big-ping flood over a mixed workload, on the model of
// the lab's flood capture: a third host sends 200 echo requests of 1472
// bytes (1500-byte packets) to the server, one every 50 ms, and half the
// replies are lost on the saturated link; meanwhile the client downloads
// 60 segments of 1000 bytes over HTTP and runs 50 PostgreSQL queries of
// 100 bytes answered with 300, and pings the server 10 times with 56 bytes.
func floodCapture(t *testing.T) string {
	var recs []rec
	for i := range 200 {
		at := start.Add(time.Duration(i) * 50 * time.Millisecond)
		recs = append(recs, rec{at, echo(pinger, server, 8, uint16(i), 1472)})
		if i%2 == 0 {
			recs = append(recs, rec{at.Add(20 * time.Millisecond), echo(server, pinger, 0, uint16(i), 1472)})
		}
	}
	for i := range 10 {
		at := start.Add(time.Duration(i) * time.Second)
		recs = append(recs, rec{at, echo(client, server, 8, uint16(i), 56)}, rec{at.Add(5 * time.Millisecond), echo(server, client, 0, uint16(i), 56)})
	}
	h := flowtest.NewBuilder(netip.AddrPortFrom(client, 40000), netip.AddrPortFrom(server, 80), start.Add(time.Second))
	h.Handshake(10*time.Millisecond, time.Millisecond, nil, nil)
	h.Send(tcpstate.ClientToServer, 100, nil)
	for i := range 60 {
		h.Advance(50 * time.Millisecond)
		h.Send(tcpstate.ServerToClient, 1000, nil)
		if i%2 == 1 {
			h.Ack(tcpstate.ClientToServer, nil)
		}
	}
	pg := flowtest.NewBuilder(netip.AddrPortFrom(client, 40001), netip.AddrPortFrom(server, 5432), start.Add(2*time.Second))
	pg.Handshake(10*time.Millisecond, time.Millisecond, nil, nil)
	for range 50 {
		pg.Advance(50 * time.Millisecond)
		pg.Send(tcpstate.ClientToServer, 100, nil)
		pg.Advance(50 * time.Millisecond)
		pg.Send(tcpstate.ServerToClient, 300, nil)
	}
	recs = append(recs, records(t, h.Bytes())...)
	recs = append(recs, records(t, pg.Bytes())...)
	name := filepath.Join(t.TempDir(), "flood.pcap")
	require.NoError(t, os.WriteFile(name, writePcap(recs), 0o644))
	return name
}

func runTool(t *testing.T, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := run(args, nil, &out, &errb)
	return out.String(), errb.String(), code
}

// TestFloodTopTalker: on a big-ping flood over a mixed workload, the tool
// shows the pinging host as the top talker and as the big pinger.
func TestFloodTopTalker(t *testing.T) {
	f := floodCapture(t)
	// The pinger sent 200 × 1500 = 300000 bytes; the server 100 replies
	// (150000), the HTTP SYN/ACK and data (40 + 60 × 1040) and the
	// PostgreSQL SYN/ACK and answers (40 + 50 × 340), 229480 in all, and
	// 10 small replies (10 × 84): 230320.
	out, _, code := runTool(t, "-local", "10.77.0.0/24", "-rate", "2M", f)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "* top talker: 10.77.0.9 sent 300000 bytes")
	assert.Contains(t, out, "(next 10.77.0.2,")
	assert.Contains(t, out, "* big pings: 10.77.0.9 sent 200 echo requests with more than 1000 bytes of payload; with their replies 450000 bytes")
	assert.Contains(t, out, ", the top talker\n")

	js, _, code := runTool(t, "-json", "-workers", "1", f)
	require.Equal(t, 0, code)
	var rep struct {
		Hosts struct {
			BySent []struct {
				Prefix    string `json:"prefix"`
				SentBytes uint64 `json:"sent_bytes"`
			} `json:"by_sent"`
		} `json:"hosts"`
		ICMP struct {
			Pingers []struct {
				Host  string `json:"host"`
				Pings uint64 `json:"pings"`
				Bytes uint64 `json:"bytes"`
			} `json:"pingers"`
		} `json:"icmp"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &rep))
	require.GreaterOrEqual(t, len(rep.Hosts.BySent), 2)
	assert.Equal(t, "10.77.0.9/32", rep.Hosts.BySent[0].Prefix)
	assert.Equal(t, uint64(300000), rep.Hosts.BySent[0].SentBytes)
	assert.Equal(t, "10.77.0.2/32", rep.Hosts.BySent[1].Prefix)
	assert.Equal(t, uint64(150000+40+60*1040+40+50*340+10*84), rep.Hosts.BySent[1].SentBytes)
	require.Len(t, rep.ICMP.Pingers, 1)
	assert.Equal(t, "10.77.0.9", rep.ICMP.Pingers[0].Host)
	assert.Equal(t, [2]uint64{200, 300000 + 150000}, [2]uint64{rep.ICMP.Pingers[0].Pings, rep.ICMP.Pingers[0].Bytes})

	// The same with four workers, byte for byte.
	js4, _, _ := runTool(t, "-json", "-workers", "4", f)
	assert.Equal(t, js, js4)

	// CSV of the host table: the pinger first by bytes sent.
	cs, _, code := runTool(t, "-csv", "-table", "hosts", f)
	require.Equal(t, 0, code)
	rows, err := csv.NewReader(strings.NewReader(cs)).ReadAll()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rows), 2)
	assert.Equal(t, append([]string{"file"}, talkerHeader...), rows[0])
	assert.Equal(t, []string{f, "sent", "1", "10.77.0.9", "300000", "200", "0"}, rows[1][:7])

	// The figure.
	png := filepath.Join(t.TempDir(), "flood.png")
	_, _, code = runTool(t, "-local", "10.77.0.0/24", "-rate", "2M", "-interval", "1s", "-fig", png, f)
	require.Equal(t, 0, code)
	b, err := os.ReadFile(png)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(b, []byte("\x89PNG")))
}

// TestCSVTables prints every table of a corpus capture as CSV: a header
// and rows of its width.
func TestCSVTables(t *testing.T) {
	f := floodCapture(t)
	for _, tb := range tables {
		out, _, code := runTool(t, "-csv", "-table", tb, "-local", "10.77.0.1", f)
		require.Equal(t, 0, code, tb)
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		require.NoError(t, err, tb)
		require.NotEmpty(t, rows, tb)
		assert.Equal(t, len(tablesByName[tb].header)+1, len(rows[0]), tb)
		assert.Greater(t, len(rows), 1, "%s has rows", tb)
	}
}

func TestUsage(t *testing.T) {
	f := floodCapture(t)
	for _, args := range [][]string{{}, {"-json", "-csv", f}, {"-table", "nope", f}, {"-local", "10.0.0.300", f},
		{"-rate", "fast", f}, {"-interval", "0s", f}, {"-fig", "x.gif", f}, {"-top", "0", f}} {
		_, _, code := runTool(t, args...)
		assert.Equal(t, 2, code, "%v", args)
	}
	out, errb, code := runTool(t, filepath.Join(t.TempDir(), "missing.pcap"), f)
	assert.Equal(t, 1, code)
	assert.Contains(t, errb, "missing.pcap")
	assert.Contains(t, out, "flood.pcap")
}

func TestParsePrefixes(t *testing.T) {
	ps, err := parsePrefixes("10.0.0.0/24, 192.0.2.7,2001:db8::/32")
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32")}, ps)
}
