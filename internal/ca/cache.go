package ca

import (
	"container/list"
	"crypto/tls"
	"sync"
	"time"
)

// leafCacheSize bounds the leaves kept in memory; transparent mode only
// intercepts a handful of registry hosts, so this is generous.
const leafCacheSize = 256

// leafCache is a small LRU of leaf certificates by host. An entry is
// renewed (treated as absent) once less than half its validity is left.
type leafCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recently used; values are *leafEntry
	byKey map[string]*list.Element
}

type leafEntry struct {
	host string
	cert *tls.Certificate
}

func newLeafCache(max int) *leafCache {
	return &leafCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

func (lc *leafCache) get(host string, now time.Time) *tls.Certificate {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	el, ok := lc.byKey[host]
	if !ok {
		return nil
	}
	e := el.Value.(*leafEntry)
	if now.After(e.cert.Leaf.NotAfter.Add(-LeafValidity / 2)) {
		lc.order.Remove(el)
		delete(lc.byKey, host)
		return nil
	}
	lc.order.MoveToFront(el)
	return e.cert
}

func (lc *leafCache) put(host string, cert *tls.Certificate) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if el, ok := lc.byKey[host]; ok {
		el.Value.(*leafEntry).cert = cert
		lc.order.MoveToFront(el)
		return
	}
	lc.byKey[host] = lc.order.PushFront(&leafEntry{host: host, cert: cert})
	for lc.order.Len() > lc.max {
		last := lc.order.Back()
		lc.order.Remove(last)
		delete(lc.byKey, last.Value.(*leafEntry).host)
	}
}

func (lc *leafCache) len() int {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.order.Len()
}
