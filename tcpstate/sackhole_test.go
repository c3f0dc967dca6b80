package tcpstate

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSACKHole: the first hole SACK blocks report above the cumulative
// ACK, whatever the blocks' order; a D-SACK block (below the ACK) and a
// block absurdly far ahead report none.
func TestSACKHole(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ack    Seq
		blocks []SACKBlock
		want   Range
	}{
		{"none", 1000, nil, Range{}},
		{"one", 1000, []SACKBlock{{3000, 4000}}, Range{1000, 3000}},
		{"lowest first", 1000, []SACKBlock{{5000, 6000}, {2000, 2500}}, Range{1000, 2000}},
		{"d-sack only", 1000, []SACKBlock{{500, 800}}, Range{}},
		{"d-sack then a hole", 1000, []SACKBlock{{500, 800}, {1500, 1600}}, Range{1000, 1500}},
		{"across the wrap", 0xffffff00, []SACKBlock{{0x100, 0x200}}, Range{0xffffff00, 0x100}},
		{"too far", 1000, []SACKBlock{{1000 + 1<<30 + 1, 1000 + 1<<30 + 100}}, Range{}},
	} {
		assert.Equal(t, tc.want, sackHole(tc.ack, tc.blocks), tc.name)
	}
}
