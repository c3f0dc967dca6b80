package flowtest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// A Flip is one mutation: the byte at Offset in the captured data of
// record Record (0-based, in file order) XORed with Mask (never 0).
type Flip struct {
	Record int
	Offset int
	Mask   byte
}

// String says where the flip was: "record 3 byte 40 ^0x11".
func (f Flip) String() string {
	return fmt.Sprintf("record %d byte %d ^%#02x", f.Record, f.Offset, f.Mask)
}

// maxMutateInput bounds the uncompressed capture Mutate accepts.
const maxMutateInput = 1 << 30

// Mutate returns a copy of the pcap capture b (either byte order,
// microsecond or nanosecond timestamps, gzip-compressed or not; the copy
// is uncompressed) with flips bytes of its records' packet data flipped:
// each flip picks a record uniformly, then a byte of its captured data
// uniformly (link, IP and transport headers and payload alike), and XORs
// it with a non-zero byte, all drawn from rng. File and record headers
// are left as they are, so that the mutant is a well-formed capture whose
// packets are damaged. It also returns the flips made, in order (a byte
// may be flipped twice). It fails on input that is not a pcap file or
// holds no packet data.
func Mutate(b []byte, flips int, rng *rand.Rand) ([]byte, []Flip, error) {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, nil, fmt.Errorf("mutate: %w", err)
		}
		if b, err = io.ReadAll(io.LimitReader(zr, maxMutateInput)); err != nil {
			return nil, nil, fmt.Errorf("mutate: %w", err)
		}
	} else {
		b = bytes.Clone(b)
	}
	recs, err := pcapRecords(b)
	if err != nil {
		return nil, nil, err
	}
	if len(recs) == 0 {
		return nil, nil, errors.New("mutate: no packet data to flip")
	}
	out := make([]Flip, 0, flips)
	for range flips {
		i := rng.IntN(len(recs))
		r := recs[i]
		f := Flip{Record: r.index, Offset: rng.IntN(r.len), Mask: byte(1 + rng.IntN(255))}
		b[r.at+f.Offset] ^= f.Mask
		out = append(out, f)
	}
	return b, out, nil
}

// record is where one record's captured data lies in a pcap file.
type record struct{ index, at, len int }

// pcapRecords returns the records of a pcap file with captured data, in
// file order; it stops at a record cut short (the data before it counts).
func pcapRecords(b []byte) ([]record, error) {
	if len(b) < 24 {
		return nil, errors.New("mutate: shorter than a pcap file header")
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return nil, errors.New("mutate: not a pcap file (pcapng is not supported)")
	}
	var recs []record
	for at, i := 24, 0; at+16 <= len(b); i++ {
		n := int(order.Uint32(b[at+8:]))
		if n < 0 || n > len(b)-at-16 {
			break
		}
		if n > 0 {
			recs = append(recs, record{index: i, at: at + 16, len: n})
		}
		at += 16 + n
	}
	return recs, nil
}

// A Campaign draws the mutants of a mutation campaign from a list of
// captures: mutant i is capture Sources[i mod len(Sources)] with 1 to 8
// bytes flipped (Mutate) by a generator seeded with (Seed, i), so that any
// mutant can be made again alone from its index. The captures are read
// once and kept, uncompressed.
type Campaign struct {
	Sources []string
	Seed    uint64
	cache   map[string][]byte
}

// A Mutant is one capture of a campaign.
type Mutant struct {
	// Index is the mutant's number in its campaign, Source the capture
	// it was made from, Flips what was changed.
	Index  int
	Source string
	Flips  []Flip
	// Data is the mutated capture (pcap, uncompressed).
	Data []byte
}

// String names the mutant so that it can be made again:
// "mutant 17 of testdata/lab/x.pcap: record 3 byte 40 ^0x11, ...".
func (m *Mutant) String() string {
	src := m.Source
	if rel, err := filepath.Rel(RepoRoot(), src); err == nil && filepath.IsLocal(rel) {
		src = rel
	}
	s := fmt.Sprintf("mutant %d of %s:", m.Index, src)
	for i, f := range m.Flips {
		if i > 0 {
			s += ","
		}
		s += " " + f.String()
	}
	return s
}

// MaxFlips is the most bytes a campaign's mutant has flipped.
const MaxFlips = 8

// Mutant returns mutant i of the campaign.
func (c *Campaign) Mutant(i int) (*Mutant, error) {
	if len(c.Sources) == 0 {
		return nil, errors.New("mutate: a campaign needs captures")
	}
	src := c.Sources[i%len(c.Sources)]
	b, ok := c.cache[src]
	if !ok {
		raw, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("mutate: %w", err)
		}
		if b, _, err = Mutate(raw, 0, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		if c.cache == nil {
			c.cache = map[string][]byte{}
		}
		c.cache[src] = b
	}
	rng := rand.New(rand.NewPCG(c.Seed, uint64(i)))
	data, flips, err := Mutate(b, 1+rng.IntN(MaxFlips), rng)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return &Mutant{Index: i, Source: src, Flips: flips, Data: data}, nil
}
