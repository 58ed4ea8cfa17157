package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPGQueriesAreQueryActors: a query over the PostgreSQL endpoint runs
// as a query actor: get queries lists it, and a PostgreSQL cancel request
// stops it (SQLSTATE 57014) as cancel query would.
func TestPGQueriesAreQueryActors(t *testing.T) {
	n := startNodeWith(t, func(c *Config) { c.PGAddr = "127.0.0.1:0" })
	q := slowQuery(t, n, 300_000)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://tester@"+n.PGAddr()+"/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var rows int64
	if err := c.QueryRow(ctx, "select count(*) from t").Scan(&rows); err != nil || rows != 300_000 {
		t.Fatalf("count over the wire: %d %v", rows, err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol)
		errc <- err
	}()
	// The count above may still be listed for a moment after its answer
	// (its actor is reaped after it replies), and a cancel request that
	// comes between two queries is dropped, as PostgreSQL drops it: wait
	// for the slow query itself.
	deadline := time.Now().Add(20 * time.Second)
	for {
		res := n.Execute(ctx, "get queries", ExecOptions{})
		if res.Err == nil && strings.Contains(res.Text, `postgres: sql d "select count(*) from t where value in (-1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get queries never listed the PostgreSQL query:\n%s %v", res.Text, res.Err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" {
			t.Fatalf("canceled query: %v, want SQLSTATE 57014", err)
		}
	case <-time.After(20 * time.Second):
		// What still runs, and how far it got, tells a lost cancel from
		// a scan that does not look at its context.
		res := n.Execute(context.Background(), "get queries", ExecOptions{})
		t.Errorf("the canceled query did not stop within 20 s; get queries:\n%s %v", res.Text, res.Err)
		// The connection is not safe for two goroutines: end the query
		// through the test's context before the deferred Close runs.
		cancel()
		<-errc
		t.FailNow()
	}
	// The session goes on.
	if err := c.QueryRow(ctx, "select count(*) from t where value < 10").Scan(&rows); err != nil || rows != 10 {
		t.Errorf("after the cancel: %d %v", rows, err)
	}
}
