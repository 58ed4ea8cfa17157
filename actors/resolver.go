package actors

import (
	"fmt"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// resolver caches a partition's table targets.
type resolver struct {
	catalog *Catalog
	cols    []schema.Column
	cache   map[string]*tableTarget
	errT    *tableTarget
}

func (r *resolver) resolve(dbms, table string) (*tableTarget, error) {
	key := dbms + "." + table
	if t := r.cache[key]; t != nil {
		return t, nil
	}
	t, err := r.target(dbms, table, r.cols)
	if err != nil {
		return nil, err
	}
	r.cache[key] = t
	return t, nil
}

func (r *resolver) errorTable() (*tableTarget, error) {
	if r.errT != nil {
		return r.errT, nil
	}
	t, err := r.target(tables.ErrorsDBMS, tables.ErrorsTable, tables.ErrorTableColumns)
	if err != nil {
		return nil, err
	}
	r.errT = t
	return t, nil
}

func (r *resolver) target(dbms, table string, cols []schema.Column) (*tableTarget, error) {
	t, e, err := r.catalog.Target(dbms, table, cols)
	if err != nil {
		return nil, err
	}
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
