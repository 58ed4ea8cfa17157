package actors

import (
	"context"
	"sync"

	"github.com/lakenode/lakenode/kafka"
)

// DefaultFetchBudget is how many bytes of fetched records a consumer holds
// unmapped (delivered to its partition actors, not yet turned into rows)
// before its poll loop waits: 64 MiB, over a second of ingest at the full
// rate, so a node that keeps up never waits.
const DefaultFetchBudget = 64 << 20

// fetchBudget bounds what a consumer holds fetched but not mapped. The
// poll loop takes from it for each delivery and waits while it is spent;
// partition actors give back once a delivery is mapped (or dropped). So a
// node whose mapping falls behind (starved of CPU, say) stops polling, and
// the backlog stays in Kafka instead of the heap — without pausing
// partitions, whose buffered fetches franz-go would drop and fetch again.
// Each partition assignment has its own flow: when a partition goes away,
// what its actor still held (in its mailbox, say) is given back at once.
type fetchBudget struct {
	max int64

	mu    sync.Mutex
	used  int64
	waits int64         // times the poll loop waited
	wake  chan struct{} // closed and replaced on every give-back
}

func newFetchBudget(max int64) *fetchBudget {
	if max <= 0 {
		max = DefaultFetchBudget
	}
	return &fetchBudget{max: max, wake: make(chan struct{})}
}

// fetchFlow is one partition assignment's share of the budget.
type fetchFlow struct {
	b      *fetchBudget
	held   int64
	closed bool
}

func (b *fetchBudget) flow() *fetchFlow { return &fetchFlow{b: b} }

// take waits until the budget is not spent (one delivery may overshoot it,
// so a delivery larger than the budget still passes) and takes n for f. It
// reports false when ctx ended first, or f was closed: the delivery is then
// not to be sent.
func (f *fetchFlow) take(ctx context.Context, n int64) bool {
	b := f.b
	waited := false
	for {
		b.mu.Lock()
		if f.closed {
			b.mu.Unlock()
			return false
		}
		if b.used < b.max {
			b.used += n
			f.held += n
			b.mu.Unlock()
			return true
		}
		if !waited {
			waited = true
			b.waits++
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return false
		case <-wake:
		}
	}
}

// give returns n that f took; after close it does nothing.
func (f *fetchFlow) give(n int64) {
	b := f.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if f.closed || n <= 0 {
		return
	}
	n = min(n, f.held)
	f.held -= n
	b.used -= n
	b.wakeLocked()
}

// close returns all that f still holds; later takes fail and gives do
// nothing.
func (f *fetchFlow) close() {
	b := f.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	b.used -= f.held
	f.held = 0
	b.wakeLocked()
}

func (b *fetchBudget) wakeLocked() {
	close(b.wake)
	b.wake = make(chan struct{})
}

// FetchBudgetStatus is a consumer's fetch budget as `get msg client` and
// tests see it.
type FetchBudgetStatus struct {
	Held  int64 // bytes fetched and not yet mapped
	Max   int64
	Waits int64 // times the poll loop waited for mapping to catch up
}

func (b *fetchBudget) status() FetchBudgetStatus {
	if b == nil {
		return FetchBudgetStatus{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return FetchBudgetStatus{Held: b.used, Max: b.max, Waits: b.waits}
}

// deliverySize is what a delivery counts against the budget: its keys and
// values, and a little for each record's own fields.
func deliverySize(recs []kafka.Record) int64 {
	var n int64
	for i := range recs {
		n += int64(len(recs[i].Key)+len(recs[i].Value)) + 64
	}
	return n
}
