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

// Sealing says how much of a loaded table a Store seals (tablestest).
type Sealing = tablestest.Sealing

// The sealings of tablestest.
const (
	SealNone = tablestest.SealNone
	SealHalf = tablestest.SealHalf
	SealAll  = tablestest.SealAll
)

// Store runs scripts on one store.
type Store struct {
	S    *tables.Store
	Seal Sealing
}

// NewStore opens a store for a test.
func NewStore(t testing.TB) *Store { return &Store{S: tablestest.Open(t)} }

// Load implements Engine.
func (s *Store) Load(t testing.TB, dbms, table string, cols []schema.Column, rows [][]schema.Value) {
	t.Helper()
	tablestest.LoadSealed(t, s.S, dbms, table, cols, rows, s.Seal)
}

// Query implements Engine.
func (s *Store) Query(t testing.TB, dbms, query string, now time.Time) ([]string, []schema.Row, error) {
	res, err := lsql.Query(context.Background(), s.S, dbms, query, lsql.Options{Now: now})
	if err != nil {
		return nil, nil, err
	}
	return res.Columns, res.Rows, nil
}
