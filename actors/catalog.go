package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/tables/schema"
)

// catalogActor is the tables supervisor: it owns the (dbms, table) -> table
// writer map, creates and extends schemas through the store, and starts one
// table actor per table as its child. Strategy: restartStrategy — a writer
// that panics is restarted (a fresh tableWriter; the batches it had not
// acknowledged are answered with an error, so their partitions re-read them
// from the durable offsets), and one that fails more than 5 times a minute
// is stopped: its table then refuses writes until the node restarts or the
// table is dropped.
type catalogActor struct {
	tree    *Tree
	entries map[string]*TableEntry
	stopped map[string]FailureStatus // dbms.table -> its writer stopped for good: why
	byPID   map[string]string        // PID id -> dbms.table
}

func newCatalogActor(t *Tree) *catalogActor {
	return &catalogActor{tree: t, entries: make(map[string]*TableEntry), stopped: make(map[string]FailureStatus), byPID: make(map[string]string)}
}

// TableEntry is a table with a running table actor.
type TableEntry struct {
	PID   *actor.PID
	Stats *TableStats
}

// Catalog is the node's handle on the tables supervisor: every call is a
// message to it.
type Catalog struct {
	sys      *actor.ActorSystem
	pid      *actor.PID
	failures *failureLog
}

// ErrWriterStopped is the error of a table whose writer was stopped after
// repeated failures.
var ErrWriterStopped = errors.New("table writer stopped after repeated failures")

type ensureTable struct {
	dbms, name string
	cols       []schema.Column
	seq        uint64 // copied into the answer
}

type ensured struct {
	table *schema.Table
	entry *TableEntry
	err   error
	seq   uint64
}

type listTables struct{}

type tableList struct {
	keys    []string
	entries []*TableEntry
	stopped map[string]FailureStatus
}

type forgetTable struct{ key string }

type forgotten struct{ pid *actor.PID }

func (a *catalogActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *ensureTable:
		t, e, err := a.ensure(ctx, m)
		ctx.Respond(&ensured{table: t, entry: e, err: err, seq: m.seq})
	case *listTables:
		ctx.Respond(a.list())
	case *forgetTable:
		var rep forgotten
		if e := a.entries[m.key]; e != nil {
			rep.pid = e.PID
			delete(a.byPID, e.PID.Id)
			a.tree.failures.forget(e.PID.Id)
		}
		delete(a.entries, m.key)
		delete(a.stopped, m.key)
		ctx.Respond(&rep)
	case *actor.Terminated:
		// A writer stopped by its supervisor (repeated failures); one
		// stopped on request was removed from byPID first.
		if key, ok := a.byPID[m.Who.Id]; ok {
			delete(a.byPID, m.Who.Id)
			delete(a.entries, key)
			a.stopped[key] = a.tree.failures.get(m.Who.Id)
		}
	}
}

func (a *catalogActor) ensure(ctx actor.Context, m *ensureTable) (*schema.Table, *TableEntry, error) {
	t, err := a.tree.cfg.Store.EnsureTable(m.dbms, m.name, m.cols)
	if err != nil {
		return nil, nil, err
	}
	key := t.FullName()
	if f, ok := a.stopped[key]; ok {
		return nil, nil, fmt.Errorf("%s: %w (last: %s)", key, ErrWriterStopped, f.LastError)
	}
	e := a.entries[key]
	if e == nil {
		e = &TableEntry{Stats: &TableStats{}}
		props := newTableProps(a.tree, t, e.Stats)
		pid, err := ctx.SpawnNamed(props, "table/"+key)
		if err != nil {
			return nil, nil, fmt.Errorf("starting the writer of %s: %w", key, err)
		}
		e.PID = pid
		a.entries[key] = e
		a.byPID[pid.Id] = key
	}
	return t, e, nil
}

func (a *catalogActor) list() *tableList {
	out := &tableList{stopped: make(map[string]FailureStatus, len(a.stopped))}
	for k := range a.entries {
		out.keys = append(out.keys, k)
	}
	slices.Sort(out.keys)
	for _, k := range out.keys {
		out.entries = append(out.entries, a.entries[k])
	}
	for k, v := range a.stopped {
		out.stopped[k] = v
	}
	return out
}

// catalogTimeout bounds a request to the catalog actor, which never waits
// on anything but the store's schema write.
const catalogTimeout = 30 * time.Second

func (c *Catalog) list() (*tableList, error) {
	res, err := c.sys.Root.RequestFuture(c.pid, &listTables{}, catalogTimeout).Result()
	if err != nil {
		return nil, fmt.Errorf("listing the table writers: %w", err)
	}
	l, ok := res.(*tableList)
	if !ok {
		return nil, fmt.Errorf("listing the table writers: unexpected reply %T", res)
	}
	return l, nil
}

// TableStatus is a table writer's counters and failures.
type TableStatus struct {
	TableCounters
	Failures FailureStatus
}

// Stats returns the counters of every table with a writer, by dbms.table;
// a table whose writer stopped for good is listed with Failures.Stopped.
func (c *Catalog) Stats() map[string]TableCounters {
	st := c.Status()
	out := make(map[string]TableCounters, len(st))
	for k, s := range st {
		out[k] = s.TableCounters
	}
	return out
}

// Status returns every table writer's counters and failures.
func (c *Catalog) Status() map[string]TableStatus {
	l, err := c.list()
	if err != nil {
		return nil
	}
	out := make(map[string]TableStatus, len(l.keys)+len(l.stopped))
	for i, k := range l.keys {
		out[k] = TableStatus{TableCounters: l.entries[i].Stats.Snapshot(), Failures: c.failures.get(l.entries[i].PID.Id)}
	}
	for k, f := range l.stopped {
		f.Stopped = true
		out[k] = TableStatus{Failures: f}
	}
	return out
}

// Flush commits every table's buffered rows now.
func (c *Catalog) Flush(ctx context.Context) error {
	l, err := c.list()
	if err != nil {
		return err
	}
	timeout := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	var errs []error
	for i, e := range l.entries {
		res, err := c.sys.Root.RequestFuture(e.PID, &FlushRequest{}, timeout).Result()
		if err != nil {
			errs = append(errs, fmt.Errorf("flushing %s: %w", l.keys[i], err))
			continue
		}
		if d, ok := res.(*FlushDone); ok && d.Err != nil {
			errs = append(errs, fmt.Errorf("flushing %s: %w", l.keys[i], d.Err))
		}
	}
	return errors.Join(errs...)
}

// Forget stops the writer of a dropped table.
func (c *Catalog) Forget(key string) {
	res, err := c.sys.Root.RequestFuture(c.pid, &forgetTable{key: key}, catalogTimeout).Result()
	if err != nil {
		return
	}
	if f, ok := res.(*forgotten); ok && f.pid != nil {
		_ = c.sys.Root.StopFuture(f.pid).Wait()
	}
}

// Stop flushes and stops every table actor.
func (c *Catalog) Stop(ctx context.Context) error {
	err := c.Flush(ctx)
	l, lerr := c.list()
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	for _, k := range l.keys {
		res, ferr := c.sys.Root.RequestFuture(c.pid, &forgetTable{key: k}, catalogTimeout).Result()
		if ferr != nil {
			continue
		}
		if f, ok := res.(*forgotten); ok && f.pid != nil {
			_ = c.sys.Root.StopFuture(f.pid).Wait()
		}
	}
	return err
}
