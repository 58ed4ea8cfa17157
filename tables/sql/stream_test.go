package sql_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// Stream emits the same rows, in the same order, as Query returns.
func TestStreamMatchesQuery(t *testing.T) {
	s := pingStore(t)
	queries := []string{
		`select device_name, timestamp, value from ping_sensor`,
		`select value from ping_sensor where timestamp > now() - 1 day and value % 2 = 0`,
		`select value from ping_sensor limit 5`,
		`select value from ping_sensor limit 5 offset 40`,
		`select value from ping_sensor limit 0`,
		`select value from ping_sensor limit 10 offset 100`,
		`select * from ping_sensor where value > 40`,
		`select value from ping_sensor order by value desc limit 3`,
		`select distinct device_name from ping_sensor`,
		`select device_name, count(*) from ping_sensor group by device_name`,
		`select count(*) from ping_sensor where value > 1000`,
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			opt := lsql.Options{Now: now}
			want, err := lsql.Query(context.Background(), s, "lsl_demo", q, opt)
			if err != nil {
				t.Fatal(err)
			}
			prep, err := lsql.Prepare(context.Background(), s, "lsl_demo", q, opt)
			if err != nil {
				t.Fatal(err)
			}
			got := &lsql.Result{Columns: prep.ColumnNames()}
			n, scanned, err := prep.Stream(context.Background(), s, func(r schema.Row) error {
				got.Rows = append(got.Rows, append(schema.Row(nil), r...))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(want.Rows)) || render(got) != render(want) {
				t.Fatalf("streamed %d rows:\n%s\nwant:\n%s", n, render(got), render(want))
			}
			if scanned < 0 || scanned > 48 || scanned == 0 && !strings.Contains(q, "limit 0") {
				t.Fatalf("scanned %d", scanned)
			}
		})
	}
}

// A plain query stops scanning once it has emitted its limit, and an emit
// error stops the scan with that error.
func TestStreamStops(t *testing.T) {
	s := pingStore(t)
	prep, err := lsql.Prepare(context.Background(), s, "lsl_demo", `select value from ping_sensor limit 3`, lsql.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	_, scanned, err := prep.Stream(context.Background(), s, func(schema.Row) error { return nil })
	if err != nil || scanned != 3 {
		t.Fatalf("limit 3: scanned %d, %v", scanned, err)
	}
	prep, err = lsql.Prepare(context.Background(), s, "lsl_demo", `select value from ping_sensor`, lsql.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	gone := errors.New("client gone")
	n, scanned, err := prep.Stream(context.Background(), s, func(schema.Row) error { return gone })
	if !errors.Is(err, gone) || n != 0 || scanned != 1 {
		t.Fatalf("emit error: %d rows, %d scanned, %v", n, scanned, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := prep.Stream(ctx, s, func(schema.Row) error { return nil }); err == nil {
		t.Fatal("a canceled stream succeeded")
	}
}

// MaxRows fails an answer with more rows, and only such an answer.
func TestMaxRows(t *testing.T) {
	s := pingStore(t)
	cases := []struct {
		q       string
		tooMany bool
	}{
		{`select value from ping_sensor`, true}, // 48 rows
		{`select value from ping_sensor limit 10`, false},
		{`select value from ping_sensor limit 11`, true},
		{`select value from ping_sensor limit 10 offset 30`, false},
		{`select value from ping_sensor where value < 10`, false}, // 9 rows and the NULL excluded
		{`select value from ping_sensor order by value`, true},
		{`select value from ping_sensor order by value limit 10`, false},
		{`select distinct device_name from ping_sensor`, false}, // 48 rows scanned, 3 answered
		{`select distinct value from ping_sensor`, true},
		{`select device_name, count(*) from ping_sensor group by device_name`, false},
		{`select value, count(*) from ping_sensor group by value`, true},
		{`select count(*) from ping_sensor`, false},
	}
	for _, c := range cases {
		_, err := lsql.Query(context.Background(), s, "lsl_demo", c.q, lsql.Options{Now: now, MaxRows: 10})
		var tm *lsql.TooManyRowsError
		if got := errors.As(err, &tm); got != c.tooMany || (!got && err != nil) {
			t.Errorf("%s: %v, want too many = %v", c.q, err, c.tooMany)
			continue
		}
		if c.tooMany && tm.Max != 10 {
			t.Errorf("%s: max %d", c.q, tm.Max)
		}
	}
	// Stream ignores the cap.
	prep, err := lsql.Prepare(context.Background(), s, "lsl_demo", `select value from ping_sensor`, lsql.Options{Now: now, MaxRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	if n, _, err := prep.Stream(context.Background(), s, func(schema.Row) error { return nil }); err != nil || n != 48 {
		t.Fatalf("stream with a cap: %d rows, %v", n, err)
	}
}
