package census

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func key(s string) netip.Prefix { return netip.MustParsePrefix(s) }

var (
	ka = key("10.0.0.1/32")
	kb = key("10.0.0.2/32")
	kc = key("10.0.0.3/32")
	kd = key("10.0.0.4/32")
)

func entry(t *testing.T, h *heavy, k netip.Prefix) [2]uint64 {
	t.Helper()
	e, ok := h.get(k)
	require.True(t, ok, "%s kept", k)
	return [2]uint64{e.count, e.err}
}

// TestHeavy follows Space-Saving by hand with room for two keys.
func TestHeavy(t *testing.T) {
	h := newHeavy(2)
	h.add(ka, 5, 1, 0)
	h.add(kb, 3, 1, 0)
	assert.False(t, h.evicted())
	assert.Equal(t, uint64(0), h.min(), "nothing evicted: a key not kept never occurred")
	// c takes b's place (the smallest, 3): count 3+1, error 3.
	h.add(kc, 1, 1, 0)
	assert.True(t, h.evicted())
	_, ok := h.get(kb)
	assert.False(t, ok)
	assert.Equal(t, [2]uint64{4, 3}, entry(t, h, kc))
	// b comes back in c's place (4): count 4+2, error 4.
	h.add(kb, 2, 1, 0)
	assert.Equal(t, [2]uint64{6, 4}, entry(t, h, kb))
	assert.Equal(t, [2]uint64{5, 0}, entry(t, h, ka))
	// True counts a 5, b 5, c 1 (W = 11): b's 5 lies in [6-4, 6], c's 1
	// below min() = 5, every error at most W/2.
	assert.Equal(t, uint64(5), h.min())
	// A zero weight never evicts.
	h.add(kd, 0, 1, 0)
	_, ok = h.get(kd)
	assert.False(t, ok)
}

// TestMergeHeavy merges summaries as the fallback of Census.Merge would.
func TestMergeHeavy(t *testing.T) {
	h1, h2 := newHeavy(2), newHeavy(2)
	h1.add(ka, 5, 0, 0)
	h1.add(kb, 3, 0, 0)
	h2.add(ka, 1, 0, 0)
	h2.add(kc, 4, 0, 0)
	// Exact inputs: a 6, c 4, b 3 dropped (an eviction).
	m := mergeHeavy(2, []*heavy{h1, h2})
	assert.Equal(t, [2]uint64{6, 0}, entry(t, m, ka))
	assert.Equal(t, [2]uint64{4, 0}, entry(t, m, kc))
	assert.True(t, m.evicted())
	// An input that evicted: {a 5, b 6±4}, minimum 5; with {d 2}, d is
	// taken at 2+5 with error 5 (its truth, 2, in [2, 7]) and a at 5+0.
	s := newHeavy(2)
	s.add(ka, 5, 0, 0)
	s.add(kb, 3, 0, 0)
	s.add(kc, 1, 0, 0)
	s.add(kb, 2, 0, 0)
	h4 := newHeavy(2)
	h4.add(kd, 2, 0, 0)
	m = mergeHeavy(2, []*heavy{s, h4})
	assert.Equal(t, [2]uint64{7, 5}, entry(t, m, kd))
	assert.Equal(t, [2]uint64{6, 4}, entry(t, m, kb))
	_, ok := m.get(ka)
	assert.False(t, ok)
	// pick takes the one summary holding keys as it is.
	assert.Same(t, h4, pick(2, []*heavy{newHeavy(2), h4, newHeavy(2)}))
}
