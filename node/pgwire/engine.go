package pgwire

import (
	"context"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

// Column is one column of an answer.
type Column struct {
	Name string
	Type schema.Type // schema.TypeInvalid: unknown (sent as text)
}

// Query is one SELECT for the engine, already in lakenode's dialect.
type Query struct {
	DBMS string
	SQL  string
	// Cluster runs the query on every node hosting the table (run client
	// ()), as the session's lakenode.scope = cluster asks.
	Cluster bool
	// MaxRows bounds a buffered answer (0: the engine's default).
	MaxRows int64
	// Now, when set (the session's lakenode.now), is the value of now().
	Now time.Time
}

// RowWriter receives an answer: Columns once, before any Row. A row is
// only valid during the call.
type RowWriter interface {
	Columns(cols []Column) error
	Row(r schema.Row) error
}

// TableInfo describes one table for the catalog queries clients send.
type TableInfo struct {
	Name    string
	Columns []Column
}

// Engine runs queries for sessions. Its errors reach the client: a
// *sql.Error of tables/sql keeps its position.
type Engine interface {
	// Query runs q and writes its answer to w as the rows come.
	Query(ctx context.Context, q Query, w RowWriter) error
	// Describe plans q (its parameters as NULL) and returns its columns
	// without running it.
	Describe(ctx context.Context, q Query) ([]Column, error)
	// Databases lists the dbms names that have tables.
	Databases(ctx context.Context) ([]string, error)
	// Tables lists a dbms's tables.
	Tables(ctx context.Context, dbms string) ([]TableInfo, error)
	// Version is the node's version, for version().
	Version() string
}
