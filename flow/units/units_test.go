package units_test

import (
	"flag"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/units"
)

func TestParseBitRate(t *testing.T) {
	for in, want := range map[string]units.BitRate{
		"2M": 2e6, "2m": 2e6, "512k": 512e3, "512K": 512e3, "1.5G": 1.5e9, "64000": 64000, " 10M ": 10e6,
	} {
		got, err := units.ParseBitRate(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "M", "-2M", "0", "NaN", "Inf", "2T", "2Mbit", "1e20"} {
		_, err := units.ParseBitRate(bad)
		assert.Error(t, err, bad)
	}
}

func TestBitRateString(t *testing.T) {
	for r, want := range map[units.BitRate]string{
		2e6: "2 Mbit/s", 512e3: "512 kbit/s", 1.544e6: "1.544 Mbit/s", 10e9: "10 Gbit/s", 300: "300 bit/s",
		units.BitRate(math.Inf(1)): "any rate",
	} {
		assert.Equal(t, want, r.String())
	}
	assert.Equal(t, "1.54 Mbit/s", units.BitRate(1.544e6).Format(3))
	assert.Equal(t, "1.235 Mbit/s", units.BitRate(1234567).String())
}

func TestBytes(t *testing.T) {
	// The lab's 2 Mbit/s link serializes 250000 bytes a second.
	assert.Equal(t, units.BitRate(2e6), units.BytesPerSecond(250000))
	assert.Equal(t, 250000.0, (2 * units.Mbps).BytesPerSecond())
	assert.Equal(t, 150.592, units.Ms(150592*time.Microsecond))
}

func TestFlagValue(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var r units.BitRate
	fs.Var(&r, "rate", "link rate")
	require.NoError(t, fs.Parse([]string{"-rate", "512k"}))
	assert.Equal(t, 512*units.Kbps, r)
	assert.Error(t, fs.Parse([]string{"-rate", "fast"}))
}

// A rate from the command line, in the units a projection takes.
func ExampleParseBitRate() {
	r, err := units.ParseBitRate("2M")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r, r.BytesPerSecond(), "bytes/s")
	// Output: 2 Mbit/s 250000 bytes/s
}
