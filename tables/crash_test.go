package tables_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// TestCrashKeepsCommitted simulates kill -9: the file system is cloned as a
// crash would leave it (everything synced, and none, some or all of what was
// not), the store is reopened on the clone, and everything Apply, EnsureTable
// and SourceID returned must be there, with row_id and tsd_id continuing.
func TestCrashKeepsCommitted(t *testing.T) {
	cases := []struct {
		name     string
		unsynced int // percent of unsynced data the crash keeps
	}{
		{"only synced data", 0},
		{"half of the unsynced data", 50},
		{"all data", 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := vfs.NewCrashableMem()
			s, err := tables.Open("data", tables.WithFS(fs), tables.WithCacheSize(1<<20))
			if err != nil {
				t.Fatal(err)
			}
			src, err := s.SourceID("cluster-a", "topic-a")
			if err != nil {
				t.Fatal(err)
			}
			tbl, err := s.EnsureTable("d", "t", pingCols)
			if err != nil {
				t.Fatal(err)
			}
			const batches, per = 5, 200
			for b := range batches {
				from := int64(b * per)
				if _, err := s.Apply(tbl, []tables.Feed{pingFeed(src, 0, from, from+per)}); err != nil {
					t.Fatal(err)
				}
				if err := s.SetLowWater(src, 0, from+per); err != nil {
					t.Fatal(err)
				}
				if b == 2 {
					// A schema change between batches.
					if _, err := s.EnsureTable("d", "t", []schema.Column{{Name: "device", Type: schema.TypeString}}); err != nil {
						t.Fatal(err)
					}
				}
			}
			// The crash comes right after the last Apply returned.
			var rng *rand.Rand
			if c.unsynced > 0 {
				rng = rand.New(rand.NewPCG(uint64(c.unsynced), 7))
			}
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: c.unsynced, RNG: rng})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s2, err := tables.Open("data", tables.WithFS(crashed), tables.WithCacheSize(1<<20))
			if err != nil {
				t.Fatalf("reopening after the crash: %v", err)
			}
			t.Cleanup(func() { _ = s2.Close() })
			if got, err := s2.SourceID("cluster-a", "topic-a"); err != nil || got != src {
				t.Fatalf("source id %d %v, want %d", got, err, src)
			}
			tbl2, ok := s2.Table("d", "t")
			if !ok || tbl2.ColumnIndex("device") < 0 {
				t.Fatalf("schema after the crash: %v %+v", ok, tbl2)
			}
			const total = batches * per
			if off, ok := s2.TableOffset(tbl2.ID, src, 0); !ok || off != total {
				t.Fatalf("table offset %d %v, want %d", off, ok, total)
			}
			// The low-water mark is not synced: it may lag, never lead.
			if lwm, ok := s2.LowWater(src, 0); ok && lwm > total {
				t.Fatalf("low-water mark %d past the data", lwm)
			}
			if st := s2.Stats(tbl2); st.Rows != total || st.Seq != batches || st.MaxTime != (total-1)*1000 {
				t.Fatalf("stats %+v", st)
			}
			// A replay of everything writes nothing; new records carry on the
			// counters.
			res, err := s2.Apply(tbl2, []tables.Feed{pingFeed(src, 0, 0, total+1)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != 1 || res.Skipped != total || res.Seq != batches+1 {
				t.Fatalf("replay after the crash: %+v", res)
			}
			rows := dumpAll(t, s2, tbl2)
			if len(rows) != total+1 {
				t.Fatalf("%d rows, want %d", len(rows), total+1)
			}
			for i, r := range rows {
				if r[0].I != int64(i+1) || r[schema.NumSystemColumns+1].I != int64(i) {
					t.Fatalf("row %d: row_id %v value %v", i, r[0], r[schema.NumSystemColumns+1])
				}
			}
		})
	}
}

func dumpAll(t *testing.T, s *tables.Store, tbl *schema.Table) []schema.Row {
	t.Helper()
	it, err := s.Scan(t.Context(), tbl, tables.TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = it.Close() }()
	var out []schema.Row
	for it.Next() {
		out = append(out, append(schema.Row(nil), it.Row()...))
	}
	if err := it.Err(); err != nil {
		t.Fatal(fmt.Errorf("scanning %s: %w", tbl.FullName(), err))
	}
	return out
}

// TestCrashDuringSeal: the file system is cloned as a crash would leave it
// while a seal is writing its blocks (after 0 to 3 of them committed);
// reopened on the clone, every row is there once, in order, whether it
// ended in a block or still a row.
func TestCrashDuringSeal(t *testing.T) {
	for k := range 4 {
		t.Run(fmt.Sprintf("after %d blocks", k), func(t *testing.T) {
			fs := vfs.NewCrashableMem()
			s, err := tables.Open("data", tables.WithFS(fs), tables.WithCacheSize(1<<20))
			if err != nil {
				t.Fatal(err)
			}
			tbl, err := s.EnsureTable("d", "t", pingCols)
			if err != nil {
				t.Fatal(err)
			}
			const batches, per = 6, 50_000 // five blocks
			for b := range batches {
				from := int64(b * per)
				if _, err := s.Apply(tbl, []tables.Feed{pingFeed(1, 0, from, from+per)}); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan error, 1)
			go func() {
				_, err := s.Seal(t.Context(), tbl, time.Now().Add(time.Hour).UnixMicro())
				done <- err
			}()
			deadline := time.Now().Add(time.Minute)
			for s.Sealed().Blocks < int64(k) && time.Now().Before(deadline) {
				runtime.Gosched()
			}
			at := s.Sealed().Blocks
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rand.New(rand.NewPCG(uint64(k), 3))})
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := tables.Open("data", tables.WithFS(crashed), tables.WithCacheSize(1<<20))
			if err != nil {
				t.Fatalf("reopening after the crash: %v", err)
			}
			t.Cleanup(func() { _ = s2.Close() })
			tbl2, _ := s2.Table("d", "t")
			v := s2.View()
			hs, err := v.Blocks(t.Context(), tbl2, tables.TimeRange{})
			_ = v.Close()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d blocks committed when the crash came; the crashed store holds %d", at, len(hs))
			rows := dumpAll(t, s2, tbl2)
			if len(rows) != batches*per {
				t.Fatalf("%d rows after a crash during the seal, want %d", len(rows), batches*per)
			}
			for i, r := range rows {
				if r[0].I != int64(i+1) {
					t.Fatalf("row %d: row_id %v", i, r[0])
				}
			}
			// Sealing again finishes the job.
			if _, err := s2.Seal(t.Context(), tbl2, time.Now().Add(time.Hour).UnixMicro()); err != nil {
				t.Fatal(err)
			}
			if n := len(dumpAll(t, s2, tbl2)); n != batches*per {
				t.Fatalf("%d rows after sealing again, want %d", n, batches*per)
			}
		})
	}
}
