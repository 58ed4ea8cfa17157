package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/sql/sqltest"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// wireEngine runs sqltest scripts over the PostgreSQL wire: rows loaded
// into the node's store, each query sent by pgx (extended protocol, binary
// results) to the database named by the script, with the script's now()
// as the session's lakenode.now. The scripts are written in lakenode's
// dialect; the one spelling PostgreSQL reads otherwise, `name`, is sent as
// "name". Answers come back as the wire types them and are compared as
// the scripts print them.
type wireEngine struct {
	n     *Node
	conns map[string]*pgx.Conn
}

func (e *wireEngine) Load(t testing.TB, dbms, table string, cols []schema.Column, rows [][]schema.Value) {
	tablestest.Load(t, e.n.Store(), dbms, table, cols, rows)
}

func (e *wireEngine) conn(t testing.TB, dbms string) *pgx.Conn {
	if c := e.conns[dbms]; c != nil {
		return c
	}
	c, err := pgx.Connect(context.Background(), "postgres://sqltest@"+e.n.PGAddr()+"/"+dbms+"?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	e.conns[dbms] = c
	return c
}

func (e *wireEngine) Query(t testing.TB, dbms, query string, now time.Time) ([]string, []schema.Row, error) {
	ctx := context.Background()
	c := e.conn(t, dbms)
	if _, err := c.Exec(ctx, "set lakenode.now = '"+now.UTC().Format(time.RFC3339Nano)+"'"); err != nil {
		t.Fatal(err)
	}
	rs, err := c.Query(ctx, strings.ReplaceAll(query, "`", `"`))
	if err != nil {
		return nil, nil, wireError(err)
	}
	defer rs.Close()
	var cols []string
	for _, f := range rs.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	var rows []schema.Row
	for rs.Next() {
		vals, err := rs.Values()
		if err != nil {
			return nil, nil, err
		}
		row := make(schema.Row, len(vals))
		for i, v := range vals {
			if row[i], err = fromWire(v); err != nil {
				t.Fatalf("%s: column %s: %v", query, cols[i], err)
			}
		}
		rows = append(rows, row)
	}
	if err := rs.Err(); err != nil {
		return nil, nil, wireError(err)
	}
	return cols, rows, nil
}

// wireError is the message of a query the node refused, as sql words it.
func wireError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s", pe.Message)
	}
	return err
}

func fromWire(v any) (schema.Value, error) {
	switch x := v.(type) {
	case nil:
		return schema.Null, nil
	case int64:
		return schema.Int(x), nil
	case float64:
		return schema.Float(x), nil
	case string:
		return schema.Str(x), nil
	case bool:
		return schema.Bool(x), nil
	case time.Time:
		return schema.Timestamp(x), nil
	}
	return schema.Value{}, fmt.Errorf("a %T from the wire", v)
}

// TestSQLScriptsOverTheWire: every sqltest script gives over the wire the
// rows it gives through sql.
func TestSQLScriptsOverTheWire(t *testing.T) {
	for _, path := range sqltest.ReadDir(t, "../tables/sql/sqltest/testdata") {
		t.Run(path, func(t *testing.T) {
			n := startNodeWith(t, func(c *Config) { c.PGAddr = "127.0.0.1:0" })
			sqltest.Run(t, path, &wireEngine{n: n, conns: map[string]*pgx.Conn{}})
		})
	}
}
