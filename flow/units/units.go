// Package units holds the project's one data-rate type and the parsers and
// formatters of the quantities its tools take and print: rates in bits per
// second, durations in milliseconds.
//
// A rate is always a BitRate in bits per second in the Go API; where JSON
// carries bytes per second the field's name says so (_bytes_per_s).
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// BitRate is a data rate in bits per second. Its zero value means unknown
// or unset; +Inf means any rate.
type BitRate float64

// Common rates.
const (
	Kbps BitRate = 1e3
	Mbps BitRate = 1e6
	Gbps BitRate = 1e9
)

// BytesPerSecond returns the rate of b bytes per second.
func BytesPerSecond(b float64) BitRate { return BitRate(8 * b) }

// BytesPerSecond returns the rate in bytes per second.
func (r BitRate) BytesPerSecond() float64 { return float64(r) / 8 }

// BitsPerSecond returns the rate as a number of bits per second.
func (r BitRate) BitsPerSecond() float64 { return float64(r) }

// ParseBitRate reads a rate as the tools take it on the command line: a
// positive number of bits per second with an optional decimal suffix k, M
// or G (either case), e.g. "2M", "512k", "1.5G", "64000".
func ParseBitRate(s string) (BitRate, error) {
	t := strings.TrimSpace(s)
	mul := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mul, t = 1e3, t[:n-1]
		case 'm', 'M':
			mul, t = 1e6, t[:n-1]
		case 'g', 'G':
			mul, t = 1e9, t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || v*mul > 1e15 {
		return 0, fmt.Errorf("bad rate %q: want a positive number of bit/s, optionally with k, M or G (e.g. 2M)", s)
	}
	return BitRate(v * mul), nil
}

// String writes the rate with an SI prefix and up to four significant
// digits, as links are sold: "2 Mbit/s", "512 kbit/s", "1.544 Mbit/s";
// "any rate" for +Inf.
func (r BitRate) String() string { return r.Format(4) }

// Format writes the rate as String does with the given number of
// significant digits.
func (r BitRate) Format(digits int) string {
	bps := float64(r)
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', digits, 64) }
	switch {
	case math.IsInf(bps, 1):
		return "any rate"
	case bps >= 1e9:
		return g(bps/1e9) + " Gbit/s"
	case bps >= 1e6:
		return g(bps/1e6) + " Mbit/s"
	case bps >= 1e3:
		return g(bps/1e3) + " kbit/s"
	}
	return g(bps) + " bit/s"
}

// Set parses s (see ParseBitRate), so that a *BitRate is a flag.Value.
func (r *BitRate) Set(s string) error {
	v, err := ParseBitRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Ms returns d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / 1e6 }
