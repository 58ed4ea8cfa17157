package sqltest

import (
	"context"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// Store runs scripts on one store.
type Store struct{ S *tables.Store }

// NewStore opens a store for a test.
func NewStore(t testing.TB) *Store { return &Store{S: tablestest.Open(t)} }

// Load implements Engine.
func (s *Store) Load(t testing.TB, dbms, table string, cols []schema.Column, rows [][]schema.Value) {
	tablestest.Load(t, s.S, dbms, table, cols, rows)
}

// Query implements Engine.
func (s *Store) Query(t testing.TB, dbms, query string, now time.Time) ([]string, []schema.Row, error) {
	res, err := lsql.Query(context.Background(), s.S, dbms, query, lsql.Options{Now: now})
	if err != nil {
		return nil, nil, err
	}
	return res.Columns, res.Rows, nil
}
