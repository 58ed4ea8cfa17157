package tables_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestMergeKeepsEveryRowInOrder: small blocks — sealed a commit at a time,
// with times that overlap, some before a column was added — merge into one
// block, and every read gives the rows it gave before: scans in key order,
// with rows still unsealed among them, a view taken before the merge, the
// counts, retention after it, and the store reopened.
func TestMergeKeepsEveryRowInOrder(t *testing.T) {
	defer tables.SetMergeBelow(800)()
	tw := newTwins(t)
	far := time.Now().Add(time.Hour).UnixMicro()
	tw.apply(0, 300, func(i int) int64 { return int64(i) * 2 })
	tw.seal(far, 300)
	tw.apply(1, 200, func(i int) int64 { return 100 + int64(i)*3 }) // among the first block's times
	tw.seal(far, 200)
	for _, s := range []*tables.Store{tw.sealed, tw.rows} {
		if _, err := s.EnsureTable("d", "sensor", append(slices.Clone(sensorCols), schema.Column{Name: "extra", Type: schema.TypeInt})); err != nil {
			t.Fatal(err)
		}
	}
	tw.apply(0, 250, func(i int) int64 { return 600 + int64(i) })
	tw.seal(far, 250)
	tw.apply(2, 150, func(i int) int64 { return 5 + int64(i)*7 })
	tw.seal(far, 150)
	tw.apply(1, 40, func(i int) int64 { return 50 + int64(i)*20 }) // left as rows
	tw.same("small blocks and rows")
	if _, blocks, err := tw.sealed.SealedRows(tw.table(tw.sealed)); err != nil || blocks != 4 {
		t.Fatalf("%d blocks before the merge (%v), want 4", blocks, err)
	}

	before := tw.scan(tw.sealed, tables.TimeRange{})
	v := tw.sealed.View()
	res, err := tw.sealed.MergeBlocks(context.Background(), tw.table(tw.sealed))
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocks != 1 || res.Replaced != 4 || res.Rows != 900 {
		t.Fatalf("merge: %+v, want 4 blocks of 900 rows into 1", res)
	}
	if rows, blocks, err := tw.sealed.SealedRows(tw.table(tw.sealed)); err != nil || blocks != 1 || rows != 900 {
		t.Fatalf("after the merge %d rows in %d blocks (%v), want 900 in 1", rows, blocks, err)
	}
	if got := tw.sealed.Sealed().Merged; got != 4 {
		t.Errorf("Sealed().Merged = %d, want 4", got)
	}
	tw.same("merged")
	// The view taken before the merge reads the small blocks still.
	it, err := v.Scan(context.Background(), tw.table(tw.sealed), tables.TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	var seen []schema.Row
	for it.Next() {
		seen = append(seen, slices.Clone(it.Row()))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	_ = it.Close()
	_ = v.Close()
	if got := comparable(seen); len(got) != len(before) {
		t.Fatalf("the view before the merge reads %d rows, want %d", len(got), len(before))
	}

	// Nothing is left to merge: a merged block is never small.
	if res, err := tw.sealed.MergeBlocks(context.Background(), tw.table(tw.sealed)); err != nil || res.Blocks != 0 {
		t.Fatalf("a second merge: %+v %v, want nothing", res, err)
	}
	for _, s := range []*tables.Store{tw.sealed, tw.rows} {
		if _, err := s.Expire(context.Background(), tw.table(s), 300); err != nil {
			t.Fatal(err)
		}
	}
	tw.same("merged, then expired before 300")
	for i, s := range []*tables.Store{tw.sealed, tw.rows} {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		*[]**tables.Store{&tw.sealed, &tw.rows}[i] = tablestest.OpenDir(t, tw.dirs[i])
	}
	tw.same("reopened")
}
