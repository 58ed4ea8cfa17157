package node

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// startSealing runs the seal loop until bg ends (Stop waits for it).
func (n *Node) startSealing(bg context.Context) {
	after := n.cfg.SealAfter
	if after == 0 {
		after = DefaultSealAfter
	}
	if after <= 0 {
		return
	}
	done := make(chan struct{})
	prev := n.bgDone
	go func() {
		n.sealLoop(bg, after)
		<-prev
		close(done)
	}()
	n.bgDone = done
}

// sealShare is the share of one core a seal pass may use while it runs
// (tables.WithSealShareFunc): at --seal-after 60s a pass seals 15 s of
// ingest at once, and at full speed it took the core the consumers needed.
// While ingest is behind (sealBehind) a pass yields to it and takes
// sealShareBehind: sealing falls behind instead of freshness, and never
// stops.
const (
	sealShare       = 0.5
	sealShareBehind = 0.05
)

// sealBehind is how old a record may be when it becomes visible before
// ingest counts as behind, within the last sealBehindWindow.
const (
	sealBehind       = 250 * time.Millisecond
	sealBehindWindow = 3 * time.Second
)

// sealShareNow is the share a seal pass may take now: sealShareBehind
// while a consumer is behind its topics, else sealShare.
func (n *Node) sealShareNow() float64 {
	if n.ingestBehind() {
		n.sealYields.Add(1)
		return sealShareBehind
	}
	return sealShare
}

// ingestBehind reports whether a consumer is behind its topics (sealBehind
// within sealBehindWindow).
func (n *Node) ingestBehind() bool {
	since := time.Now().Add(-sealBehindWindow)
	for _, c := range n.consumerHandles() {
		if c.Behind(sealBehind, since) {
			return true
		}
	}
	return false
}

// sealHold is how many times --seal-after a table with fewer rows old
// enough than a block is worth sealing (tables.MinSealRows) keeps them as
// rows, so that a slow table does not seal a tiny block every pass.
const sealHold = 10

// sealLoop seals the rows committed more than after ago into column
// blocks, every quarter of after (a table with few such rows waits until
// they are sealHold times after old), then, unless ingest is behind,
// merges runs of small blocks into full ones. It writes nothing while the
// disk is below --min-free, and reports a failing seal once a minute at
// most.
func (n *Node) sealLoop(ctx context.Context, after time.Duration) {
	tick := time.NewTicker(max(after/4, 50*time.Millisecond))
	defer tick.Stop()
	var lastReport time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n.store.Space().Status().Full {
			continue
		}
		now := time.Now()
		res, err := n.store.SealDue(ctx, now.Add(-after).UnixMicro(), now.Add(-sealHold*after).UnixMicro())
		switch {
		case err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled):
			if time.Since(lastReport) >= time.Minute {
				lastReport = time.Now()
				n.event("seal", fmt.Sprintf("sealing rows into column blocks: %v (rows stay readable as they are; retried every %v)", err, max(after/4, 50*time.Millisecond)))
			}
		case res.Rows > 0:
			n.log.Debug("rows sealed", "rows", res.Rows, "blocks", res.Blocks)
		}
		if err != nil || n.ingestBehind() {
			continue // merging small blocks can wait; ingest cannot
		}
		mres, err := n.store.MergeAll(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled):
			if time.Since(lastReport) >= time.Minute {
				lastReport = time.Now()
				n.event("seal", fmt.Sprintf("merging small column blocks: %v (the blocks stay readable as they are; retried every %v)", err, max(after/4, 50*time.Millisecond)))
			}
		case mres.Blocks > 0:
			n.log.Debug("small blocks merged", "blocks", mres.Replaced, "into", mres.Blocks, "rows", mres.Rows)
		}
	}
}
