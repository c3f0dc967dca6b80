// Package top keeps the first n items of a stream by an order, in memory
// bounded by n, for the tables of the example tools that rank every
// connection of a capture of any size (compare's rows, report's tables):
// the rest is counted by the tool as it falls out.
package top

import "slices"

// Keeper keeps the n items that come first by before (a strict weak
// order: before(a, b) when a ranks ahead of b), ties broken by arrival
// (the earlier first), as a stable sort of the whole stream would rank
// them. It is not safe for concurrent use.
type Keeper[T any] struct {
	n      int
	before func(a, b T) bool
	heap   []entry[T] // the last kept at the root
	seq    uint64
}

type entry[T any] struct {
	v   T
	seq uint64
}

// New returns a Keeper of n items (at least one).
func New[T any](n int, before func(a, b T) bool) *Keeper[T] {
	return &Keeper[T]{n: max(n, 1), before: before}
}

// ahead reports whether x ranks ahead of y.
func (k *Keeper[T]) ahead(x, y entry[T]) bool {
	if k.before(x.v, y.v) {
		return true
	}
	return !k.before(y.v, x.v) && x.seq < y.seq
}

// Add offers v. It returns the item that no longer ranks among the first
// n (v itself, or one kept before), if any.
func (k *Keeper[T]) Add(v T) (out T, dropped bool) {
	e := entry[T]{v, k.seq}
	k.seq++
	if len(k.heap) < k.n {
		k.heap = append(k.heap, e)
		k.up(len(k.heap) - 1)
		return out, false
	}
	if !k.ahead(e, k.heap[0]) {
		return v, true
	}
	out = k.heap[0].v
	k.heap[0] = e
	k.down(0)
	return out, true
}

// Len returns how many items are kept.
func (k *Keeper[T]) Len() int { return len(k.heap) }

// Sorted returns the items kept, first first.
func (k *Keeper[T]) Sorted() []T {
	es := slices.Clone(k.heap)
	slices.SortFunc(es, func(x, y entry[T]) int {
		switch {
		case k.ahead(x, y):
			return -1
		case k.ahead(y, x):
			return 1
		}
		return 0
	})
	out := make([]T, len(es))
	for i, e := range es {
		out[i] = e.v
	}
	return out
}

// up and down keep the heap with the item ranked last at the root.
func (k *Keeper[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !k.ahead(k.heap[p], k.heap[i]) {
			return
		}
		k.heap[p], k.heap[i] = k.heap[i], k.heap[p]
		i = p
	}
}

func (k *Keeper[T]) down(i int) {
	for {
		l, worst := 2*i+1, i
		if l < len(k.heap) && k.ahead(k.heap[worst], k.heap[l]) {
			worst = l
		}
		if r := l + 1; r < len(k.heap) && k.ahead(k.heap[worst], k.heap[r]) {
			worst = r
		}
		if worst == i {
			return
		}
		k.heap[i], k.heap[worst] = k.heap[worst], k.heap[i]
		i = worst
	}
}
