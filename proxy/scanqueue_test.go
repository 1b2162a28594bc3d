package proxy

import (
	"testing"
	"time"
)

// waitQueued waits until n tickets wait in q.
func waitQueued(t *testing.T, q *scanQueue, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		q.mu.Lock()
		got := len(q.urgent) + len(q.background)
		q.mu.Unlock()
		if got == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d tickets never queued", n)
}

func TestScanQueueOrder(t *testing.T) {
	q := newScanQueue(1)
	q.acquire("running", false)
	order := make(chan string, 8)
	start := func(key string, urgent bool) {
		go func() {
			q.acquire(key, urgent)
			order <- key
		}()
	}
	start("prefetch-1", false)
	waitQueued(t, q, 1)
	start("prefetch-2", false)
	waitQueued(t, q, 2)
	start("client-1", true)
	waitQueued(t, q, 3)
	q.join("prefetch-2") // a client asks for what prefetch-2 scans
	defer q.leave("prefetch-2")
	want := []string{"client-1", "prefetch-2", "prefetch-1"}
	for _, w := range want {
		q.release()
		if got := <-order; got != w {
			t.Fatalf("slot went to %s, want %s (order %v)", got, w, want)
		}
	}
	q.release()
	if q.free != 1 || len(q.waiting) != 0 {
		t.Errorf("free %d, waiting %v after all released", q.free, q.waiting)
	}
}

// A client that joins a flight before the flight asks for a slot makes it
// urgent too; without clients, a background scan waits behind others.
func TestScanQueueJoinBeforeAcquire(t *testing.T) {
	q := newScanQueue(1)
	q.acquire("running", false)
	order := make(chan string, 4)
	go func() { q.acquire("prefetch-1", false); order <- "prefetch-1" }()
	waitQueued(t, q, 1)
	q.join("prefetch-2")
	go func() { q.acquire("prefetch-2", false); order <- "prefetch-2" }()
	waitQueued(t, q, 2)
	q.leave("prefetch-2")
	q.release()
	if got := <-order; got != "prefetch-2" {
		t.Fatalf("slot went to %s, want the joined prefetch-2", got)
	}
	q.release()
	if got := <-order; got != "prefetch-1" {
		t.Fatalf("slot went to %s", got)
	}
	q.release()
	if len(q.clients) != 0 || q.free != 1 {
		t.Errorf("clients %v free %d", q.clients, q.free)
	}
}
