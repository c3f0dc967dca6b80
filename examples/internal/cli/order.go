package cli

import (
	"maps"
	"slices"
)

// DefaultWindow is the Reorder window the tools use: the records held
// back at most to be written in first-seen order.
const DefaultWindow = 2048

// Reorder passes on records numbered from 1 (connection IDs: first-seen
// order) in number order, though they arrive in another (connections end
// in another order than they began), holding back at most Window records
// (DefaultWindow when zero); once more wait, it passes every record on as
// it arrives (EndOrder), so that memory stays bounded. A zero Reorder
// with Emit set is ready.
type Reorder[T any] struct {
	Window int
	// Emit receives each record passed on.
	Emit     func(T)
	pending  map[int]T
	next     int
	endOrder bool
}

// Add takes record id.
func (r *Reorder[T]) Add(id int, v T) {
	if r.endOrder {
		r.Emit(v)
		return
	}
	if r.pending == nil {
		r.pending, r.next = map[int]T{}, 1
	}
	r.pending[id] = v
	for {
		v, ok := r.pending[r.next]
		if !ok {
			break
		}
		delete(r.pending, r.next)
		r.next++
		r.Emit(v)
	}
	w := r.Window
	if w <= 0 {
		w = DefaultWindow
	}
	if len(r.pending) > w {
		r.endOrder = true
		r.Flush()
	}
}

// Flush passes on the records still held back, in number order.
func (r *Reorder[T]) Flush() {
	for _, id := range slices.Sorted(maps.Keys(r.pending)) {
		r.Emit(r.pending[id])
	}
	clear(r.pending)
}

// EndOrder reports whether records were passed on as they arrived (the
// window overflowed).
func (r *Reorder[T]) EndOrder() bool { return r.endOrder }

// Order names the order of the records passed on: "first_seen" or "end".
func (r *Reorder[T]) Order() string {
	if r.endOrder {
		return "end"
	}
	return "first_seen"
}
