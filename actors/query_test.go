package actors

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// queriesFixture starts a node root with its queries supervisor over a
// store holding d.t, whose scans the test hook slows by delay a row.
func queriesFixture(t *testing.T, rows int, delay time.Duration) (*actor.ActorSystem, *actor.PID, *tables.Store) {
	t.Helper()
	store := tablestest.Open(t)
	cols := []schema.Column{{Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	vals := make([][]schema.Value, rows)
	t0 := time.Now().Add(-time.Hour)
	for i := range vals {
		vals[i] = []schema.Value{schema.Timestamp(t0.Add(time.Duration(i) * time.Millisecond)), schema.Int(int64(i))}
	}
	tablestest.Load(t, store, "d", "t", cols, vals)
	prev := testScanDelays
	testScanDelays = map[string]time.Duration{"d.t": delay}
	t.Cleanup(func() { testScanDelays = prev })
	sys := actor.NewActorSystem()
	t.Cleanup(sys.Shutdown)
	tree, err := SpawnTree(sys, TreeConfig{Store: store, Thresholds: func() Thresholds { return Thresholds{} }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sys.Root.RequestFuture(tree.Root, &SpawnChild{Props: QueriesProps(), Name: QueriesName}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	qs, ok := res.(*ChildStarted)
	if !ok {
		t.Fatalf("starting the queries supervisor: %T %v", res, res)
	}
	return sys, qs.PID, store
}

func listQueries(t *testing.T, sys *actor.ActorSystem, pid *actor.PID) []QueryInfo {
	t.Helper()
	res, err := sys.Root.RequestFuture(pid, &ListQueries{}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	return res.(*QueryList).Queries
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A running query is listed with its text and the rows its scan has read;
// cancel query stops its scan, the caller learns why, and the list empties.
func TestQueryListAndCancel(t *testing.T) {
	sys, pid, store := queriesFixture(t, 5000, time.Millisecond)
	w := &LocalQuery{Store: store, DBMS: "d", Query: "select count(*) from t"}
	done := make(chan error, 1)
	go func() {
		done <- RunQuery(sys, pid, QuerySpec{Text: "sql d count", Origin: "n1", Parent: context.Background(), Work: w})
	}()
	var q QueryInfo
	waitFor(t, "the query to be listed with rows scanned", func() bool {
		l := listQueries(t, sys, pid)
		if len(l) == 1 && l[0].Scanned > 0 {
			q = l[0]
			return true
		}
		return false
	})
	if q.Text != "sql d count" || q.Origin != "n1" || q.Share || q.ID == 0 {
		t.Fatalf("listed as %+v", q)
	}
	res, err := sys.Root.RequestFuture(pid, &CancelQuery{ID: q.ID + 100}, 5*time.Second).Result()
	if err != nil || res.(*QueryCanceled).Found {
		t.Fatalf("cancel of an unknown id: %v %v", res, err)
	}
	res, err = sys.Root.RequestFuture(pid, &CancelQuery{ID: q.ID}, 5*time.Second).Result()
	if err != nil || !res.(*QueryCanceled).Found {
		t.Fatalf("cancel query %d: %v %v", q.ID, res, err)
	}
	var stopped *QueryStoppedError
	select {
	case err := <-done:
		if !errors.As(err, &stopped) || !errors.Is(stopped.Cause, ErrCancelQuery) || stopped.Deadline() {
			t.Fatalf("after cancel query: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the canceled query did not end")
	}
	if w.Result != nil {
		t.Fatalf("a canceled query has an answer: %v", w.Result.Rows)
	}
	waitFor(t, "the list to empty", func() bool { return len(listQueries(t, sys, pid)) == 0 })
}

// A query stops at its deadline and when its caller's context ends; an
// unhindered one answers.
func TestQueryDeadlineAndParent(t *testing.T) {
	sys, pid, store := queriesFixture(t, 5000, time.Millisecond)
	start := time.Now()
	err := RunQuery(sys, pid, QuerySpec{Parent: context.Background(), MaxTime: 200 * time.Millisecond, Work: &LocalQuery{Store: store, DBMS: "d", Query: "select count(*) from t"}})
	var stopped *QueryStoppedError
	if !errors.As(err, &stopped) || !stopped.Deadline() {
		t.Fatalf("past its deadline: %v", err)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("stopped %v after a 200 ms deadline", took)
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	why := errors.New("the client went away")
	done := make(chan error, 1)
	go func() {
		done <- RunQuery(sys, pid, QuerySpec{Parent: ctx, Work: &LocalQuery{Store: store, DBMS: "d", Query: "select count(*) from t"}})
	}()
	waitFor(t, "the query to scan", func() bool { l := listQueries(t, sys, pid); return len(l) == 1 && l[0].Scanned > 0 })
	cancel(why)
	if err := <-done; !errors.As(err, &stopped) || !errors.Is(stopped.Cause, why) {
		t.Fatalf("after its caller went away: %v", err)
	}

	testScanDelays = nil
	var rows []string
	w := &StreamQuery{Store: store, DBMS: "d", Query: "select value from t where value < 3",
		Prepared: func(cols, _ []string) { rows = append(rows, strings.Join(cols, ",")) },
		Emit:     func(r schema.Row) error { rows = append(rows, r[0].String()); return nil }}
	if err := RunQuery(sys, pid, QuerySpec{Parent: context.Background(), Work: w}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows, " "); got != "value 0 1 2" || w.Rows != 3 || w.Scanned == 0 {
		t.Fatalf("streamed %q, %d rows, %d scanned", got, w.Rows, w.Scanned)
	}
}
