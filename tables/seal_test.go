package tables_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

var sensorCols = []schema.Column{
	{Name: "timestamp", Type: schema.TypeTimestamp},
	{Name: "device", Type: schema.TypeString},
	{Name: "value", Type: schema.TypeFloat},
}

// twinStores applies the same batches to two stores; only one is sealed,
// and every read must give the same rows.
type twinStores struct {
	t            *testing.T
	sealed, rows *tables.Store
	dirs         [2]string
	next         map[int32]int64
}

func newTwins(t *testing.T) *twinStores {
	tw := &twinStores{t: t, dirs: [2]string{t.TempDir(), t.TempDir()}, next: map[int32]int64{}}
	tw.sealed = tablestest.OpenDir(t, tw.dirs[0])
	tw.rows = tablestest.OpenDir(t, tw.dirs[1])
	return tw
}

func (tw *twinStores) table(s *tables.Store) *schema.Table {
	tbl, err := s.EnsureTable("d", "sensor", sensorCols)
	if err != nil {
		tw.t.Fatal(err)
	}
	return tbl
}

// apply writes n rows from partition p with times drawn by tm; it returns
// the commit time in the sealed store.
func (tw *twinStores) apply(p int32, n int, tm func(i int) int64) time.Time {
	tw.t.Helper()
	f := tables.Feed{Src: 1, Partition: p}
	for i := range n {
		var v schema.Value
		if i%11 != 0 {
			v = schema.Float(float64(i) / 4)
		}
		f.Records = append(f.Records, tables.Record{Offset: tw.next[p] + int64(i), Values: []schema.Value{
			schema.TimestampMicros(tm(i)), schema.Str(fmt.Sprintf("dev-%d", i%7)), v,
		}})
	}
	tw.next[p] += int64(n)
	f.Next = tw.next[p]
	var at time.Time
	for _, s := range []*tables.Store{tw.sealed, tw.rows} {
		r, err := s.Apply(tw.table(s), []tables.Feed{f})
		if err != nil {
			tw.t.Fatal(err)
		}
		if s == tw.sealed {
			at = r.CommitTime
		}
	}
	return at
}

// comparable drops insert_timestamp, the commit's wall-clock time, which
// differs between the twins.
func comparable(rows []schema.Row) []schema.Row {
	for _, r := range rows {
		r[1] = schema.Null
	}
	return rows
}

func (tw *twinStores) scan(s *tables.Store, r tables.TimeRange) []schema.Row {
	tw.t.Helper()
	it, err := s.Scan(context.Background(), tw.table(s), r)
	if err != nil {
		tw.t.Fatal(err)
	}
	defer func() { _ = it.Close() }()
	var out []schema.Row
	for it.Next() {
		out = append(out, slices.Clone(it.Row()))
	}
	if err := it.Err(); err != nil {
		tw.t.Fatal(err)
	}
	return comparable(out)
}

func (tw *twinStores) same(what string) {
	tw.t.Helper()
	for _, r := range []tables.TimeRange{{}, {From: 300, HasFrom: true}, {To: 1200, HasTo: true}, {From: 15, To: 16, HasFrom: true, HasTo: true}, {From: 900, To: 5000, HasFrom: true, HasTo: true}} {
		got, want := tw.scan(tw.sealed, r), tw.scan(tw.rows, r)
		if len(got) != len(want) {
			tw.t.Fatalf("%s: range %+v: %d rows, want %d", what, r, len(got), len(want))
		}
		for i := range got {
			if !slices.Equal(got[i], want[i]) {
				tw.t.Fatalf("%s: range %+v: row %d = %v, want %v", what, r, i, got[i], want[i])
			}
		}
	}
	for _, before := range []int64{0, 11, 600, 1499, 1500, 1 << 40} {
		g, gok, err := tw.sealed.LastTime(context.Background(), tw.table(tw.sealed), before)
		w, wok, err2 := tw.rows.LastTime(context.Background(), tw.table(tw.rows), before)
		if err != nil || err2 != nil || g != w || gok != wok {
			tw.t.Fatalf("%s: LastTime(%d) = %d %v %v, want %d %v %v", what, before, g, gok, err, w, wok, err2)
		}
	}
	if g, w := tw.sealed.Stats(tw.table(tw.sealed)).Rows, tw.rows.Stats(tw.table(tw.rows)).Rows; g != w {
		tw.t.Fatalf("%s: %d rows counted, want %d", what, g, w)
	}
}

func (tw *twinStores) seal(cutoff int64, wantRows int) {
	tw.t.Helper()
	res, err := tw.sealed.Seal(context.Background(), tw.table(tw.sealed), cutoff)
	if err != nil {
		tw.t.Fatal(err)
	}
	if res.Rows != wantRows {
		tw.t.Fatalf("sealed %d rows in %d blocks, want %d rows", res.Rows, res.Blocks, wantRows)
	}
}

func TestSealKeepsEveryRowInOrder(t *testing.T) {
	tw := newTwins(t)
	tw.apply(0, 1000, func(i int) int64 { return int64(i) })
	tw.apply(1, 1000, func(i int) int64 { return 500 + int64(i) })
	tw.apply(0, 11, func(i int) int64 { return 10 + int64(i) }) // late rows
	tw.seal(time.Now().Add(time.Hour).UnixMicro(), 2011)
	tw.same("all sealed")

	// Rows arrive inside the sealed blocks' time ranges; a seal by commit
	// time leaves the newest commit's rows as rows, interleaved.
	tw.apply(1, 300, func(i int) int64 { return 5 * int64(i) })
	at := tw.apply(0, 100, func(i int) int64 { return 3 * int64(i) })
	tw.same("rows beside blocks")
	tw.seal(at.UnixMicro(), 300)
	tw.same("sealed but the last commit")

	// Retention: a block wholly past the horizon goes, one it cuts is
	// rewritten.
	for _, s := range []*tables.Store{tw.sealed, tw.rows} {
		if _, err := s.Expire(context.Background(), tw.table(s), 700); err != nil {
			t.Fatal(err)
		}
	}
	tw.same("after expiring rows before 700")

	// A column added after sealing reads as NULL in the blocks.
	for _, s := range []*tables.Store{tw.sealed, tw.rows} {
		if _, err := s.EnsureTable("d", "sensor", append(slices.Clone(sensorCols), schema.Column{Name: "extra", Type: schema.TypeInt})); err != nil {
			t.Fatal(err)
		}
	}
	tw.same("after a column was added")

	// Reopened, the blocks are there and new ones get new ids.
	for i, s := range []*tables.Store{tw.sealed, tw.rows} {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		*[]**tables.Store{&tw.sealed, &tw.rows}[i] = tablestest.OpenDir(t, tw.dirs[i])
	}
	tw.same("reopened")
	tw.apply(2, 500, func(i int) int64 { return 2000 + int64(i) })
	tw.seal(time.Now().Add(time.Hour).UnixMicro(), 500) // the unsealed rows were all before 700
	tw.same("sealed after reopening")

	// Dropped, nothing of the blocks is left.
	if err := tw.sealed.DropTable("d", "sensor"); err != nil {
		t.Fatal(err)
	}
	if rows := tw.scan(tw.sealed, tables.TimeRange{}); len(rows) != 0 {
		t.Fatalf("a table created after the drop has %d rows", len(rows))
	}
}

func TestViewIsOneInstant(t *testing.T) {
	tw := newTwins(t)
	tw.apply(0, 5000, func(i int) int64 { return int64(i) })
	v := tw.sealed.View()
	defer func() { _ = v.Close() }()
	tw.seal(time.Now().Add(time.Hour).UnixMicro(), 5000)
	it, err := v.Scan(context.Background(), tw.table(tw.sealed), tables.TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		if it.Row()[4].I != int64(n) {
			t.Fatalf("row %d has time %d", n, it.Row()[4].I)
		}
		n++
	}
	if err := it.Err(); err != nil || n != 5000 {
		t.Fatalf("the view taken before the seal read %d rows (%v), want 5000", n, err)
	}
	_ = it.Close()
	hs, err := v.Blocks(context.Background(), tw.table(tw.sealed), tables.TimeRange{})
	if err != nil || len(hs) != 0 {
		t.Fatalf("the view taken before the seal sees %d blocks (%v)", len(hs), err)
	}
	tw.same("after the seal")
}

// TestSealWhileApplying seals again and again while rows keep arriving at
// random times, late ones inside sealed blocks' ranges included: every row
// is there once.
func TestSealWhileApplying(t *testing.T) {
	for _, run := range []int{1024, 2} {
		for _, oneTime := range []bool{false, true} {
			for _, lag := range []time.Duration{0, 2 * time.Millisecond} {
				// Rows at random times, or all at one time (the ingest
				// benchmark's shape, where only the partition and offset
				// order them); sealing what was committed before the pass
				// or only what is older than lag.
				t.Run(fmt.Sprintf("range deletes from %d rows, one time %v, lag %v", run, oneTime, lag), func(t *testing.T) {
					defer tables.SetMinRangeRun(run)()
					testSealWhileApplying(t, oneTime, lag, run == 2)
				})
			}
		}
	}
}

func testSealWhileApplying(t *testing.T, oneTime bool, lag time.Duration, wantRanges bool) {
	s := tablestest.Open(t)
	tbl, err := s.EnsureTable("d", "sensor", sensorCols)
	if err != nil {
		t.Fatal(err)
	}
	const batches, per = 200, 50
	var wg sync.WaitGroup
	wg.Add(1)
	errs := make(chan error, 1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(3, 4))
		for b := range batches {
			var feeds []tables.Feed
			for p := range 2 { // two partitions a commit, as a table writer's batch has
				part := int32((b + p) % 3)
				f := tables.Feed{Src: 1, Partition: part, Next: int64(b+1) * per}
				for i := range per / 2 {
					tm := int64(5_000)
					if !oneTime {
						tm = r.Int64N(10_000)
					}
					f.Records = append(f.Records, tables.Record{Offset: int64(b*per + p*per/2 + i), Values: []schema.Value{schema.TimestampMicros(tm), schema.Str("d"), schema.Float(1)}})
				}
				feeds = append(feeds, f)
			}
			if _, err := s.Apply(tbl, feeds); err != nil {
				errs <- err
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	sealed := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		res, err := s.Seal(context.Background(), tbl, time.Now().Add(-lag).UnixMicro())
		if err != nil {
			t.Fatal(err)
		}
		sealed += res.Rows
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	res, err := s.Seal(context.Background(), tbl, time.Now().Add(time.Hour).UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	sealed += res.Rows
	if c := s.Sealed(); wantRanges && oneTime && c.RangeDeleted == 0 {
		t.Errorf("no sealed row went with a range delete (%+v)", c)
	}
	rows := tablestest.Dump(t, s, "d", "sensor")
	seen := map[[2]int64]bool{}
	for i, r := range rows {
		if i > 0 && r[4].I < rows[i-1][4].I {
			t.Fatalf("row %d at time %d after one at %d", i, r[4].I, rows[i-1][4].I)
		}
		k := [2]int64{r[0].I, 0}
		if seen[k] {
			t.Fatalf("row_id %d twice", r[0].I)
		}
		seen[k] = true
	}
	if len(rows) != batches*per || sealed != batches*per {
		t.Fatalf("%d rows, %d sealed; want %d", len(rows), sealed, batches*per)
	}
}

// Rows committed before the store opened and too new for its first seal
// pass are sealed by a later one (the first pass keeps their span, as no
// commit of this run has one for them).
func TestRowsFromBeforeOpenAreSealedLater(t *testing.T) {
	dir := t.TempDir()
	s, err := tables.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := s.EnsureTable("d", "sensor", sensorCols)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(s *tables.Store, tbl *schema.Table, from int64) time.Time {
		f := tables.Feed{Src: 1, Partition: 0, Next: from + 100}
		for i := range int64(100) {
			f.Records = append(f.Records, tables.Record{Offset: from + i, Values: []schema.Value{schema.TimestampMicros(i), schema.Str("d"), schema.Float(1)}})
		}
		res, err := s.Apply(tbl, []tables.Feed{f})
		if err != nil {
			t.Fatal(err)
		}
		return res.CommitTime
	}
	first := apply(s, tbl, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = tablestest.OpenDir(t, dir)
	tbl, _ = s.Table("d", "sensor")
	ctx := context.Background()
	// The first pass after opening: the rows are too new.
	if res, err := s.Seal(ctx, tbl, first.UnixMicro()); err != nil || res.Rows != 0 {
		t.Fatalf("sealed %d rows (%v), want none yet", res.Rows, err)
	}
	apply(s, tbl, 100)
	if res, err := s.Seal(ctx, tbl, first.UnixMicro()); err != nil || res.Rows != 0 {
		t.Fatalf("sealed %d rows (%v), want none yet", res.Rows, err)
	}
	res, err := s.Seal(ctx, tbl, time.Now().Add(time.Hour).UnixMicro())
	if err != nil || res.Rows != 200 {
		t.Fatalf("sealed %d rows (%v), want the 100 from before the store opened and the 100 after", res.Rows, err)
	}
	if got := len(tablestest.Dump(t, s, "d", "sensor")); got != 200 {
		t.Fatalf("%d rows after sealing, want 200", got)
	}
}

// SealDue leaves a table with fewer rows old enough than MinSealRows as
// rows until they are older than the hold cutoff; more rows, or older
// ones, are sealed.
func TestSealDueWaitsForABlockWorth(t *testing.T) {
	s := tablestest.Open(t)
	tbl, err := s.EnsureTable("d", "sensor", sensorCols)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	next := int64(0)
	apply := func(n int64) {
		f := tables.Feed{Src: 1, Partition: 0, Next: next + n}
		for i := range n {
			f.Records = append(f.Records, tables.Record{Offset: next + i, Values: []schema.Value{schema.TimestampMicros(next + i), schema.Str("d"), schema.Float(1)}})
		}
		next += n
		if _, err := s.Apply(tbl, []tables.Feed{f}); err != nil {
			t.Fatal(err)
		}
	}
	// A table created since the store opened has a pending span for
	// every commit: its first pass need not read it whole, and waits.
	apply(10)
	future, past := time.Now().Add(time.Hour).UnixMicro(), time.Now().Add(-time.Hour).UnixMicro()
	if res, err := s.SealDue(ctx, future, past); err != nil || res.Rows != 0 {
		t.Fatalf("first pass sealed %d rows (%v) of 10 old enough but not held long", res.Rows, err)
	}
	apply(100)
	if res, err := s.SealDue(ctx, future, past); err != nil || res.Rows != 0 {
		t.Fatalf("sealed %d rows (%v) of 110 old enough but not held long", res.Rows, err)
	}
	apply(tables.MinSealRows - 110)
	if res, err := s.SealDue(ctx, future, past); err != nil || int64(res.Rows) != tables.MinSealRows {
		t.Fatalf("sealed %d rows (%v), want %d: a block's worth", res.Rows, err, tables.MinSealRows)
	}
	apply(5)
	if res, err := s.SealDue(ctx, future, future); err != nil || res.Rows != 5 {
		t.Fatalf("sealed %d rows (%v), want the 5 held past the hold cutoff", res.Rows, err)
	}
	if n := len(tablestest.Dump(t, s, "d", "sensor")); int64(n) != next {
		t.Fatalf("%d rows, want %d", n, next)
	}
}

// A pass that may use half a core pauses between blocks, its iterator
// closed and reopened after the block's last row: every row is still
// sealed once, in order, beside a store that never sealed.
func TestSealPausingBetweenBlocksKeepsEveryRow(t *testing.T) {
	tw := &twinStores{t: t, dirs: [2]string{t.TempDir(), t.TempDir()}, next: map[int32]int64{}}
	s, err := tables.Open(tw.dirs[0], tables.WithCacheSize(16<<20), tables.WithSealShare(0.5))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tw.sealed, tw.rows = s, tablestest.OpenDir(t, tw.dirs[1])
	n := tables.BlockRows + tables.BlockRows/2
	for p := range int32(3) {
		tw.apply(p, n/3, func(i int) int64 { return int64(i%5000) * 3 })
	}
	// In sstables, so that the pass loads blocks (the counters below).
	if err := s.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	tw.seal(time.Now().Add(time.Hour).UnixMicro(), n)
	c := s.Sealed()
	if c.Blocks != 2 {
		t.Fatalf("%d blocks, want 2", c.Blocks)
	} else if c.Read != int64(n) {
		// Each row once: the second block's iterator starts at the row
		// after the first block's last.
		t.Fatalf("the pass read %d rows to seal %d, want each once", c.Read, n)
	}
	// One iterator per block, which stepped over each live row once (the
	// compaction left no dead keys; the first also over the row after its
	// block, which it peeked at), loading the sstable blocks that hold
	// them: more bytes than a few rows', fewer than the rows' raw values.
	if c.Iters != 2 || c.Points != int64(n)+1 {
		t.Fatalf("%d iterators stepping over %d keys, want 2 and %d", c.Iters, c.Points, n+1)
	}
	if c.BlockBytes < int64(n) || c.BlockBytes > int64(n)*200 || c.CachedBytes > c.BlockBytes {
		t.Fatalf("the pass loaded %d block bytes (%d of them cached) for %d rows", c.BlockBytes, c.CachedBytes, n)
	}
	tw.same("sealed in two blocks with a pause between")
}

// A late row committed in the gap between a full block's last row and the
// next row the pass read, after the pass read that next row and before the
// block commits: the block's range delete, which would end at the next row,
// must stop short of it. Every row stays, once, and a later pass seals it.
func TestSealLateRowInTheGapAfterABlock(t *testing.T) {
	tw := newTwins(t)
	n := tables.BlockRows + 100
	tw.apply(0, n, func(i int) int64 { return int64(i) * 2 }) // even times
	var late int
	defer tables.SetAfterSealPeek(func() {
		// Between the block's last row (time 2*(BlockRows-1)) and the
		// next (2*BlockRows); first block only.
		if late == 0 {
			tw.apply(1, 1, func(int) int64 { return 2*int64(tables.BlockRows) - 1 })
			late++
		}
	})()
	tw.seal(time.Now().Add(time.Hour).UnixMicro(), n)
	if late != 1 {
		t.Fatalf("the hook ran %d times before the first block, want 1", late)
	}
	tw.same("a late row landed after a full block")
	tw.seal(time.Now().Add(time.Hour).UnixMicro(), 1)
	tw.same("the late row sealed")
}
