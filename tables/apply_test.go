package tables_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

func pingFeed(src uint32, partition int32, from, to int64) tables.Feed {
	f := tables.Feed{Src: src, Partition: partition, Next: to}
	for o := from; o < to; o++ {
		f.Records = append(f.Records, tables.Record{Offset: o, Values: ping(o*1000, o)})
	}
	return f
}

// System columns carry on across a reopen: row_id keeps counting, tsd_id is
// the commit sequence number, insert_timestamp the commit time of its Apply,
// tsd_name the node name.
func TestSystemColumnsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := tables.Open(dir, tables.WithNodeName("node-a"))
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := s.EnsureTable("d", "t", pingCols)
	if err != nil {
		t.Fatal(err)
	}
	var results []tables.ApplyResult
	apply := func(s *tables.Store, tbl *schema.Table, f tables.Feed) {
		t.Helper()
		res, err := s.Apply(tbl, []tables.Feed{f})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	apply(s, tbl, pingFeed(1, 0, 0, 3))
	apply(s, tbl, pingFeed(1, 0, 3, 5))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := tables.Open(dir, tables.WithNodeName("node-a"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	tbl, _ = s2.Table("d", "t")
	apply(s2, tbl, pingFeed(1, 0, 5, 8))

	wantSeq := []uint64{1, 2, 3}
	for i, r := range results {
		if r.Seq != wantSeq[i] {
			t.Fatalf("apply %d: seq %d, want %d", i, r.Seq, wantSeq[i])
		}
	}
	rows := tablestest.Dump(t, s2, "d", "t")
	if len(rows) != 8 {
		t.Fatalf("rows = %d", len(rows))
	}
	batchOf := []int{0, 0, 0, 1, 1, 2, 2, 2}
	for i, r := range rows {
		res := results[batchOf[i]]
		want := schema.Row{schema.Int(int64(i + 1)), schema.Timestamp(res.CommitTime), schema.Str("node-a"), schema.Int(int64(res.Seq))}
		for c := range want {
			if r[c] != want[c] {
				t.Errorf("row %d %s: got %v want %v", i, tbl.Columns[c].Name, r[c], want[c])
			}
		}
	}
	st := s2.Stats(tbl)
	if st.Seq != 3 || st.Rows != 8 || !st.LastCommit.Equal(results[2].CommitTime.Truncate(time.Microsecond)) {
		t.Fatalf("stats %+v", st)
	}
	if st.DiskBytes == 0 {
		t.Fatal("no disk usage estimated for a table with rows")
	}
}

// A table without a timestamp column is ordered by insert_timestamp: the
// commit time of each Apply.
func TestInsertTimestampTableOrder(t *testing.T) {
	s := tablestest.Open(t)
	tbl, err := s.EnsureTable("d", "plain", []schema.Column{{Name: "v", Type: schema.TypeInt}})
	if err != nil {
		t.Fatal(err)
	}
	var times []int64
	for b := range 3 {
		f := tables.Feed{Src: 1, Next: int64(b + 1), Records: []tables.Record{{Offset: int64(b), Values: []schema.Value{schema.Int(int64(10 - b))}}}}
		res, err := s.Apply(tbl, []tables.Feed{f})
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, res.CommitTime.UnixMicro())
		time.Sleep(2 * time.Millisecond)
	}
	rows := tablestest.Dump(t, s, "d", "plain")
	var got []int64
	for _, r := range rows {
		got = append(got, r[schema.NumSystemColumns].I)
	}
	if fmt.Sprint(got) != "[10 9 8]" {
		t.Fatalf("order %v", got)
	}
	st := s.Stats(tbl)
	if st.MinTime != times[0] || st.MaxTime != times[2] {
		t.Fatalf("time range %d..%d, want %d..%d", st.MinTime, st.MaxTime, times[0], times[2])
	}
	// A range scan on the commit time finds the middle batch only.
	it, err := s.Scan(context.Background(), tbl, tables.TimeRange{From: times[1], To: times[2], HasFrom: true, HasTo: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = it.Close() }()
	var mid []int64
	for it.Next() {
		mid = append(mid, it.Row()[schema.NumSystemColumns].I)
	}
	if it.Err() != nil || fmt.Sprint(mid) != "[9]" {
		t.Fatalf("middle batch %v %v", mid, it.Err())
	}
}

// Rows written before a table gained columns read with NULLs there.
func TestRowsOfOlderSchema(t *testing.T) {
	s := tablestest.Open(t)
	old := tablestest.Load(t, s, "d", "grow", pingCols, [][]schema.Value{ping(1000, 1)})
	grown, err := s.EnsureTable("d", "grow", []schema.Column{{Name: "device", Type: schema.TypeString}})
	if err != nil {
		t.Fatal(err)
	}
	f := tables.Feed{Src: 1, Next: 2, Records: []tables.Record{{Offset: 1, Values: []schema.Value{schema.TimestampMicros(2000), schema.Int(2), schema.Str("dev")}}}}
	// The caller still holds the old schema: Apply writes under the current one.
	if _, err := s.Apply(old, []tables.Feed{f}); err != nil {
		t.Fatal(err)
	}
	rows := tablestest.Dump(t, s, "d", "grow")
	if len(rows) != 2 || len(rows[0]) != len(grown.Columns) {
		t.Fatalf("rows %v", rows)
	}
	dev := grown.ColumnIndex("device")
	if !rows[0][dev].IsNull() || rows[1][dev] != schema.Str("dev") {
		t.Fatalf("device column: %v, %v", rows[0][dev], rows[1][dev])
	}
	// A scan with the old schema returns rows of the old width.
	it, err := s.Scan(context.Background(), old, tables.TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = it.Close() }()
	for it.Next() {
		if len(it.Row()) != len(old.Columns) {
			t.Fatalf("row width %d under the old schema", len(it.Row()))
		}
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
}

// Several feeds of one Apply, from one or more partitions.
func TestApplySeveralFeeds(t *testing.T) {
	s := tablestest.Open(t)
	tbl, _ := s.EnsureTable("d", "multi", pingCols)
	res, err := s.Apply(tbl, []tables.Feed{
		pingFeed(1, 0, 0, 4),
		pingFeed(1, 1, 0, 2),
		pingFeed(1, 0, 2, 6),              // overlaps the first feed of the same partition: 2, 3 skipped
		{Src: 2, Partition: 0, Next: 100}, // no records: only moves the offset
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 8 || res.Skipped != 2 {
		t.Fatalf("result %+v", res)
	}
	cases := []struct {
		src       uint32
		partition int32
		want      int64
	}{{1, 0, 6}, {1, 1, 2}, {2, 0, 100}}
	for _, c := range cases {
		if got, ok := s.TableOffset(tbl.ID, c.src, c.partition); !ok || got != c.want {
			t.Errorf("offset %d/%d = %d %v, want %d", c.src, c.partition, got, ok, c.want)
		}
	}
	if _, ok := s.TableOffset(tbl.ID, 9, 9); ok {
		t.Error("offset of a partition never applied")
	}
	// A feed whose Next is behind the stored offset does not move it back.
	if _, err := s.Apply(tbl, []tables.Feed{{Src: 2, Partition: 0, Next: 50}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.TableOffset(tbl.ID, 2, 0); got != 100 {
		t.Fatalf("offset moved back to %d", got)
	}
}

// A failed Apply changes nothing, on disk or in memory.
func TestApplyErrorChangesNothing(t *testing.T) {
	s := tablestest.Open(t)
	tbl := tablestest.Load(t, s, "d", "t", pingCols, [][]schema.Value{ping(1, 1)})
	before := s.Stats(tbl)
	off, _ := s.TableOffset(tbl.ID, 1, 0)
	tooWide := tables.Feed{Src: 1, Next: 3, Records: []tables.Record{
		{Offset: 1, Values: ping(2, 2)},
		{Offset: 2, Values: []schema.Value{schema.TimestampMicros(3), schema.Int(3), schema.Str("extra")}},
	}}
	if _, err := s.Apply(tbl, []tables.Feed{tooWide}); err == nil || !strings.Contains(err.Error(), "3 values") {
		t.Fatalf("too many values: %v", err)
	}
	after := s.Stats(tbl)
	if after.Rows != before.Rows || after.Seq != before.Seq {
		t.Fatalf("stats changed: %+v -> %+v", before, after)
	}
	if got, _ := s.TableOffset(tbl.ID, 1, 0); got != off {
		t.Fatalf("offset changed %d -> %d", off, got)
	}
	if n := len(tablestest.Dump(t, s, "d", "t")); n != 1 {
		t.Fatalf("%d rows after a failed apply", n)
	}
	// The next Apply numbers its rows on from the last committed one.
	if _, err := s.Apply(tbl, []tables.Feed{pingFeed(1, 0, 1, 2)}); err != nil {
		t.Fatal(err)
	}
	rows := tablestest.Dump(t, s, "d", "t")
	if rows[1][0].I != 2 || rows[1][3].I != int64(before.Seq+1) {
		t.Fatalf("row_id %v tsd_id %v", rows[1][0], rows[1][3])
	}

	if err := s.DropTable("d", "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(tbl, []tables.Feed{pingFeed(1, 0, 2, 3)}); err == nil {
		t.Fatal("apply to a dropped table succeeded")
	}
	if err := s.DropTable("d", "t"); err == nil {
		t.Fatal("dropping a missing table succeeded")
	}
}

func TestErrorTable(t *testing.T) {
	dir := t.TempDir()
	s, err := tables.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureTable("lsl_demo", "ping_sensor", pingCols); err != nil {
		t.Fatal(err)
	}
	et, err := s.EnsureTable(tables.ErrorsDBMS, tables.ErrorsTable, tables.ErrorTableColumns)
	if err != nil {
		t.Fatal(err)
	}
	if got := et.Columns[et.TimeColumn].Name; got != "received_at" {
		t.Fatalf("error table time column %s", got)
	}
	raw := string([]byte{'{', '"', 'v', '"', ':', 0xff, 0xfe, '}'})
	received := time.Date(2026, 4, 15, 22, 21, 46, 223456000, time.UTC)
	f := tables.Feed{Src: 4, Partition: 2, Next: 8, Records: []tables.Record{{Offset: 7, Values: []schema.Value{
		schema.Str("consumer-1"), schema.Str("ping_data"), schema.Int(2), schema.Int(7),
		schema.Str("bad_json: invalid character"), schema.Timestamp(received), schema.Str(raw),
	}}}}
	if _, err := s.Apply(et, []tables.Feed{f}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = tablestest.OpenDir(t, dir)
	var names []string
	for _, tb := range s.Tables() {
		names = append(names, tb.FullName())
	}
	if want := []string{"lakenode.kafka_errors", "lsl_demo.ping_sensor"}; !slices.Equal(names, want) {
		t.Fatalf("tables %v, want %v", names, want)
	}
	rows := tablestest.Dump(t, s, tables.ErrorsDBMS, tables.ErrorsTable)
	if len(rows) != 1 {
		t.Fatalf("%d error rows", len(rows))
	}
	r := rows[0]
	et, _ = s.Table(tables.ErrorsDBMS, tables.ErrorsTable)
	if r[et.ColumnIndex("message")].S != raw || r[et.ColumnIndex("offset")].I != 7 || !r[et.ColumnIndex("received_at")].Time().Equal(received) {
		t.Fatalf("error row %v", r)
	}
	if off, ok := s.TableOffset(et.ID, 4, 2); !ok || off != 8 {
		t.Fatalf("error table offset %d %v", off, ok)
	}
}

func TestCatalogListing(t *testing.T) {
	s := tablestest.Open(t)
	for _, n := range [][2]string{{"b", "x"}, {"a_b", "z"}, {"a", "y"}, {"a", "b"}, {"b", "a"}} {
		if _, err := s.EnsureTable(n[0], n[1], pingCols); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, tb := range s.Tables() {
		names = append(names, tb.FullName())
	}
	if want := []string{"a.b", "a.y", "a_b.z", "b.a", "b.x"}; !slices.Equal(names, want) {
		t.Fatalf("tables %v, want %v", names, want)
	}
	if got := s.DBMSs(); !slices.Equal(got, []string{"a", "a_b", "b"}) {
		t.Fatalf("dbms %v", got)
	}
	if _, ok := s.Table("a", "nope"); ok {
		t.Fatal("found a missing table")
	}
	if _, err := s.EnsureTable("", "t", pingCols); err == nil {
		t.Fatal("created a table without a dbms")
	}
	// Tables returns a copy: changing it does not change the catalog.
	list := s.Tables()
	list[0] = nil
	if s.Tables()[0] == nil {
		t.Fatal("Tables shares its slice")
	}
	var se *tables.SchemaError
	err := s.PlanColumns("a", "b", []schema.Column{{Name: "timestamp", Type: schema.TypeString}})
	if !errors.As(err, &se) || se.Table != "a.b" || se.Existing != schema.TypeTimestamp || se.Declared != schema.TypeString {
		t.Fatalf("clash %#v", err)
	}
	for _, part := range []string{"a.b", "timestamp", "timestamp", "str"} {
		if !strings.Contains(err.Error(), part) {
			t.Fatalf("%q does not name %s", err, part)
		}
	}
}

// A scan stops with the context's error once the context ends.
func TestScanStopsOnContext(t *testing.T) {
	s := tablestest.Open(t)
	rows := make([][]schema.Value, 10000)
	for i := range rows {
		rows[i] = ping(int64(i), int64(i))
	}
	tbl := tablestest.Load(t, s, "d", "big", pingCols, rows)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	it, err := s.Scan(ctx, tbl, tables.TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = it.Close() }()
	n := 0
	for it.Next() {
		n++
		if n == 10 {
			cancel()
		}
	}
	if !errors.Is(it.Err(), context.Canceled) || n >= len(rows) {
		t.Fatalf("read %d rows, err %v", n, it.Err())
	}
}

// Below the minimum free space Apply refuses with a *DiskFullError and
// writes nothing: no rows, no offsets.
func TestApplyRefusedOnFullDisk(t *testing.T) {
	dir := t.TempDir()
	s, err := tables.Open(dir, tables.WithMinFree(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tbl, err := s.EnsureTable("d", "t", pingCols)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Apply(tbl, []tables.Feed{pingFeed(1, 0, 0, 3)})
	var full *tables.DiskFullError
	if !errors.As(err, &full) || !strings.Contains(err.Error(), "disk full (") || !strings.Contains(err.Error(), "--min-free") {
		t.Fatalf("Apply on a full disk: %v", err)
	}
	if st := s.Space().Status(); !st.Full || st.Min != 1<<62 {
		t.Fatalf("space status %+v", st)
	}
	if n := s.Stats(tbl).Rows; n != 0 {
		t.Fatalf("%d rows written on a full disk", n)
	}
	if _, ok := s.TableOffset(tbl.ID, 1, 0); ok {
		t.Fatal("an offset was stored on a full disk")
	}
}
