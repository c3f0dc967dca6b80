package flow

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseBitRate reads a data rate in bits per second as tools take it on
// the command line: a positive number with an optional decimal suffix k, M
// or G (either case), e.g. "2M", "512k", "1.5G", "64000". The result is in
// bits per second.
func ParseBitRate(s string) (float64, error) {
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
	return v * mul, nil
}
