package census

import (
	"encoding/binary"
	"math/bits"

	"github.com/netecology/netecology/tcpstate"
)

// Redundancy is how much of some TCP payload is padding or repeats.
//
// Runs: every captured payload byte is scanned; a byte belongs to a run
// when it is one of at least Config.MinRun equal consecutive bytes of its
// direction's stream (runs continue across segments that follow each
// other in sequence). Runs of spaces and of zero bytes are counted apart,
// the "half of it was trailing spaces" of a print job.
//
// Repeats: a sample of the payload (the first Config.SampleBytes of each
// direction of each connection, whole segments) is parsed greedily as
// LZ77 within each segment: a 4-byte hash finds the latest earlier
// occurrence of the next 4 bytes and the match is extended as far as it
// goes. MatchedBytes are the sample's bytes inside matches; EstimatedBytes
// costs the parse as LZ4-like tokens (a literal 1 byte, a match 3 bytes
// plus 1 per 255 of its length beyond 4). It sees repeats within a
// segment only, so it underestimates what deflate over the whole stream
// would save; it needs no memory per connection.
type Redundancy struct {
	// PayloadBytes is the TCP payload on the wire (retransmissions
	// included); CapturedBytes the part the capture holds (snap length).
	PayloadBytes  uint64 `json:"payload_bytes"`
	CapturedBytes uint64 `json:"captured_bytes"`
	// SpaceRunBytes, ZeroRunBytes and OtherRunBytes are the captured
	// bytes in runs of spaces (0x20), of zeros and of any other byte.
	SpaceRunBytes uint64 `json:"space_run_bytes"`
	ZeroRunBytes  uint64 `json:"zero_run_bytes"`
	OtherRunBytes uint64 `json:"other_run_bytes"`
	// SampledBytes is the payload the LZ parse covered; MatchedBytes and
	// EstimatedBytes its result.
	SampledBytes   uint64 `json:"sampled_bytes"`
	MatchedBytes   uint64 `json:"matched_bytes"`
	EstimatedBytes uint64 `json:"estimated_bytes"`
	// RunShare is run bytes over CapturedBytes; MatchShare MatchedBytes
	// over SampledBytes; Ratio EstimatedBytes over SampledBytes (1 means
	// incompressible). Zero when their denominator is.
	RunShare   float64 `json:"run_share"`
	MatchShare float64 `json:"match_share"`
	Ratio      float64 `json:"ratio"`
	// RedundantBytes estimates the captured payload a compressor would
	// remove: the larger of the run bytes and MatchShare of CapturedBytes.
	// RedundantShare is it over CapturedBytes.
	RedundantBytes uint64  `json:"redundant_bytes"`
	RedundantShare float64 `json:"redundant_share"`
}

// RunBytes returns the bytes in runs of any byte.
func (r *Redundancy) RunBytes() uint64 { return r.SpaceRunBytes + r.ZeroRunBytes + r.OtherRunBytes }

func (r *Redundancy) plus(o *Redundancy) {
	r.PayloadBytes += o.PayloadBytes
	r.CapturedBytes += o.CapturedBytes
	r.SpaceRunBytes += o.SpaceRunBytes
	r.ZeroRunBytes += o.ZeroRunBytes
	r.OtherRunBytes += o.OtherRunBytes
	r.SampledBytes += o.SampledBytes
	r.MatchedBytes += o.MatchedBytes
	r.EstimatedBytes += o.EstimatedBytes
}

// finish computes the shares from the counts.
func (r *Redundancy) finish() {
	r.RunShare, r.MatchShare, r.Ratio, r.RedundantShare = 0, 0, 0, 0
	r.RedundantBytes = r.RunBytes()
	if r.SampledBytes > 0 {
		r.MatchShare = float64(r.MatchedBytes) / float64(r.SampledBytes)
		r.Ratio = float64(r.EstimatedBytes) / float64(r.SampledBytes)
		// MatchedBytes * CapturedBytes / SampledBytes, in integers.
		m := mulDiv(r.MatchedBytes, r.CapturedBytes, r.SampledBytes)
		r.RedundantBytes = max(r.RedundantBytes, m)
	}
	if r.CapturedBytes > 0 {
		r.RunShare = float64(r.RunBytes()) / float64(r.CapturedBytes)
		r.RedundantShare = float64(r.RedundantBytes) / float64(r.CapturedBytes)
	}
}

// mulDiv returns a*b/c rounded down, for a <= c (a share of b).
func mulDiv(a, b, c uint64) uint64 {
	if a >= c {
		return b
	}
	hi, lo := bits.Mul64(a, b)
	q, _ := bits.Div64(hi, lo, c) // hi < c since a < c
	return q
}

// dirScan is the run state of one direction of a connection.
type dirScan struct {
	red     Redundancy
	runByte byte
	runLen  int
	next    tcpstate.Seq // the sequence number that continues the run
	hasNext bool
}

// runs scans the captured payload of a segment at seq for runs of at
// least minRun equal bytes; wire is the payload length on the wire.
func (d *dirScan) runs(seq tcpstate.Seq, payload []byte, wire, minRun int) {
	d.red.PayloadBytes += uint64(wire)
	d.red.CapturedBytes += uint64(len(payload))
	if len(payload) == 0 {
		return
	}
	if !d.hasNext || seq != d.next {
		d.runLen = 0
	}
	b, n := d.runByte, d.runLen
	var space, zero, other uint64
	for i := 0; i < len(payload); {
		if n == 0 || payload[i] != b {
			if minRun > 1 {
				i = skipSingles(payload, i)
			}
			b, n = payload[i], 0
		}
		j := i
		for j < len(payload) && payload[j] == b {
			j++
		}
		m := n + (j - i) // the run's length so far, earlier segments included
		if m >= minRun {
			k := uint64(j - i)
			if n < minRun {
				k = uint64(m) // the run reaches minRun here: count all of it
			}
			switch b {
			case ' ':
				space += k
			case 0:
				zero += k
			default:
				other += k
			}
		}
		n, i = m, j
	}
	d.red.SpaceRunBytes += space
	d.red.ZeroRunBytes += zero
	d.red.OtherRunBytes += other
	d.runByte, d.runLen = b, n
	// A payload the snap length cut does not continue into the next one.
	d.next, d.hasNext = seq.Add(tcpstate.Size(len(payload))), len(payload) == wire
}

// skipSingles returns the first position from i whose byte may start a
// run of two or more: it skips 8 bytes at a time while none of them equals
// the next (a byte-wise XOR of the word with the next one has no zero
// byte).
func skipSingles(p []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for i+9 <= len(p) {
		z := binary.LittleEndian.Uint64(p[i:]) ^ binary.LittleEndian.Uint64(p[i+1:])
		if (z-lo)&^z&hi != 0 {
			break
		}
		i += 8
	}
	return i
}

// Greedy LZ77 parse of one segment.
const (
	lzHashBits = 13
	lzMinMatch = 4
	lzMaxLen   = 1<<16 - 1 // positions are kept in 16 bits
)

// lz is the scratch table of the LZ parse, reused for every segment: an
// entry is valid when its generation (high 16 bits) is the current one.
type lz struct {
	table [1 << lzHashBits]uint32
	gen   uint32
}

// parse returns the bytes of b inside matches and the estimated size of
// b's LZ4-like encoding. It parses at most lzMaxLen bytes; the caller
// counts only those.
func (z *lz) parse(b []byte) (matched, estimated uint64) {
	if len(b) > lzMaxLen {
		b = b[:lzMaxLen]
	}
	z.gen++
	if z.gen == 1<<16 {
		clear(z.table[:])
		z.gen = 1
	}
	g := z.gen << 16
	i, lit := 0, 0
	for i+lzMinMatch <= len(b) {
		v := binary.LittleEndian.Uint32(b[i:])
		h := (v * 2654435761) >> (32 - lzHashBits)
		e := z.table[h]
		z.table[h] = g | uint32(i)
		if e&^0xffff == g {
			j := int(e & 0xffff)
			if binary.LittleEndian.Uint32(b[j:]) == v {
				n := lzMinMatch
				for i+n < len(b) && b[j+n] == b[i+n] {
					n++
				}
				matched += uint64(n)
				estimated += 3 + uint64(n-lzMinMatch)/255
				i += n
				continue
			}
		}
		i++
		lit++
	}
	lit += len(b) - i
	return matched, estimated + uint64(lit)
}

// sample runs the LZ parse over a segment's captured payload while the
// direction's sample is below budget.
func (d *dirScan) sample(z *lz, payload []byte, budget uint64) {
	if len(payload) == 0 || d.red.SampledBytes >= budget {
		return
	}
	p := payload[:min(len(payload), lzMaxLen)]
	m, e := z.parse(p)
	d.red.SampledBytes += uint64(len(p))
	d.red.MatchedBytes += m
	d.red.EstimatedBytes += e
}
