package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// resolver caches a partition's table targets. It never waits on the
// catalog: a table it has not resolved yet is answered with a *needTable,
// the partition asks the catalog with a message (askCatalog) and maps the
// record again once the answer is installed.
type resolver struct {
	catalog *Catalog
	cols    []schema.Column
	cache   map[string]*tableTarget
	errT    *tableTarget
	errTErr error // the catalog could not give the error table
	// failed holds the catalog's error for a table, used once: the record
	// that asked is rejected with it, and the next one asks again.
	failed map[string]error
}

// needTable is what a resolver answers for a table it has to ask the
// catalog for; the partition stops mapping before the record that needs it.
type needTable struct {
	dbms, table string
	cols        []schema.Column
	errTable    bool // the error table (lakenode.kafka_errors)
}

func (n *needTable) Error() string {
	return fmt.Sprintf("table %s.%s is not resolved yet", n.dbms, n.table)
}

func (n *needTable) key() string { return n.dbms + "." + n.table }

func (r *resolver) resolve(dbms, table string) (*tableTarget, error) {
	key := dbms + "." + table
	if t := r.cache[key]; t != nil {
		return t, nil
	}
	if err, ok := r.failed[key]; ok {
		delete(r.failed, key)
		return nil, err
	}
	return nil, &needTable{dbms: dbms, table: table, cols: r.cols}
}

func (r *resolver) errorTable() (*tableTarget, error) {
	if r.errT != nil {
		return r.errT, nil
	}
	if r.errTErr != nil {
		return nil, r.errTErr
	}
	return nil, &needTable{dbms: tables.ErrorsDBMS, table: tables.ErrorsTable, cols: tables.ErrorTableColumns, errTable: true}
}

// install records the catalog's answer to n.
func (r *resolver) install(n *needTable, a *ensured) {
	var t *tableTarget
	err := a.err
	if err == nil {
		t, err = r.build(a.table, a.entry, n.cols)
	}
	switch {
	case n.errTable && err != nil:
		r.errTErr = err
	case n.errTable:
		r.errT = t
	case err != nil:
		if r.failed == nil {
			r.failed = make(map[string]error)
		}
		r.failed[n.key()] = err
	default:
		r.cache[n.key()] = t
	}
}

// ask sends n to the catalog; the answer (*ensured, with seq) comes back
// to the sender's mailbox.
func (r *resolver) ask(ctx actor.Context, n *needTable, seq uint64) {
	ctx.Request(r.catalog.pid, &ensureTable{dbms: n.dbms, name: n.table, cols: n.cols, seq: seq})
}

func (r *resolver) build(t *schema.Table, e *TableEntry, cols []schema.Column) (*tableTarget, error) {
	perm := make([]int, len(cols))
	for i, c := range cols {
		idx := t.ColumnIndex(c.Name)
		if idx < schema.NumSystemColumns {
			return nil, fmt.Errorf("table %s has no user column %s", t.FullName(), c.Name)
		}
		perm[i] = idx - schema.NumSystemColumns
	}
	pid, sys := e.PID, r.catalog.sys
	return &tableTarget{
		key: t.FullName(), table: t, perm: perm, nUser: len(t.Columns) - schema.NumSystemColumns,
		send: func(b *RowBatch) { sys.Root.Send(pid, b) },
	}, nil
}
