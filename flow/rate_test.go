package flow_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/netecology/netecology/flow"
)

func TestParseBitRate(t *testing.T) {
	for in, want := range map[string]float64{
		"2M": 2e6, "2m": 2e6, "512k": 512e3, "512K": 512e3, "1.5G": 1.5e9, "64000": 64000, " 10M ": 10e6,
	} {
		got, err := flow.ParseBitRate(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "M", "-2M", "0", "NaN", "Inf", "2T", "2Mbit", "1e20"} {
		_, err := flow.ParseBitRate(bad)
		assert.Error(t, err, bad)
	}
}
