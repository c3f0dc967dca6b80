package census

import (
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// Defaults for a zero Config.
const (
	DefaultInterval     = 5 * time.Minute
	DefaultTopN         = 10
	DefaultMaxHosts     = 4096
	DefaultMaxSubnets   = 1024
	DefaultMaxPingers   = 256
	DefaultMaxIntervals = 10000
	DefaultBigPing      = 1000
	DefaultMinRun       = 8
	DefaultSampleBytes  = 256 << 10
	DefaultIPv4Bits     = 24
	DefaultIPv6Bits     = 64
)

// Config shapes a Census. Its zero value is usable: no local side (every
// packet's direction is DirUnknown), 5-minute intervals, no rate, the top
// 10 of everything, /24 and /64 subnets.
type Config struct {
	// Local lists the prefixes of the local side of the link: a packet
	// from a local address to another is outbound, the reverse inbound.
	// IPv4 prefixes of at most 30 bits also name their subnet broadcast
	// address.
	Local []netip.Prefix
	// Interval is the length of an interval; intervals start at
	// multiples of it since the Unix epoch (5-minute intervals on :00,
	// :05...), in whole microseconds. Zero means DefaultInterval.
	Interval time.Duration
	// Rate is the link's rate that percentages are of; zero leaves them
	// out.
	Rate units.BitRate
	// TopN is how many rows the top lists hold (hosts, subnets,
	// services, big pingers, connections by redundancy). Zero means
	// DefaultTopN.
	TopN int
	// Subnets groups hosts: an address falls in the longest of these
	// that holds it, else in its /IPv4Bits or /IPv6Bits prefix. IPv4
	// prefixes of at most 30 bits name subnet broadcast addresses too.
	Subnets []netip.Prefix
	// IPv4Bits and IPv6Bits are the lengths of the default subnets. Zero
	// means DefaultIPv4Bits (24) and DefaultIPv6Bits (64).
	IPv4Bits, IPv6Bits int
	// MaxHosts, MaxSubnets and MaxPingers bound the keys counted per
	// summary (see Top for the error bound). Zero means the defaults.
	MaxHosts, MaxSubnets, MaxPingers int
	// MaxIntervals is the most intervals kept; a capture longer than
	// MaxIntervals intervals is binned in intervals doubled as often as
	// needed (Report.Interval says which). Zero means
	// DefaultMaxIntervals.
	MaxIntervals int
	// BigPing is the echo payload, in bytes, above which an ICMP or
	// ICMPv6 echo request or reply is a big ping. Zero means
	// DefaultBigPing (1000).
	BigPing int
	// MinRun is the shortest run of equal payload bytes counted as
	// padding. Zero means DefaultMinRun (8).
	MinRun int
	// SampleBytes is the payload per direction of a connection that the
	// LZ estimate parses; zero means DefaultSampleBytes, a negative value
	// turns the estimate off.
	SampleBytes int
	// Workers is passed to flow.Config.Workers by Analyze.
	Workers int
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// norm returns the config with its defaults filled in.
func (c Config) norm() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Interval < time.Microsecond {
		c.Interval = time.Microsecond
	}
	c.TopN = orDefault(c.TopN, DefaultTopN)
	c.IPv4Bits = min(orDefault(c.IPv4Bits, DefaultIPv4Bits), 32)
	c.IPv6Bits = min(orDefault(c.IPv6Bits, DefaultIPv6Bits), 128)
	c.MaxHosts = orDefault(c.MaxHosts, DefaultMaxHosts)
	c.MaxSubnets = orDefault(c.MaxSubnets, DefaultMaxSubnets)
	c.MaxPingers = orDefault(c.MaxPingers, DefaultMaxPingers)
	c.MaxIntervals = orDefault(c.MaxIntervals, DefaultMaxIntervals)
	c.BigPing = orDefault(c.BigPing, DefaultBigPing)
	c.MinRun = orDefault(c.MinRun, DefaultMinRun)
	if c.SampleBytes == 0 {
		c.SampleBytes = DefaultSampleBytes
	}
	if c.SampleBytes < 0 {
		c.SampleBytes = 0
	}
	c.Local = masked(c.Local)
	c.Subnets = masked(c.Subnets)
	return c
}

func masked(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if p.IsValid() {
			out = append(out, p.Masked())
		}
	}
	return out
}

// Dir is the direction of a packet with respect to the local side of the
// link (Config.Local).
type Dir uint8

// Directions.
const (
	// DirUnknown: no local side was given, or the packet shows no IP
	// addresses (ARP, non-IP, a packet flow could not decode).
	DirUnknown Dir = iota
	// DirOut: from a local address to a remote one.
	DirOut
	// DirIn: from a remote address to a local one.
	DirIn
	// DirInternal: between two local addresses.
	DirInternal
	// DirTransit: between two remote addresses.
	DirTransit
	numDirs
)

var dirNames = [numDirs]string{"unknown", "out", "in", "internal", "transit"}

// String returns the direction's name as used in reports.
func (d Dir) String() string {
	if d < numDirs {
		return dirNames[d]
	}
	return "unknown"
}

// MarshalText makes a Dir appear by name in JSON.
func (d Dir) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
