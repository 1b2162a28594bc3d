package proxy

import "sync"

// boundedMap is a concurrency-safe map that starts over once it would grow
// past max entries: an in-memory index in front of a source of truth (the
// store, a packument) that a miss simply falls back to.
type boundedMap[K comparable, V any] struct {
	mu  sync.RWMutex
	max int
	m   map[K]V
}

func newBoundedMap[K comparable, V any](max int) *boundedMap[K, V] {
	return &boundedMap[K, V]{max: max, m: make(map[K]V)}
}

func (b *boundedMap[K, V]) get(k K) (V, bool) {
	b.mu.RLock()
	v, ok := b.m[k]
	b.mu.RUnlock()
	return v, ok
}

func (b *boundedMap[K, V]) put(k K, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[k]; !ok && len(b.m) >= b.max {
		clear(b.m)
	}
	b.m[k] = v
}

// deleteIf drops k's entry when drop says so (it sees the current value).
func (b *boundedMap[K, V]) deleteIf(k K, drop func(V) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := b.m[k]; ok && drop(v) {
		delete(b.m, k)
	}
}
