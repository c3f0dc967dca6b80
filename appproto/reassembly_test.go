package appproto

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/netecology/netecology/tcpstate"
)

// streamEvent is one delivery of a reassembler: bytes, or a gap of n.
type streamEvent struct {
	data string
	gap  int64
	idx  uint64
	psh  bool
}

// streamRecorder is a streamSink that records what it is given.
type streamRecorder struct{ ev []streamEvent }

func (r *streamRecorder) data(_ Dir, p []byte, _ time.Time, idx uint64, psh bool) {
	r.ev = append(r.ev, streamEvent{data: string(p), idx: idx, psh: psh})
}

func (r *streamRecorder) gap(_ Dir, n int64, _ time.Time, idx uint64, psh bool) {
	r.ev = append(r.ev, streamEvent{gap: n, idx: idx, psh: psh})
}

// seg is a segment of payload p at seq; wlen 0 means len(p).
func seg(idx uint64, seq tcpstate.Seq, f tcpstate.Flags, p string, wlen int) *tcpstate.Segment {
	if wlen == 0 {
		wlen = len(p)
	}
	return &tcpstate.Segment{Index: idx, Seq: seq, Flags: f | tcpstate.ACK, Len: wlen, Payload: []byte(p)}
}

// TestReassembler feeds one direction's segments to a reassembler alone
// and checks, by sequence arithmetic, what it delivers.
func TestReassembler(t *testing.T) {
	var rec streamRecorder
	r := newReassembler(ClientToServer, 8, &rec)
	r.add(seg(1, 1000, tcpstate.SYN, "", 0))            // the SYN takes 1000: data starts at 1001
	r.add(seg(2, 1001, tcpstate.PSH, "abc", 0))         // 1001-1003 in order
	r.add(seg(3, 1001, tcpstate.PSH, "abc", 0))         // all retransmitted: dropped
	r.add(seg(4, 1002, 0, "bcdef", 0))                  // 1002-1006: the first two bytes are old
	r.add(seg(5, 1010, tcpstate.PSH, "jk", 0))          // 1010-1011: held, 1007-1009 missing
	r.add(seg(6, 1007, 0, "ghi", 0))                    // fills the hole: "ghi", then "jk"
	r.add(seg(7, 1012, tcpstate.RST, "reset text", 0))  // a RST's payload is not stream data
	r.add(seg(8, 1012, tcpstate.PSH, "lmno", 10))       // snap length kept 4 of 10 bytes: 6 lost
	r.add(seg(9, 1032, 0, "vwxyz", 0))                  // 1032-1036 held (5 bytes of 8)
	r.add(seg(10, 1042, tcpstate.PSH, "ABCDE", 0))      // 5 more would pass MaxHeld 8: 1022-1031 lost, 1032- delivered, this held
	r.add(seg(11, 1060, tcpstate.PSH, "0123456789", 0)) // 10 bytes alone exceed MaxHeld: 1037-1041, "ABCDE", 1047-1059 lost
	r.flush(time.Time{})
	assert.Equal(t, []streamEvent{
		{data: "abc", idx: 2, psh: true},
		{data: "def", idx: 4},
		{data: "ghi", idx: 6},
		{data: "jk", idx: 5, psh: true},
		{data: "lmno", idx: 8},      // PSH belongs to the segment's end, which was cut
		{gap: 6, idx: 8, psh: true}, // 1016-1021
		{gap: 10},                   // 1022-1031
		{data: "vwxyz", idx: 9},     // 1032-1036
		{gap: 5},                    // 1037-1041
		{data: "ABCDE", idx: 10, psh: true},
		{gap: 13}, // 1047-1059
		{data: "0123456789", idx: 11, psh: true},
	}, rec.ev)
	// Bytes delivered: 3+3+3+2+4+5+5+10; gaps 6+10+5+13.
	assert.Equal(t, int64(35), r.bytes)
	assert.Equal(t, uint64(4), r.gaps)
	assert.Equal(t, int64(34), r.gapBytes)
	assert.Empty(t, r.held)
	assert.Equal(t, 0, r.heldBytes)
}

// TestReassemblerWrapAndMidstream: without a SYN the first data sets the
// stream's start; sequence numbers wrap at 2^32; a hole left at the end is
// a gap at flush.
func TestReassemblerWrapAndMidstream(t *testing.T) {
	var rec streamRecorder
	r := newReassembler(ServerToClient, DefaultMaxHeld, &rec)
	r.add(seg(1, 0xfffffffe, 0, "ab", 0)) // 0xfffffffe-0xffffffff
	r.add(seg(2, 4, tcpstate.PSH, "ef", 0))
	r.add(seg(3, 0, 0, "cd", 0))          // 0-1 after the wrap; 2-3 still missing
	r.add(seg(4, 0xfffffffe, 0, "ab", 0)) // a retransmission across the wrap
	r.flush(time.Time{})
	assert.Equal(t, []streamEvent{
		{data: "ab", idx: 1},
		{data: "cd", idx: 3},
		{gap: 2}, // 2-3, declared at flush
		{data: "ef", idx: 2, psh: true},
	}, rec.ev)
}
