package flow

// pcapng is read here, block by block, and not by pcapgo's NgReader, which
// the design card names and the pcap path still uses (adapter.go). Every
// step of NgReader's packet path falls short of what a hostile file needs,
// and a validating layer in front of it would leave it nothing to do:
//
//   - Timestamps: NgReader takes an if_tsresol of 0 for the default 10^-6
//     (the specification: 0 is the exponent, 10^0 = seconds), refuses
//     resolutions finer than 10^-63 and 2^-63, and adds if_tsoffset and
//     converts to int64 in wrapping 64-bit arithmetic (2^64-1 s becomes
//     -1 s). The time must be computed from the raw fields anyway.
//   - Lengths: it never reads a block's trailing length (it discards it),
//     reads a packet's captured length even past its block's end, and
//     takes an original length below the captured one without a word. To
//     check them a layer must read each block whole; handing the block on
//     would copy and parse it a second time.
//   - Interfaces: it keeps every description of a section, without a
//     bound (1,000,000 of them, 68 MB of file, took 1.07 GB).
//   - Buffers: a packet above 256 KiB is read into a new, growing slice
//     each time (about 2.7 times its size, readFull's growth).
//   - It reads ahead through a 4 KiB bufio.Reader of its own, so a layer
//     in front cannot tell which block the packet it returns came from, to
//     put the right time and warnings on it.
//
// So this reader frames the blocks (both lengths checked against each other
// and against the limits below), keeps per section the interface fields it
// needs (link type, snap length, if_tsresol, if_tsoffset), and returns the
// packets of Enhanced, Simple and (obsolete) Packet Blocks straight out of
// its buffer. Other blocks (statistics, name resolution, decryption
// secrets, custom) are skipped.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"time"
)

// Limits on pcapng input. Interface numbers are 32-bit and blocks may be 4
// GiB long, so a small hostile file could otherwise make the Reader hold a
// million interface descriptions or allocate gigabytes.
const (
	// MaxPcapNGInterfaces is the most interface description blocks one
	// pcapng section may hold. Capture tools write one per interface
	// captured on ("any" on Linux is one); 4096 is far beyond that. The
	// next description ends reading with a *ReadError that wraps
	// ErrTooManyInterfaces; a new section starts a new count.
	MaxPcapNGInterfaces = 4096
	// MaxPcapNGBlock is the longest pcapng block the Reader takes, in
	// bytes: 16 MiB, 64 times libpcap's largest snap length (256 KiB). A
	// longer block ends reading with a *ReadError. Memory grows with the
	// bytes a block really holds, not with the length it claims.
	MaxPcapNGBlock = 16 << 20
)

// ErrTooManyInterfaces is wrapped by the *ReadError for an interface
// description block beyond MaxPcapNGInterfaces in one pcapng section.
var ErrTooManyInterfaces = fmt.Errorf("more than %d interfaces in one pcapng section", MaxPcapNGInterfaces)

// Block types of the pcapng specification (draft-ietf-opsawg-pcapng).
const (
	ngSectionHeader        = 0x0a0d0d0a
	ngInterfaceDescription = 1
	ngPacket               = 2 // obsolete Packet Block
	ngSimplePacket         = 3
	ngEnhancedPacket       = 6
	ngByteOrderMagic       = 0x1a2b3c4d
)

// Interface description options the reader uses.
const (
	ngOptEnd      = 0
	ngOptTSResol  = 9
	ngOptTSOffset = 14
	ngDefaultRes  = 6 // 10^-6 s when if_tsresol is absent
)

// readWarning is a flaw in a capture's records that the Reader works
// around rather than stopping at. Reader.Warnings counts them by name.
type readWarning uint8

const (
	// A pcapng block's trailing Block Total Length differs from its
	// leading one. The leading one is used: the reader has already framed
	// the block by it (and checked the body against it), and if it were
	// the wrong one the next block's header would not parse and reading
	// would stop there with an error. The trailing copy is there for
	// reading backwards, which this reader never does.
	warnBlockLength readWarning = iota
	// A pcapng packet's original length is below its captured length. The
	// captured bytes are in the block, so the original length is taken as
	// the captured one: the packet counts as whole, not cut.
	warnOrigLen
	// A pcapng packet holds more bytes than its interface's snap length
	// (writers such as dpkt do not truncate to the snap length they
	// declare). The block frames them consistently, so all are delivered,
	// as tcpdump and Wireshark do.
	warnSnapLen
	// An interface description's if_tsresol or if_tsoffset has a wrong
	// length or is repeated, or an option runs past the block. The option
	// is ignored (the first of a repeated one is kept; the rest of a list
	// that runs past the block is dropped), so the default applies.
	warnInterfaceOption
	numWarnings
)

var warningNames = [numWarnings]string{"block_length_mismatch", "orig_len_below_cap_len", "cap_len_over_snaplen", "bad_interface_option"}

// ngIface is what the reader keeps of an interface description.
type ngIface struct {
	link   LinkType
	snap   uint32 // 0: no limit
	tsres  uint8  // if_tsresol
	offset int64  // if_tsoffset, seconds
}

// ngReader reads pcapng blocks from r. A block that fits r's buffer is
// peeked and its packet handed out from there (discarded at the next
// call); a longer one is read into buf, which is kept for the next.
type ngReader struct {
	r       *bufio.Reader
	big     bool  // the current section is big-endian
	off     int64 // stream offset of the next block
	start   int64 // stream offset of the block last read
	pending int   // bytes peeked for the last block, to discard
	ifaces  []ngIface
	buf     []byte
	warn    *[numWarnings]uint64
}

func (n *ngReader) u16(b []byte) uint16 {
	if n.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (n *ngReader) u32(b []byte) uint32 {
	if n.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (n *ngReader) u64(b []byte) uint64 {
	if n.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// wanted reports whether the reader uses the body of a block type.
func wanted(typ uint32) bool {
	switch typ {
	case ngSectionHeader, ngInterfaceDescription, ngPacket, ngSimplePacket, ngEnhancedPacket:
		return true
	}
	return false
}

// block reads the next block and returns its type and body (the bytes
// between the two length fields), valid until the next call. The body of a
// block whose type is not wanted may be returned empty. It returns io.EOF
// at the end of the stream between blocks.
func (n *ngReader) block() (typ uint32, body []byte, err error) {
	if n.pending > 0 {
		_, _ = n.r.Discard(n.pending) // peeked: cannot fail
		n.pending = 0
	}
	n.start = n.off
	hdr, err := n.r.Peek(12) // every block has at least 12 bytes
	if len(hdr) < 12 {
		if len(hdr) == 0 && err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, fmt.Errorf("block header: %w", noEOF(err))
	}
	typ = n.u32(hdr) // a section header's type reads the same either way
	if typ == ngSectionHeader {
		switch binary.LittleEndian.Uint32(hdr[8:]) {
		case ngByteOrderMagic:
			n.big = false
		case 0x4d3c2b1a:
			n.big = true
		default:
			return 0, nil, fmt.Errorf("section header block: byte-order magic %08x", binary.BigEndian.Uint32(hdr[8:]))
		}
	}
	length := n.u32(hdr[4:])
	switch {
	case length < 12:
		return 0, nil, fmt.Errorf("block type %#x: length %d below the minimum 12", typ, length)
	case length%4 != 0:
		return 0, nil, fmt.Errorf("block type %#x: length %d not a multiple of 4", typ, length)
	case length > MaxPcapNGBlock:
		return 0, nil, fmt.Errorf("block type %#x: length %d over the limit of %d bytes", typ, length, MaxPcapNGBlock)
	}
	size := int(length)
	var trailer []byte
	switch {
	case size <= n.r.Size():
		b, err := n.r.Peek(size)
		if err != nil {
			return 0, nil, fmt.Errorf("block type %#x of %d bytes: %w", typ, size, noEOF(err))
		}
		n.pending = size
		body, trailer = b[8:size-4], b[size-4:]
	case !wanted(typ):
		if _, err := n.r.Discard(size - 4); err != nil {
			return 0, nil, fmt.Errorf("block type %#x of %d bytes: %w", typ, size, noEOF(err))
		}
		if trailer, err = n.r.Peek(4); err != nil {
			return 0, nil, fmt.Errorf("block type %#x of %d bytes: %w", typ, size, noEOF(err))
		}
		n.pending = 4
	default:
		_, _ = n.r.Discard(8) // peeked
		b, err := readFullGrow(n.r, &n.buf, size-8)
		if err != nil {
			return 0, nil, fmt.Errorf("block type %#x of %d bytes: %w", typ, size, err)
		}
		body, trailer = b[:size-12], b[size-12:]
	}
	if n.u32(trailer) != length {
		n.warn[warnBlockLength]++
	}
	n.off += int64(size)
	return typ, body, nil
}

// next reads blocks up to the next packet and fills p with it (all but
// Index).
func (n *ngReader) next(p *Packet) error {
	for {
		typ, body, err := n.block()
		if err != nil {
			return err
		}
		switch typ {
		case ngSectionHeader:
			if err := n.section(body); err != nil {
				return err
			}
		case ngInterfaceDescription:
			if err := n.iface(body); err != nil {
				return err
			}
		case ngEnhancedPacket, ngPacket:
			return n.packet(typ, body, p)
		case ngSimplePacket:
			return n.simple(body, p)
		}
	}
}

// section starts a section: body is a Section Header Block's, whose byte
// order block has already set.
func (n *ngReader) section(body []byte) error {
	if len(body) < 16 { // byte-order magic, versions, section length
		return fmt.Errorf("section header block: %d bytes, below the minimum 16", len(body))
	}
	// Version 1.2 was written by some tools for the same format; tshark
	// reads it as 1.0 (and refuses 1.3).
	if major, minor := n.u16(body[4:]), n.u16(body[6:]); major != 1 || minor != 0 && minor != 2 {
		return fmt.Errorf("section header block: unsupported pcapng version %d.%d", major, minor)
	}
	n.ifaces = n.ifaces[:0]
	return nil
}

// iface adds the interface an Interface Description Block describes.
func (n *ngReader) iface(body []byte) error {
	if len(body) < 8 { // link type, reserved, snap length
		return fmt.Errorf("interface description block: %d bytes, below the minimum 8", len(body))
	}
	if len(n.ifaces) >= MaxPcapNGInterfaces {
		return fmt.Errorf("interface description block %d: %w", len(n.ifaces)+1, ErrTooManyInterfaces)
	}
	f := ngIface{link: LinkType(n.u16(body)), snap: n.u32(body[4:]), tsres: ngDefaultRes}
	var sawRes, sawOffset bool
	for opts := body[8:]; len(opts) >= 4; {
		code, l := n.u16(opts), int(n.u16(opts[2:]))
		if code == ngOptEnd {
			break
		}
		if 4+l > len(opts) {
			n.warn[warnInterfaceOption]++
			break
		}
		v := opts[4 : 4+l]
		switch {
		case code == ngOptTSResol && (l != 1 || sawRes), code == ngOptTSOffset && (l != 8 || sawOffset):
			n.warn[warnInterfaceOption]++
		case code == ngOptTSResol:
			f.tsres, sawRes = v[0], true
		case code == ngOptTSOffset:
			f.offset, sawOffset = int64(n.u64(v)), true
		}
		opts = opts[min(len(opts), 4+(l+3)&^3):]
	}
	n.ifaces = append(n.ifaces, f)
	return nil
}

// packet fills p from an Enhanced Packet Block or an obsolete Packet
// Block: they differ in their first four bytes only (a 32-bit interface
// number, or 16 bits of it and 16 of drop count).
func (n *ngReader) packet(typ uint32, body []byte, p *Packet) error {
	name := "enhanced packet block"
	if typ == ngPacket {
		name = "packet block"
	}
	if len(body) < 20 {
		return fmt.Errorf("%s: %d bytes, below the minimum 20", name, len(body))
	}
	id := n.u32(body)
	if typ == ngPacket {
		id = uint32(n.u16(body))
	}
	if id >= uint32(len(n.ifaces)) {
		return fmt.Errorf("%s: interface %d not described (the section describes %d)", name, id, len(n.ifaces))
	}
	f := &n.ifaces[id]
	capLen, origLen := n.u32(body[12:]), n.u32(body[16:])
	if uint64(capLen) > uint64(len(body)-20) {
		return fmt.Errorf("%s: captured length %d beyond the block's %d bytes of data", name, capLen, len(body)-20)
	}
	if origLen < capLen {
		n.warn[warnOrigLen]++
		origLen = capLen
	}
	if f.snap != 0 && capLen > f.snap {
		n.warn[warnSnapLen]++
	}
	p.Time = f.time(uint64(n.u32(body[4:]))<<32 | uint64(n.u32(body[8:])))
	p.Length = int(origLen)
	p.LinkType = f.link
	p.Data = body[20 : 20+capLen]
	return nil
}

// simple fills p from a Simple Packet Block. It belongs to the section's
// first interface and carries no timestamp (p.Time is the zero Time, as
// pcapgo gives it); its captured length is the original length cut to the
// interface's snap length (the specification's rule) and to the bytes the
// block holds.
func (n *ngReader) simple(body []byte, p *Packet) error {
	if len(body) < 4 {
		return fmt.Errorf("simple packet block: %d bytes, below the minimum 4", len(body))
	}
	if len(n.ifaces) == 0 {
		return errors.New("simple packet block: no interface described in the section")
	}
	f := &n.ifaces[0]
	origLen := n.u32(body)
	capLen := uint64(origLen)
	if f.snap != 0 {
		capLen = min(capLen, uint64(f.snap))
	}
	capLen = min(capLen, uint64(len(body)-4))
	p.Time = time.Time{}
	p.Length = int(origLen)
	p.LinkType = f.link
	p.Data = body[4 : 4+capLen]
	return nil
}

// pow10 holds the powers of ten that fit in a uint64.
var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// maxUnix is the latest Unix second a time.Time holds: it counts seconds
// from the year 1 in an int64.
const maxUnix = math.MaxInt64 - 62135596800

// latest stands for a time after maxUnix.
var latest = time.Unix(maxUnix, 999999999).UTC()

// ngUnits splits a timestamp of ts units of the resolution tsres (an
// if_tsresol value) into whole seconds and nanoseconds, exactly: the units
// are 10^-e s, or 2^-e s when the top bit is set, e being the low seven
// bits (0 to 127). Fractions of a nanosecond are dropped (rounded towards
// the past).
func ngUnits(ts uint64, tsres uint8) (sec uint64, nsec uint32) {
	e := uint(tsres & 0x7f)
	if tsres&0x80 != 0 {
		if e >= 64 { // ts < 2^64 units is under one second
			hi, _ := bits.Mul64(ts, 1e9)
			return 0, uint32(hi >> (e - 64))
		}
		// nanoseconds = fraction × 10^9 / 2^e, the product taken in 128
		// bits (the fraction has up to 63 bits).
		hi, lo := bits.Mul64(ts&(1<<e-1), 1e9)
		return ts >> e, uint32(hi<<(64-e) | lo>>e)
	}
	switch {
	case e <= 9:
		return ts / pow10[e], uint32(ts % pow10[e] * pow10[9-e])
	case e <= 19:
		return ts / pow10[e], uint32(ts % pow10[e] / pow10[e-9])
	case e <= 28: // 10^e > 2^64 > ts: under one second
		return 0, uint32(ts / pow10[e-9])
	}
	return 0, 0 // 10^(e-9) > 2^64 > ts: under a nanosecond
}

// time returns the time of a packet timestamped ts by interface f, per the
// pcapng specification: ts is an unsigned count of if_tsresol units since
// 1970-01-01 UTC, to which the signed if_tsoffset (seconds) is added.
// Computed exactly, the result lies between -2^63 s and about 2^64+2^63 s;
// one beyond what a time.Time holds (past maxUnix, some 292 billion years
// from now) is given as the latest time.Time, which like every time outside
// the years 1 to 9999 the Analyzer skips (timestamp_out_of_range).
//
// tshark 4.0 differs on purpose-built files (corpus crashers/
// json-year-tsres.pcapng): it takes the count as signed where it keeps
// seconds (2^64-1 units of 1 s are -1 s there, 2^63 units -2^63 s), and
// its arithmetic for units finer than a nanosecond overflows (2^64-1
// units of 10^-63 s are 1 s there, 2^62 units of 2^-63 s are 0 s; here 0 s
// and 0.5 s). We follow the specification, which says unsigned: a file
// that differs is damaged or hostile, and a wrapped count would date its
// packets plausibly, within reach of real ones.
func (f *ngIface) time(ts uint64) time.Time {
	sec, nsec := ngUnits(ts, f.tsres)
	var s int64
	switch off := f.offset; {
	case sec > math.MaxInt64: // only a negative offset can bring it back
		if off >= 0 {
			return latest
		}
		d := sec - (uint64(-(off + 1)) + 1) // sec - |off|, |off| ≤ 2^63 < sec
		if d > maxUnix {
			return latest
		}
		s = int64(d)
	case off > 0 && int64(sec) > maxUnix-off:
		return latest
	default:
		s = int64(sec) + off // cannot overflow: sec ≥ 0, and checked above
		if s > maxUnix {
			return latest
		}
	}
	return time.Unix(s, int64(nsec)).UTC()
}

// readFullGrow reads n bytes from r into *buf, which it keeps for the next
// call: it is reallocated only when shorter than n, and then grows with the
// bytes actually read (doubling, from 256 KiB) rather than to the length a
// file claims, so a short file cannot make it allocate gigabytes. A stream
// that ends early gives io.ErrUnexpectedEOF.
func readFullGrow(r io.Reader, buf *[]byte, n int) ([]byte, error) {
	b := (*buf)[:0]
	for len(b) < n {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(n, max(2*cap(b), 256<<10)))
			copy(nb, b)
			b = nb
			*buf = b
		}
		m, err := io.ReadFull(r, b[len(b):min(n, cap(b))])
		b = b[:len(b)+m]
		if err != nil {
			return nil, noEOF(err)
		}
	}
	return b, nil
}
