package top_test

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/netecology/netecology/examples/internal/top"
)

type item struct{ key, id int }

// The Keeper ranks as a stable sort of the whole stream does: for random
// streams with many ties, its n items are the sort's first n, in order,
// and the items it drops are the rest.
func TestKeeperIsStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n, size := 1+rng.IntN(20), rng.IntN(300)
		var all []item
		for i := range size {
			all = append(all, item{key: rng.IntN(10), id: i})
		}
		k := top.New(n, func(a, b item) bool { return a.key > b.key })
		var dropped []item
		for _, it := range all {
			if out, ok := k.Add(it); ok {
				dropped = append(dropped, out)
			}
		}
		want := slices.Clone(all)
		slices.SortStableFunc(want, func(a, b item) int { return cmp.Compare(b.key, a.key) })
		kept := want[:min(n, len(want))]
		assert.Equal(t, kept, k.Sorted(), "round %d: n %d of %d", round, n, size)
		assert.Equal(t, len(kept), k.Len())
		slices.SortFunc(dropped, func(a, b item) int { return cmp.Compare(a.id, b.id) })
		rest := slices.Clone(want[len(kept):])
		slices.SortFunc(rest, func(a, b item) int { return cmp.Compare(a.id, b.id) })
		assert.Equal(t, len(rest), len(dropped))
		if len(rest) > 0 {
			assert.Equal(t, rest, dropped)
		}
	}
}
