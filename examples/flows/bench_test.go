package main

import (
	"io"
	"os"
	"testing"
)

// BenchmarkJSON is the tool's main job end to end: `flows -json` on the
// capture named by $NETECOLOGY_BIG (the lab's make-big.sh output: about 3
// million packets), read from disk (page cache), output discarded. One op
// is one pass.
func BenchmarkJSON(b *testing.B) {
	path := os.Getenv("NETECOLOGY_BIG")
	if path == "" {
		b.Skip("NETECOLOGY_BIG names no capture (make one with testdata/lab/make-big.sh)")
	}
	for b.Loop() {
		if code := run([]string{path}, true, nil, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
