package proxy

import (
	"slices"
	"sync"

	"github.com/moatproject/moat/internal/cpuclass"
)

// scanQueue bounds the scans that run at once. A client's scan waiting for
// a slot goes before every prefetch scan waiting (prefetch guesses, and on
// a busy machine a wrong guess must not delay what a client is waiting
// for), and a waiting prefetch scan that a client joins is promoted to the
// client's rank. Among equals the order is first come, first served.
//
// Prefetch scans that already run hold what a client's scan needs: a slot,
// the extractor's parsers, its parse-bytes budget. At idle CPU priority on a
// machine the client keeps busy they may not progress at all, and the
// client's scan would wait behind them until its timeout (priority
// inversion). So a client's scan arriving moves every running prefetch
// flight to normal priority (priority inheritance): they finish and free
// what they hold; prefetch flights started later begin idle again.
type scanQueue struct {
	mu         sync.Mutex
	free       int
	urgent     []*scanTicket
	background []*scanTicket
	waiting    map[string]*scanTicket     // by flight key
	clients    map[string]int             // clients waiting on each flight key
	classes    map[string]*cpuclass.Class // CPU class of each prefetch flight running
}

type scanTicket struct {
	key    string
	urgent bool
	ready  chan struct{}
}

func newScanQueue(slots int) *scanQueue {
	return &scanQueue{free: slots, waiting: map[string]*scanTicket{}, clients: map[string]int{}, classes: map[string]*cpuclass.Class{}}
}

// class returns the CPU class a scan flight's work runs in, once it holds a
// slot: idle for a prefetch nobody waits for (it only gets CPU time nobody else wants: the
// client resolving its tree, moat serving it), nil (normal) when a client
// waits. join promotes a prefetch flight's class, threads running included;
// done forgets it.
func (q *scanQueue) class(key string, urgent bool) (c *cpuclass.Class, done func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if urgent || q.clients[key] > 0 {
		return nil, func() {}
	}
	c = cpuclass.Idle()
	q.classes[key] = c
	return c, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.classes[key] == c {
			delete(q.classes, key)
		}
	}
}

// promoteRunning moves every running prefetch flight to normal priority
// (q.mu held).
func (q *scanQueue) promoteRunning() {
	for k, c := range q.classes {
		c.Promote()
		delete(q.classes, k)
	}
}

// acquire waits for a slot for the scan flight key; release gives it back.
func (q *scanQueue) acquire(key string, urgent bool) {
	q.mu.Lock()
	urgent = urgent || q.clients[key] > 0
	if urgent {
		q.promoteRunning()
	}
	if q.free > 0 && len(q.urgent) == 0 && (urgent || len(q.background) == 0) {
		q.free--
		q.mu.Unlock()
		return
	}
	t := &scanTicket{key: key, urgent: urgent, ready: make(chan struct{})}
	if urgent {
		q.urgent = append(q.urgent, t)
	} else {
		q.background = append(q.background, t)
	}
	q.waiting[key] = t
	q.mu.Unlock()
	<-t.ready
}

// join records a client waiting on scan flight key until leave: the
// flight, waiting already or not yet, is urgent from then on.
func (q *scanQueue) join(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.clients[key]++
	q.promoteRunning()
	t := q.waiting[key]
	if t == nil || t.urgent {
		return
	}
	t.urgent = true
	q.background = slices.DeleteFunc(q.background, func(x *scanTicket) bool { return x == t })
	q.urgent = append(q.urgent, t)
}

func (q *scanQueue) leave(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.clients[key]--; q.clients[key] <= 0 {
		delete(q.clients, key)
	}
}

func (q *scanQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	var t *scanTicket
	switch {
	case len(q.urgent) > 0:
		t, q.urgent = q.urgent[0], q.urgent[1:]
	case len(q.background) > 0:
		t, q.background = q.background[0], q.background[1:]
	default:
		q.free++
		return
	}
	delete(q.waiting, t.key)
	close(t.ready)
}
