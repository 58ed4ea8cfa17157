package sql

import (
	"context"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestColumnTypes: every value a query produces has the type its column
// was declared with before the rows, and the common forms are typed.
func TestColumnTypes(t *testing.T) {
	st := tablestest.Open(t)
	cols := []schema.Column{{Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "dev", Type: schema.TypeString}, {Name: "n", Type: schema.TypeInt}, {Name: "v", Type: schema.TypeFloat}, {Name: "ok", Type: schema.TypeBool}}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var rows [][]schema.Value
	for i := range 20 {
		rows = append(rows, []schema.Value{schema.Timestamp(t0.Add(time.Duration(i) * time.Minute)), schema.Str("d"), schema.Int(int64(i)), schema.Float(float64(i) / 3), schema.Bool(i%2 == 0)})
	}
	tablestest.Load(t, st, "db", "t", cols, rows)
	I, F, S, T, B, U := schema.TypeInt, schema.TypeFloat, schema.TypeString, schema.TypeTimestamp, schema.TypeBool, schema.TypeInvalid
	for _, tc := range []struct {
		q    string
		want []schema.Type
	}{
		{"select timestamp, dev, n, v, ok from t", []schema.Type{T, S, I, F, B}},
		{"select n + 1, n * v, n / 2, -n, v - 1, n > 3, 'x', 2.5, now(), timestamp - interval 1 hour from t", []schema.Type{I, F, I, I, F, I, S, F, T, T}},
		{"select count(*), count(v), sum(n), sum(v), avg(n), min(dev), max(timestamp) from t", []schema.Type{I, I, I, F, F, S, T}},
		{"select floor(extract(epoch from timestamp)/60)*60 as time, avg(v) from t group by 1 order by 1", []schema.Type{F, F}},
		{"select n::float, v::int, n::text, lower(dev), length(dev), coalesce(n, v), abs(n), date_trunc('hour', timestamp) from t", []schema.Type{F, I, S, S, I, U, I, T}},
		{"select * from t", nil},
	} {
		p, err := Prepare(context.Background(), st, "db", tc.q, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		types := p.ColumnTypes()
		if len(types) != len(p.ColumnNames()) {
			t.Fatalf("%s: %d types for %d columns", tc.q, len(types), len(p.ColumnNames()))
		}
		for i, w := range tc.want {
			if types[i] != w {
				t.Errorf("%s: column %d (%s) declared %v, want %v", tc.q, i, p.ColumnNames()[i], types[i], w)
			}
		}
		_, _, err = p.Stream(context.Background(), st, func(r schema.Row) error {
			for i, v := range r {
				if !v.IsNull() && types[i] != schema.TypeInvalid && v.Type != types[i] {
					t.Errorf("%s: column %d (%s) declared %v, produced %v", tc.q, i, p.ColumnNames()[i], types[i], v.Type)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
	}
}
