package tables_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

var pingCols = []schema.Column{
	{Name: "timestamp", Type: schema.TypeTimestamp},
	{Name: "value", Type: schema.TypeInt},
}

func ping(ts int64, v int64) []schema.Value {
	return []schema.Value{schema.TimestampMicros(ts), schema.Int(v)}
}

func TestEnsureTableCreateExtendClash(t *testing.T) {
	s := tablestest.Open(t)
	tbl, err := s.EnsureTable("lsl_demo", "ping_sensor", pingCols)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(tbl.Columns); got != schema.NumSystemColumns+2 {
		t.Fatalf("columns = %d", got)
	}
	if tbl.Columns[tbl.TimeColumn].Name != "timestamp" {
		t.Fatalf("time column = %s", tbl.Columns[tbl.TimeColumn].Name)
	}
	ext, err := s.EnsureTable("lsl_demo", "ping_sensor", []schema.Column{{Name: "device", Type: schema.TypeString}, {Name: "value", Type: schema.TypeInt}})
	if err != nil {
		t.Fatal(err)
	}
	if ext.Version != tbl.Version+1 || ext.ColumnIndex("device") != schema.NumSystemColumns+2 {
		t.Fatalf("extended: version %d, device at %d", ext.Version, ext.ColumnIndex("device"))
	}
	clash := []schema.Column{{Name: "value", Type: schema.TypeFloat}}
	var se *tables.SchemaError
	if err := s.PlanColumns("lsl_demo", "ping_sensor", clash); !errors.As(err, &se) || se.Column != "value" {
		t.Fatalf("PlanColumns clash: %v", err)
	}
	if _, err := s.EnsureTable("lsl_demo", "ping_sensor", clash); !errors.As(err, &se) {
		t.Fatalf("EnsureTable clash: %v", err)
	}
	if cur, _ := s.Table("lsl_demo", "ping_sensor"); cur.Version != ext.Version {
		t.Fatal("a clash changed the schema")
	}
	if err := s.PlanColumns("x", "y", []schema.Column{{Name: "row_id", Type: schema.TypeInt}}); err == nil {
		t.Fatal("a system column name was accepted")
	}
	// An insert_timestamp table keeps it as its time column.
	t2, err := s.EnsureTable("d", "no_time", []schema.Column{{Name: "v", Type: schema.TypeInt}})
	if err != nil {
		t.Fatal(err)
	}
	if t2.Columns[t2.TimeColumn].Name != schema.ColInsertTimestamp {
		t.Fatalf("time column = %s", t2.Columns[t2.TimeColumn].Name)
	}
}

func TestApplySkipsReplayAndPersists(t *testing.T) {
	dir := t.TempDir()
	s, err := tables.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tbl, _ := s.EnsureTable("d", "t", pingCols)
	feed := func(from, to int64) tables.Feed {
		f := tables.Feed{Src: 3, Partition: 1, Next: to}
		for o := from; o < to; o++ {
			f.Records = append(f.Records, tables.Record{Offset: o, Values: ping(o*1000, o)})
		}
		return f
	}
	res, err := s.Apply(tbl, []tables.Feed{feed(0, 10)})
	if err != nil || res.Rows != 10 || res.Skipped != 0 || res.Seq != 1 {
		t.Fatalf("first apply: %+v %v", res, err)
	}
	// A replay of 5..15 writes only 10..15.
	res, err = s.Apply(tbl, []tables.Feed{feed(5, 15)})
	if err != nil || res.Rows != 5 || res.Skipped != 5 {
		t.Fatalf("replay: %+v %v", res, err)
	}
	if off, ok := s.TableOffset(tbl.ID, 3, 1); !ok || off != 15 {
		t.Fatalf("offset = %d %v", off, ok)
	}
	if err := s.SetLowWater(3, 1, 15); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = tablestest.OpenDir(t, dir)
	tbl, _ = s.Table("d", "t")
	if off, ok := s.TableOffset(tbl.ID, 3, 1); !ok || off != 15 {
		t.Fatalf("offset after reopen = %d %v", off, ok)
	}
	if lwm, ok := s.LowWater(3, 1); !ok || lwm != 15 {
		t.Fatalf("low water after reopen = %d %v", lwm, ok)
	}
	res, err = s.Apply(tbl, []tables.Feed{feed(0, 16)})
	if err != nil || res.Rows != 1 || res.Skipped != 15 || res.Seq != 3 {
		t.Fatalf("after reopen: %+v %v", res, err)
	}
	rows := tablestest.Dump(t, s, "d", "t")
	if len(rows) != 16 {
		t.Fatalf("rows = %d", len(rows))
	}
	for i, r := range rows {
		if r[0].I != int64(i+1) {
			t.Fatalf("row %d: row_id %d", i, r[0].I)
		}
		if r[schema.NumSystemColumns+1].I != int64(i) {
			t.Fatalf("row %d: value %v", i, r[schema.NumSystemColumns+1])
		}
	}
	if st := s.Stats(tbl); st.Rows != 16 || st.MinTime != 0 || st.MaxTime != 15000 || st.Seq != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestScanTimeRangeAndNulls(t *testing.T) {
	s := tablestest.Open(t)
	rows := [][]schema.Value{
		ping(3000, 3), ping(-5000, -5), ping(1000, 1),
		{schema.Null, schema.Int(0)}, // NULL time sorts at 0
		ping(2000, 2),
	}
	tbl := tablestest.Load(t, s, "d", "t", pingCols, rows)
	cases := []struct {
		r    tables.TimeRange
		want []int64
	}{
		{tables.TimeRange{}, []int64{-5, 0, 1, 2, 3}},
		{tables.TimeRange{From: 1000, HasFrom: true}, []int64{1, 2, 3}},
		{tables.TimeRange{To: 2000, HasTo: true}, []int64{-5, 0, 1}},
		{tables.TimeRange{From: 0, To: 2001, HasFrom: true, HasTo: true}, []int64{0, 1, 2}},
	}
	for _, c := range cases {
		it, err := s.Scan(context.Background(), tbl, c.r)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for it.Next() {
			got = append(got, it.Row()[schema.NumSystemColumns+1].I)
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		_ = it.Close()
		if fmt.Sprint(got) != fmt.Sprint(c.want) || it.Scanned() != int64(len(c.want)) {
			t.Errorf("range %+v: got %v (scanned %d), want %v", c.r, got, it.Scanned(), c.want)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	s := tablestest.Open(t)
	cols := []schema.Column{
		{Name: "s", Type: schema.TypeString}, {Name: "i", Type: schema.TypeInt}, {Name: "f", Type: schema.TypeFloat},
		{Name: "ts", Type: schema.TypeTimestamp}, {Name: "b", Type: schema.TypeBool},
	}
	rows := [][]schema.Value{
		{schema.Str(`O'Brien "quoted" C:\temp\new — é 漢字 🎉`), schema.Int(-1 << 62), schema.Float(1e-05), schema.TimestampMicros(1776294106000000), schema.Bool(true)},
		{schema.Str(string([]byte{0xff, 0x00, 0xfe})), schema.Int(0), schema.Float(-0.5), schema.TimestampMicros(-1), schema.Bool(false)},
		{schema.Null, schema.Null, schema.Null, schema.Null, schema.Null},
		{schema.Str("short")}, // shorter than the table: trailing NULLs
	}
	tablestest.Load(t, s, "d", "codec", cols, rows)
	got := tablestest.Dump(t, s, "d", "codec")
	if len(got) != len(rows) {
		t.Fatalf("rows = %d", len(got))
	}
	byFirst := map[string]schema.Row{}
	for _, r := range got {
		byFirst[r[schema.NumSystemColumns].S+fmt.Sprint(r[schema.NumSystemColumns].Type)] = r[schema.NumSystemColumns:]
	}
	for _, want := range rows {
		full := make([]schema.Value, len(cols))
		copy(full, want)
		r, ok := byFirst[full[0].S+fmt.Sprint(full[0].Type)]
		if !ok {
			t.Fatalf("row %v missing", want)
		}
		for i := range full {
			if r[i] != full[i] {
				t.Errorf("column %s: got %#v want %#v", cols[i].Name, r[i], full[i])
			}
		}
	}
}

func TestRefusesNewerFormatAndLockedDir(t *testing.T) {
	dir := t.TempDir()
	s := tablestest.OpenDir(t, dir)
	if _, err := tables.Open(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("a second Open of a held dir: %v", err)
	}
	_ = s.Close()
	db, err := pebble.Open(dir, &pebble.Options{FormatMajorVersion: pebble.FormatNewest, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte("m/format"), binary.BigEndian.AppendUint32(nil, tables.FormatVersion+1), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if _, err := tables.Open(dir); err == nil || !strings.Contains(err.Error(), "newer lakenode") {
		t.Fatalf("newer format: %v", err)
	}
}

func TestSourceIDsAndDrop(t *testing.T) {
	dir := t.TempDir()
	s, _ := tables.Open(dir)
	a, _ := s.SourceID("c1", "t1")
	b, _ := s.SourceID("c1", "t2")
	a2, _ := s.SourceID("c1", "t1")
	if a == b || a != a2 {
		t.Fatalf("ids %d %d %d", a, b, a2)
	}
	tablestest.Load(t, s, "d", "gone", pingCols, [][]schema.Value{ping(1, 1)})
	if err := s.DropTable("d", "gone"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Table("d", "gone"); ok {
		t.Fatal("dropped table still listed")
	}
	_ = s.Close()
	s = tablestest.OpenDir(t, dir)
	if c, _ := s.SourceID("c1", "t2"); c != b {
		t.Fatalf("source id after reopen = %d, want %d", c, b)
	}
	if _, ok := s.Table("d", "gone"); ok {
		t.Fatal("dropped table back after reopen")
	}
	tbl := tablestest.Load(t, s, "d", "gone", pingCols, [][]schema.Value{ping(2, 2)})
	if n := len(tablestest.Dump(t, s, "d", "gone")); n != 1 || s.Stats(tbl).Rows != 1 {
		t.Fatalf("recreated table has %d rows", n)
	}
}

func TestConcurrentApply(t *testing.T) {
	s := tablestest.Open(t)
	var wg sync.WaitGroup
	for k := range 4 {
		tbl, err := s.EnsureTable("d", fmt.Sprintf("t%d", k), pingCols)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range 20 {
				f := tables.Feed{Src: 1, Partition: int32(k), Next: int64(b+1) * 50}
				for o := b * 50; o < (b+1)*50; o++ {
					f.Records = append(f.Records, tables.Record{Offset: int64(o), Values: ping(time.Now().UnixMicro(), int64(o))})
				}
				if _, err := s.Apply(tbl, []tables.Feed{f}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for k := range 4 {
		if n := len(tablestest.Dump(t, s, "d", fmt.Sprintf("t%d", k))); n != 1000 {
			t.Errorf("t%d: %d rows", k, n)
		}
	}
}

func TestRetentionExpire(t *testing.T) {
	dir := t.TempDir()
	s, err := tables.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]schema.Value
	for i := range 10 {
		rows = append(rows, ping(int64(i)*1000, int64(i)))
	}
	tbl := tablestest.Load(t, s, "d", "r", pingCols, rows)
	if _, err := s.SetRetention("d", "r", 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	n, err := s.Expire(context.Background(), tbl, 4000)
	if err != nil || n != 4 {
		t.Fatalf("expired %d, %v", n, err)
	}
	if st := s.Stats(tbl); st.Rows != 6 || st.MinTime != 4000 {
		t.Fatalf("stats after expiry %+v", st)
	}
	if got := tablestest.Dump(t, s, "d", "r"); len(got) != 6 || got[0][schema.NumSystemColumns+1].I != 4 {
		t.Fatalf("rows after expiry: %d", len(got))
	}
	_ = s.Close()
	s = tablestest.OpenDir(t, dir)
	tbl, _ = s.Table("d", "r")
	if tbl.Retention != 48*time.Hour || s.Stats(tbl).Rows != 6 {
		t.Fatalf("after reopen: retention %v rows %d", tbl.Retention, s.Stats(tbl).Rows)
	}
}

// quietLogger keeps a bare pebble.Open in a test from printing.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)           {}
func (quietLogger) Errorf(string, ...any)          {}
func (quietLogger) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
