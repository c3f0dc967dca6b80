package census

import (
	"net/netip"
	"slices"
)

// heavy is a Space-Saving summary (Metwally, Agrawal and El Abbadi,
// "Efficient Computation of Frequent and Top-k Elements in Data Streams",
// ICDT 2005) of weighted counts per key, holding at most cap keys.
//
// While it holds fewer than cap keys every count is exact (err 0). Once
// full, a new key takes the place of the key with the smallest count,
// inheriting that count as its error: a kept key's true count lies in
// [count-err, count], a key not kept has a true count of at most min(),
// and every error is at most W/cap, W the total weight added. Any key
// whose true count exceeds W/cap is kept.
//
// Entries form a binary min-heap on count, indexed by a map, so an update
// costs O(log cap) and, once the map has grown to cap keys, allocates
// nothing. The state after a sequence of updates depends on their order;
// the census feeds each summary in an order that does not depend on
// flow's sharding (see Census).
type heavy struct {
	cap       int
	ents      []heavyEnt
	index     map[netip.Prefix]int32
	evictions uint64
}

// heavyEnt is one kept key. pkts, first and last are companions counted
// while the key was kept: exact when err is 0.
type heavyEnt struct {
	key         netip.Prefix
	count, err  uint64
	pkts        uint64
	first, last int64 // unix nanoseconds
}

func newHeavy(capacity int) *heavy {
	return &heavy{cap: capacity, index: make(map[netip.Prefix]int32)}
}

// full reports whether the summary holds cap keys.
func (h *heavy) full() bool { return len(h.ents) >= h.cap }

// evicted reports whether a key was ever dropped: until then every count
// is exact and a key not kept never occurred.
func (h *heavy) evicted() bool { return h.evictions > 0 }

// min is the smallest count held once a key was evicted (the bound on the
// count of any key not kept), zero before.
func (h *heavy) min() uint64 {
	if !h.evicted() || len(h.ents) == 0 {
		return 0
	}
	return h.ents[0].count
}

// add adds weight w and pkts packets to key k at time t (unix ns).
func (h *heavy) add(k netip.Prefix, w, pkts uint64, t int64) {
	if i, ok := h.index[k]; ok {
		e := &h.ents[i]
		e.count += w
		e.pkts += pkts
		e.first, e.last = min(e.first, t), max(e.last, t)
		h.down(int(i))
		return
	}
	if w == 0 || h.cap <= 0 {
		return
	}
	if !h.full() {
		h.ents = append(h.ents, heavyEnt{key: k, count: w, pkts: pkts, first: t, last: t})
		i := len(h.ents) - 1
		h.index[k] = int32(i)
		h.up(i)
		return
	}
	h.evictions++
	e := &h.ents[0]
	delete(h.index, e.key)
	*e = heavyEnt{key: k, count: e.count + w, err: e.count, pkts: pkts, first: t, last: t}
	h.index[k] = 0
	h.down(0)
}

// get returns the entry of k, if kept.
func (h *heavy) get(k netip.Prefix) (heavyEnt, bool) {
	i, ok := h.index[k]
	if !ok {
		return heavyEnt{}, false
	}
	return h.ents[i], true
}

func (h *heavy) less(i, j int) bool { return h.ents[i].count < h.ents[j].count }

func (h *heavy) swap(i, j int) {
	h.ents[i], h.ents[j] = h.ents[j], h.ents[i]
	h.index[h.ents[i].key] = int32(i)
	h.index[h.ents[j].key] = int32(j)
}

func (h *heavy) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *heavy) down(i int) {
	n := len(h.ents)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// merge combines summaries of disjoint parts of a stream into one of at
// most cap keys, as Space-Saving summaries merge (a key absent from a full
// summary is taken at that summary's minimum, added to its count and
// error); the kept keys are the cap largest, ties broken by key. The
// result holds the same bounds, but is not in general the summary one
// stream would have built: the census merges only when more than one part
// is not empty, which flow's sharding never produces (see Census.Merge).
func mergeHeavy(capacity int, hs []*heavy) *heavy {
	var keys []netip.Prefix
	seen := map[netip.Prefix]bool{}
	for _, h := range hs {
		for _, e := range h.ents {
			if !seen[e.key] {
				seen[e.key] = true
				keys = append(keys, e.key)
			}
		}
	}
	all := make([]heavyEnt, 0, len(keys))
	for _, k := range keys {
		m := heavyEnt{key: k, first: 1<<63 - 1, last: -1 << 63}
		for _, h := range hs {
			if e, ok := h.get(k); ok {
				m.count += e.count
				m.err += e.err
				m.pkts += e.pkts
				m.first, m.last = min(m.first, e.first), max(m.last, e.last)
			} else if mn := h.min(); mn > 0 {
				m.count += mn
				m.err += mn
			}
		}
		all = append(all, m)
	}
	slices.SortFunc(all, func(a, b heavyEnt) int {
		if a.count != b.count {
			if a.count > b.count {
				return -1
			}
			return 1
		}
		return comparePrefix(a.key, b.key)
	})
	out := newHeavy(capacity)
	for _, h := range hs {
		out.evictions += h.evictions
	}
	if len(all) > capacity {
		out.evictions += uint64(len(all) - capacity)
	}
	for _, e := range all[:min(len(all), capacity)] {
		out.ents = append(out.ents, e)
		i := len(out.ents) - 1
		out.index[e.key] = int32(i)
		out.up(i)
	}
	return out
}

// pick returns the one summary of hs that holds keys when at most one
// does (so that nothing need merge), or the merge of all.
func pick(capacity int, hs []*heavy) *heavy {
	var only *heavy
	n := 0
	for _, h := range hs {
		if len(h.ents) > 0 {
			only = h
			n++
		}
	}
	switch n {
	case 0:
		return newHeavy(capacity)
	case 1:
		return only
	}
	return mergeHeavy(capacity, hs)
}

// comparePrefix orders prefixes by address, then by length.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
