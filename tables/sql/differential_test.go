package sql_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestDifferentialSQLite loads the same random rows into lakenode and into
// SQLite (the real C library) and checks that random queries from a small
// generator answer the same.
func TestDifferentialSQLite(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	s := tablestest.Open(t)
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if _, err := db.Exec(`create table t (dev text, v integer, f real, ts integer)`); err != nil {
		t.Fatal(err)
	}
	cols := []schema.Column{{Name: "dev", Type: schema.TypeString}, {Name: "v", Type: schema.TypeInt}, {Name: "f", Type: schema.TypeFloat}, {Name: "ts", Type: schema.TypeTimestamp}}
	devs := []string{"a", "b", "c", "d", "Ab"}
	var rows [][]schema.Value
	tx, _ := db.Begin()
	for i := range 2000 {
		dev := devs[rng.IntN(len(devs))]
		var v, f, ts schema.Value
		var sv, sf any
		if rng.IntN(10) > 0 {
			x := int64(rng.IntN(200) - 50)
			v, sv = schema.Int(x), x
		}
		if rng.IntN(10) > 0 {
			x := math.Round(rng.Float64()*1000) / 8
			f, sf = schema.Float(x), x
		}
		tsv := int64(1_700_000_000_000_000 + i*1_000_000)
		ts = schema.TimestampMicros(tsv)
		rows = append(rows, []schema.Value{schema.Str(dev), v, f, ts})
		if _, err := tx.Exec(`insert into t values (?, ?, ?, ?)`, dev, sv, sf, tsv); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tablestest.Load(t, s, "d", "t", cols, rows)
	// The same rows split over three stores, as over three nodes: one
	// sealed into column blocks, one half sealed, one of rows.
	var shards [3]*tables.Store
	for i := range shards {
		shards[i] = tablestest.Open(t)
		var part [][]schema.Value
		for j := i; j < len(rows); j += 3 {
			part = append(part, rows[j])
		}
		tablestest.LoadSealed(t, shards[i], "d", "t", cols, part, []tablestest.Sealing{tablestest.SealAll, tablestest.SealHalf, tablestest.SealNone}[i])
	}

	aggs := []string{"count(*)", "count(v)", "sum(v)", "min(v)", "max(v)", "avg(v)", "count(distinct dev)", "sum(f)", "min(f)", "max(f)", "count(distinct v)"}
	preds := []string{"v > %d", "v <= %d", "v = %d", "v between %d and %d", "dev = 'a'", "dev like 'a%%'", "v is null", "f > %d", "v in (%d, %d, 3)",
		"not (v < %d)", "(v > %d or dev = 'b')", "v %% 7 = 3", "ts >= %d", "ts < %d"}
	pred := func() string {
		p := preds[rng.IntN(len(preds))]
		n := strings.Count(p, "%d")
		args := make([]any, n)
		for i := range args {
			if strings.HasPrefix(p, "ts") {
				args[i] = 1_700_000_000_000_000 + int64(rng.IntN(2000))*1_000_000
			} else {
				args[i] = rng.IntN(150) - 25
			}
		}
		return fmt.Sprintf(p, args...)
	}
	var queries []string
	for range 300 {
		where := ""
		if rng.IntN(4) > 0 {
			where = " where " + pred()
			if rng.IntN(3) == 0 {
				where += " and " + pred()
			}
		}
		switch rng.IntN(4) {
		case 0:
			a, b := aggs[rng.IntN(len(aggs))], aggs[rng.IntN(len(aggs))]
			queries = append(queries, fmt.Sprintf("select %s, %s from t%s", a, b, where))
		case 1:
			a := aggs[rng.IntN(len(aggs))]
			having := ""
			if rng.IntN(2) == 0 {
				having = fmt.Sprintf(" having count(*) > %d", rng.IntN(100))
			}
			queries = append(queries, fmt.Sprintf("select dev, %s from t%s group by dev%s order by dev", a, where, having))
		case 2:
			dir := []string{"asc", "desc"}[rng.IntN(2)]
			queries = append(queries, fmt.Sprintf("select dev, v, f from t%s order by v %s, f %s, ts limit %d", where, dir, dir, rng.IntN(20)+1))
		case 3:
			queries = append(queries, fmt.Sprintf("select distinct dev, v %% 3 from t%s order by 1, 2", where))
		}
	}
	for _, q := range queries {
		res, err := lsql.Query(context.Background(), s, "d", q, lsql.Options{})
		if err != nil {
			t.Errorf("%s: lakenode: %v", q, err)
			continue
		}
		// Partials on three shards merged answer the same as one store.
		prep, err := lsql.Prepare(context.Background(), shards[0], "d", q, lsql.Options{})
		if err != nil {
			t.Fatalf("%s: prepare: %v", q, err)
		}
		var parts []*lsql.Partial
		for _, sh := range shards {
			pt, err := prep.Partial(context.Background(), sh)
			if err != nil {
				t.Fatalf("%s: partial: %v", q, err)
			}
			parts = append(parts, pt)
		}
		mres, err := prep.Merge(context.Background(), parts)
		if err != nil {
			t.Fatalf("%s: merge: %v", q, err)
		}
		if merged := lakenodeRows(mres); fmt.Sprint(merged) != fmt.Sprint(lakenodeRows(res)) {
			t.Errorf("%s: three shards merged %v, one store %v", q, merged, lakenodeRows(res))
		}
		want, err := sqliteRows(db, q)
		if err != nil {
			t.Fatalf("%s: sqlite: %v", q, err)
		}
		got := lakenodeRows(res)
		if len(got) != len(want) {
			t.Errorf("%s: %d rows, SQLite %d", q, len(got), len(want))
			continue
		}
		for i := range got {
			if !sameRow(got[i], want[i]) {
				t.Errorf("%s: row %d: lakenode %v, SQLite %v", q, i, got[i], want[i])
				break
			}
		}
	}
}

func lakenodeRows(r *lsql.Result) [][]any {
	var out [][]any
	for _, row := range r.Rows {
		var cells []any
		for _, v := range row {
			switch v.Type {
			case schema.TypeInvalid:
				cells = append(cells, nil)
			case schema.TypeInt, schema.TypeTimestamp:
				cells = append(cells, float64(v.I))
			case schema.TypeFloat:
				cells = append(cells, v.F)
			default:
				cells = append(cells, v.String())
			}
		}
		out = append(out, cells)
	}
	return out
}

func sqliteRows(db *sql.DB, q string) ([][]any, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			switch x := v.(type) {
			case int64:
				vals[i] = float64(x)
			case []byte:
				vals[i] = string(x)
			}
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

func sameRow(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, xok := a[i].(float64)
		y, yok := b[i].(float64)
		if xok && yok {
			if math.Abs(x-y) > 1e-9*math.Max(1, math.Abs(y)) {
				return false
			}
			continue
		}
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
