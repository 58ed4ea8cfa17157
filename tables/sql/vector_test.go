package sql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestVectorisedAnswersAsRows runs aggregate queries of the vectorised
// shape on a store of rows, on one sealed into blocks and on one half
// sealed; on the sealed ones also with the vectorised path turned off (the
// merged row scan). Every answer is the rows store's.
func TestVectorisedAnswersAsRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	cols := []schema.Column{{Name: "dev", Type: schema.TypeString}, {Name: "v", Type: schema.TypeInt}, {Name: "f", Type: schema.TypeFloat}, {Name: "ts", Type: schema.TypeTimestamp}, {Name: "ok", Type: schema.TypeBool}}
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	var rows [][]schema.Value
	for i := range 150_000 { // three blocks and more
		var v, f schema.Value
		if rng.IntN(10) > 0 {
			v = schema.Int(int64(rng.IntN(1000) - 100))
		}
		if rng.IntN(10) > 0 {
			f = schema.Float(float64(rng.IntN(8000)) / 8)
		}
		dev := schema.Str(fmt.Sprintf("dev-%02d", rng.IntN(40)))
		if i%97 == 0 {
			dev = schema.Null
		}
		// Mostly in time order, some late.
		ts := base + int64(i)*1_000_000
		if rng.IntN(50) == 0 {
			ts -= int64(rng.IntN(50_000)) * 1_000_000
		}
		rows = append(rows, []schema.Value{dev, v, f, schema.TimestampMicros(ts), schema.Bool(i%3 == 0)})
	}
	stores := map[string]*tables.Store{}
	for _, seal := range []tablestest.Sealing{tablestest.SealNone, tablestest.SealHalf, tablestest.SealAll} {
		s := tablestest.Open(t)
		tablestest.LoadSealed(t, s, "d", "t", cols, rows, seal)
		stores[seal.String()] = s
	}
	now := time.UnixMicro(base + 150_000*1_000_000).UTC()
	queries := []string{
		"select count(*), sum(v), avg(v), min(v), max(v), count(v) from t",
		"select count(*), sum(f), avg(f), min(f), max(f), min(ts), max(ts), count(dev), min(dev), max(dev) from t",
		"select count(*), avg(f) from t where ts > now() - 1 day",
		"select count(*), avg(f), max(v) from t where ts > now() - 1 day and v > 500",
		"select count(*) from t where ts >= '2026-12-01 10:00:00' and ts < '2026-12-02 03:00:00' and f <= 250.5",
		"select count(*), sum(v) from t where ts between '2026-12-01 10:00:00' and '2026-12-01 11:00:00'",
		"select dev, count(*), avg(v) from t group by dev order by 3 desc, 1 limit 10",
		"select dev, count(*), avg(v) from t where ts > now() - 1 day group by dev order by 3 desc, 1 limit 10",
		"select dev, ok, count(*), min(f), max(f) from t where v != 3 group by dev, ok order by 1, 2",
		"select v, count(*) from t where v < 0 group by v order by 1",
		"select count(*) from t where dev = 'dev-07'",
		"select count(*) from t where dev > 'dev-30' and f > 10",
		"select count(*) from t where v > 100.5 and v < 200",
		"select count(*) from t where f = 500",
		"select count(*) from t where v > '900'",
		"select count(*) from t where v > 10000",
		"select count(*), max(v) from t where (v > 5 or dev = 'dev-01')",
		"select count(*), sum(v) from t where v % 7 = 3",
		"select max(v) - min(v) from t",
		"select dev, sum(row_id), avg(row_id), count(ts), min(row_id), max(ts) from t group by dev order by 1",
		"select ok, count(ts), sum(row_id) from t where row_id > 70000 group by ok order by 1",
		"select dev, count(*) from t group by 1 having count(*) > 3700 order by 2 desc",
	}
	ctx := context.Background()
	for _, q := range queries {
		want, err := Query(ctx, stores["rows"], "d", q, Options{Now: now})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		p, _, err := prepare(ctx, stores["sealed"], "d", q, Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if p.vec == nil {
			t.Errorf("%s: not vectorised", q)
		}
		for name, s := range stores {
			for _, vec := range []bool{true, false} {
				p, _, err := prepare(ctx, s, "d", q, Options{Now: now})
				if err != nil {
					t.Fatal(err)
				}
				if !vec {
					p.vec = nil
				}
				got, err := p.run(ctx, s)
				if err != nil {
					t.Fatalf("%s on %s: %v", q, name, err)
				}
				if fmt.Sprint(got.Rows) != fmt.Sprint(want.Rows) {
					t.Errorf("%s on %s (vectorised %v):\n got %v\nwant %v", q, name, vec, got.Rows, want.Rows)
				}
			}
		}
	}
}

// TestSinceLastAcrossSealing: the rows of a commit range are read once
// whether their commits are sealed, partly sealed or rows, and blocks of
// older commits are left out.
func TestSinceLastAcrossSealing(t *testing.T) {
	s := tablestest.Open(t)
	cols := []schema.Column{{Name: "ts", Type: schema.TypeTimestamp}, {Name: "v", Type: schema.TypeInt}}
	tbl, err := s.EnsureTable("d", "t", cols)
	if err != nil {
		t.Fatal(err)
	}
	var commits []time.Time
	for c := range 4 {
		f := tables.Feed{Src: 1, Next: int64(c+1) * 100}
		for i := range 100 {
			off := int64(c*100 + i)
			f.Records = append(f.Records, tables.Record{Offset: off, Values: []schema.Value{schema.TimestampMicros(off * 7 % 400), schema.Int(off)}})
		}
		r, err := s.Apply(tbl, []tables.Feed{f})
		if err != nil {
			t.Fatal(err)
		}
		commits = append(commits, r.CommitTime)
	}
	// Commits 1 and 2 sealed, 3 and 4 rows.
	if _, err := s.Seal(context.Background(), tbl, commits[2].UnixMicro()); err != nil {
		t.Fatal(err)
	}
	for _, cr := range []CommitRange{{After: 0, UpTo: 4}, {After: 1, UpTo: 3}, {After: 2, UpTo: 4}, {After: 3, UpTo: 3}} {
		res, err := Query(context.Background(), s, "d", "select v from t", Options{Commits: &cr})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for _, r := range res.Rows {
			v := r[0].I
			if seen[v] || uint64(v/100+1) <= cr.After || uint64(v/100+1) > cr.UpTo {
				t.Fatalf("commits %+v: row %d (commit %d) read twice or out of range", cr, v, v/100+1)
			}
			seen[v] = true
		}
		if want := int(cr.UpTo-cr.After) * 100; len(seen) != want {
			t.Fatalf("commits %+v: %d rows, want %d", cr, len(seen), want)
		}
	}
}
