package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// Catalog owns the (dbms, table) -> table actor map. Schemas themselves are
// kept by the store; the catalog creates and extends them through it and
// starts one table actor per table.
type Catalog struct {
	sys        *actor.ActorSystem
	store      *tables.Store
	thresholds func() Thresholds

	mu      sync.Mutex
	entries map[string]*TableEntry
}

// TableEntry is a table with a running table actor.
type TableEntry struct {
	PID   *actor.PID
	Stats *TableStats
}

// NewCatalog returns a catalog whose table actors read thresholds from fn.
func NewCatalog(sys *actor.ActorSystem, store *tables.Store, thresholds func() Thresholds) *Catalog {
	return &Catalog{sys: sys, store: store, thresholds: thresholds, entries: make(map[string]*TableEntry)}
}

// Target creates or extends table dbms.name with cols (user columns) and
// returns its schema and actor.
func (c *Catalog) Target(dbms, name string, cols []schema.Column) (*schema.Table, *TableEntry, error) {
	t, err := c.store.EnsureTable(dbms, name, cols)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := t.FullName()
	e := c.entries[key]
	if e == nil {
		e = &TableEntry{Stats: &TableStats{}}
		props := NewTableProps(c.store, t, c.thresholds, e.Stats)
		pid, err := c.sys.Root.SpawnNamed(props, "table/"+key)
		if err != nil {
			return nil, nil, fmt.Errorf("starting the writer of %s: %w", key, err)
		}
		e.PID = pid
		c.entries[key] = e
	}
	return t, e, nil
}

// Stats returns the counters of every table with a running writer, by
// dbms.table.
func (c *Catalog) Stats() map[string]TableCounters {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]TableCounters, len(c.entries))
	for k, e := range c.entries {
		out[k] = e.Stats.Snapshot()
	}
	return out
}

// Flush commits every table's buffered rows now.
func (c *Catalog) Flush(ctx context.Context) error {
	c.mu.Lock()
	keys := make([]string, 0, len(c.entries))
	for k := range c.entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	pids := make([]*actor.PID, len(keys))
	for i, k := range keys {
		pids[i] = c.entries[k].PID
	}
	c.mu.Unlock()
	timeout := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	var errs []error
	for i, pid := range pids {
		res, err := c.sys.Root.RequestFuture(pid, &FlushRequest{}, timeout).Result()
		if err != nil {
			errs = append(errs, fmt.Errorf("flushing %s: %w", keys[i], err))
			continue
		}
		if d, ok := res.(*FlushDone); ok && d.Err != nil {
			errs = append(errs, fmt.Errorf("flushing %s: %w", keys[i], d.Err))
		}
	}
	return errors.Join(errs...)
}

// Forget stops the writer of a dropped table.
func (c *Catalog) Forget(key string) {
	c.mu.Lock()
	e := c.entries[key]
	delete(c.entries, key)
	c.mu.Unlock()
	if e != nil {
		_ = c.sys.Root.StopFuture(e.PID).Wait()
	}
}

// Stop flushes and stops every table actor.
func (c *Catalog) Stop(ctx context.Context) error {
	err := c.Flush(ctx)
	c.mu.Lock()
	entries := c.entries
	c.entries = make(map[string]*TableEntry)
	c.mu.Unlock()
	for _, e := range entries {
		_ = c.sys.Root.StopFuture(e.PID).Wait()
	}
	return err
}
