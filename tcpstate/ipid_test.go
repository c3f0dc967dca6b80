package tcpstate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The IP ID rule on a scripted sender: eight steps of one earn trust, a
// skip of k then reports k-1 unseen packets, a timeout's resend when it
// ends MinRTO of silence with data; random IDs, a zero ID and the
// segments of an offloaded super-segment (IDs stepping by its segment
// count) report nothing.
func TestUnseenByIPID(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	seg := func(id uint16, at time.Duration, n int) *Segment {
		return &Segment{Time: t0.Add(at), IPID: id, HasIPID: true, Len: n}
	}
	var tr idTrack
	for i := uint16(0); i < idTrust; i++ {
		n, _ := tr.unseen(seg(100+i, time.Duration(i)*time.Millisecond, 1448), 1460)
		assert.Zero(t, n, "trust not yet earned at step %d", i)
	}
	n, to := tr.unseen(seg(100+idTrust, 8*time.Millisecond, 1448), 1460)
	assert.Equal(t, uint16(0), n)
	assert.False(t, to)
	// two packets the capture missed, then a resend 343 ms later (the lab's
	// loss1-pg-fetch100 frame 369: IDs 0x230b then 0x230d, 0.343 s apart)
	n, to = tr.unseen(seg(100+idTrust+3, 351*time.Millisecond, 1356), 1460)
	assert.Equal(t, uint16(2), n)
	assert.True(t, to)
	// a skip soon after: unseen, no timeout
	n, to = tr.unseen(seg(100+idTrust+5, 352*time.Millisecond, 1448), 1460)
	assert.Equal(t, uint16(1), n)
	assert.False(t, to)
	// a pure ACK after a skip is never a timeout's resend
	n, to = tr.unseen(seg(100+idTrust+7, time.Second, 0), 1460)
	assert.Equal(t, uint16(1), n)
	assert.False(t, to)
	// a jump beyond idMaxSkip loses the trust
	n, _ = tr.unseen(seg(100+idTrust+30, 1001*time.Millisecond, 1448), 1460)
	assert.Zero(t, n)
	n, _ = tr.unseen(seg(100+idTrust+32, 1002*time.Millisecond, 1448), 1460)
	assert.Zero(t, n, "one step after the jump is not trusted")

	// a super-segment of 4 x 1448 bytes took 4 IDs on the wire
	var off idTrack
	for i := uint16(0); i <= idTrust; i++ {
		off.unseen(seg(10+i, 0, 1448), 1460)
	}
	off.unseen(seg(10+idTrust+1, 0, 4*1448), 1460)
	n, _ = off.unseen(seg(10+idTrust+5, 0, 1448), 1460)
	assert.Zero(t, n, "after a super-segment")

	// an ID of zero (DF with no counter) or none (IPv6) stops the rule
	var z idTrack
	for i := uint16(0); i <= idTrust; i++ {
		z.unseen(seg(10+i, 0, 100), 1460)
	}
	n, _ = z.unseen(&Segment{Time: t0, Len: 100}, 1460)
	assert.Zero(t, n)
	n, _ = z.unseen(seg(10+idTrust+3, 0, 100), 1460)
	assert.Zero(t, n)
}
