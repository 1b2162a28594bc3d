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

// A prefetch flight's work runs idle until a client joins it; a flight a
// client waits for from the start runs normal.
func TestScanQueueClass(t *testing.T) {
	q := newScanQueue(1)
	c, done := q.class("a", false)
	if c == nil {
		t.Fatal("prefetch flight: no class")
	}
	idleAtStart := c.IsIdle() // false where the kernel refuses SCHED_IDLE
	q.join("a")
	if c.IsIdle() {
		t.Error("joined flight still idle")
	}
	q.leave("a")
	done()
	if len(q.classes) != 0 {
		t.Errorf("classes not forgotten: %v", q.classes)
	}
	if c, _ := q.class("b", true); c != nil {
		t.Error("client flight got an idle class")
	}
	q.join("c")
	if c, _ := q.class("c", false); c != nil {
		t.Error("prefetch flight a client already waits on got an idle class")
	}
	q.leave("c")
	if c, _ := q.class("d", false); c.IsIdle() != idleAtStart {
		t.Errorf("new prefetch class idle = %v, want %v", c.IsIdle(), idleAtStart)
	}
}

// A client's scan arriving promotes every running prefetch flight (they hold
// the slots, parsers and parse budget it needs), not only the one it joins;
// a prefetch flight started afterwards begins idle again.
func TestScanQueuePromotesRunningPrefetch(t *testing.T) {
	q := newScanQueue(3)
	q.acquire("p1", false)
	c1, done1 := q.class("p1", false)
	q.acquire("p2", false)
	c2, done2 := q.class("p2", false)
	if !c1.IsIdle() {
		t.Skip("the kernel refuses SCHED_IDLE here: nothing to promote")
	}
	q.acquire("client", true)
	if c1.IsIdle() || c2.IsIdle() {
		t.Errorf("running prefetch flights still idle after a client's scan arrived: %v %v", c1.IsIdle(), c2.IsIdle())
	}
	q.release()
	done1()
	q.release()
	done2()
	q.acquire("p3", false)
	c3, done3 := q.class("p3", false)
	defer done3()
	if !c3.IsIdle() {
		t.Error("prefetch flight started after the promotion is not idle")
	}
	if len(q.classes) != 1 {
		t.Errorf("classes %v, want only p3", q.classes)
	}
}
