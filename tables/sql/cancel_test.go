package sql

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// countdownCtx is a context whose Err turns to DeadlineExceeded at its
// n-th call: it stops a query at a chosen check, without timing.
type countdownCtx struct {
	context.Context
	left atomic.Int64
}

func countdown(n int64) *countdownCtx {
	c := &countdownCtx{Context: context.Background()}
	c.left.Store(n)
	return c
}

func (c *countdownCtx) Done() <-chan struct{} { return make(chan struct{}) }

func (c *countdownCtx) Err() error {
	if c.left.Add(-1) <= 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// TestStagesStop checks that each stage after the scan — the sort of
// plain rows, the merge of groups, their sort, DISTINCT — looks at the
// context while it works, so that max_time stops it too.
func TestStagesStop(t *testing.T) {
	s := tablestest.Open(t)
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	const n = 3 * checkEvery
	rows := make([][]schema.Value, n)
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		rows[i] = []schema.Value{schema.Str("d-" + strconv.Itoa(i)), schema.Timestamp(t0.Add(time.Duration(i) * time.Second)), schema.Int(int64(n - i))}
	}
	tablestest.Load(t, s, "d", "t", cols, rows)
	for _, q := range []string{
		"select * from t order by value",
		"select device_name, count(*) from t group by device_name",
		"select device_name, count(*) from t group by device_name order by 2 desc",
		"select distinct device_name from t",
	} {
		p, _, err := prepare(context.Background(), s, "d", q, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.merge(countdown(1), []*Partial{mustPartial(t, p, s)}); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errCanceled) {
			t.Errorf("%s: merge with its context done: %v", q, err)
		}
		if _, err := p.merge(context.Background(), []*Partial{mustPartial(t, p, s)}); err != nil {
			t.Errorf("%s: merge: %v", q, err)
		}
	}
	// The plain query's sort comes after its scan: count the checks of a
	// whole run, then stop the run at its last one.
	p, _, err := prepare(context.Background(), s, "d", "select * from t order by value", Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := countdown(1 << 40)
	if _, err := p.partial(all, s); err != nil {
		t.Fatal(err)
	}
	checks := 1<<40 - all.left.Load()
	if checks <= n/checkEvery {
		t.Fatalf("%d checks: the sort made none", checks)
	}
	if _, err := p.partial(countdown(checks), s); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("partial's sort with its context done: %v", err)
	}
}

func mustPartial(t *testing.T, p *queryPlan, s *tables.Store) *Partial {
	t.Helper()
	pt, err := p.partial(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return pt
}
