package tables

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/lakenode/lakenode/tables/schema"
)

// countingFS counts the bytes written to and the syncs of the record's
// files (RecordFile, its temporary file, RecordLog).
type countingFS struct {
	vfs.FS
	bytes, syncs int
	// failWrites > 0 makes that many writes of the record's files write
	// half their bytes and fail (a disk full).
	failWrites int
}

func isRecordFile(name string) bool {
	switch filepath.Base(name) {
	case RecordFile, RecordFile + ".tmp", RecordLog:
		return true
	}
	return false
}

func (c *countingFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := c.FS.Create(name, cat)
	if err != nil || !isRecordFile(name) {
		return f, err
	}
	return &countingFile{File: f, fs: c}, nil
}

type countingFile struct {
	vfs.File
	fs *countingFS
}

func (f *countingFile) Write(p []byte) (int, error) {
	if f.fs.failWrites > 0 {
		f.fs.failWrites--
		n, _ := f.File.Write(p[:len(p)/2])
		return n, errors.New("no space left on device")
	}
	f.fs.bytes += len(p)
	return f.File.Write(p)
}

func (f *countingFile) Sync() error {
	f.fs.syncs++
	return f.File.Sync()
}

// createCosts creates n tables and returns the bytes written to the
// record's files and their syncs for each creation.
func createCosts(t *testing.T, n int) (bytes, syncs []int) {
	t.Helper()
	fs := &countingFS{FS: vfs.NewMem()}
	s, err := Open("/d", WithFS(fs), WithCacheSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	cols := []schema.Column{{Name: "v", Type: schema.TypeInt}}
	for i := range n {
		b0, s0 := fs.bytes, fs.syncs
		if _, err := s.EnsureTable("plant", fmt.Sprintf("t%05d", i), cols); err != nil {
			t.Fatal(err)
		}
		bytes, syncs = append(bytes, fs.bytes-b0), append(syncs, fs.syncs-s0)
	}
	return bytes, syncs
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// A table creation writes the same few bytes to the record however many
// tables there are: one line of the log and one sync, not the whole record.
func TestCreateCostDoesNotGrowWithTables(t *testing.T) {
	bytes, syncs := createCosts(t, 2000)
	first := bytes[1]
	for i := 1; i < len(bytes); i++ {
		if bytes[i] < first-16 || bytes[i] > first+16 || syncs[i] != 1 {
			t.Fatalf("creation %d wrote %d bytes to the record with %d syncs; creation 1 wrote %d with 1", i, bytes[i], syncs[i], first)
		}
	}
	if first > 200 {
		t.Fatalf("a creation wrote %d bytes to the record", first)
	}
	t.Logf("bytes per creation: first %d (with the log's header), then %d–%d", bytes[0], first, slices.Max(bytes[1:]))
}

// With the record rewritten whole whenever the log is as long as it, the
// bytes per creation stay constant on average: the second thousand tables
// cost about what the first did (rewriting the record at each creation
// made it three times as much).
func TestCreateCostWithCompactionsDoesNotGrow(t *testing.T) {
	defer func(n int) { logCompactMin = n }(logCompactMin)
	logCompactMin = 16
	bytes, syncs := createCosts(t, 2000)
	a, b := sum(bytes[:1000]), sum(bytes[1000:])
	if float64(b) > 1.5*float64(a) {
		t.Fatalf("the second 1,000 creations wrote %d bytes to the record, the first %d", b, a)
	}
	if sa, sb := sum(syncs[:1000]), sum(syncs[1000:]); sb > sa {
		t.Fatalf("the second 1,000 creations synced %d times, the first %d", sb, sa)
	}
	t.Logf("record bytes: %d for the first 1,000 creations, %d for the second", a, b)
}

func TestReplayLog(t *testing.T) {
	base := func() *record {
		return &record{Format: 1, Event: "open", LogGen: 3, Tables: []recordTable{{DBMS: "d", Name: "a", ID: 1, Commit: 7}, {DBMS: "d", Name: "b", ID: 2, Commit: 9}}}
	}
	const head = `{"log_gen":3}` + "\n"
	create := func(name string, id int) string {
		return fmt.Sprintf(`{"event":"create","dbms":"d","name":%q,"id":%d,"at":"2026-12-06T10:00:00Z"}`+"\n", name, id)
	}
	drop := func(name string, id int) string {
		return fmt.Sprintf(`{"event":"drop","dbms":"d","name":%q,"id":%d,"at":"2026-12-06T10:00:01Z"}`+"\n", name, id)
	}
	for _, c := range []struct {
		name, log string
		want      string // the tables after, "name:id:commit ..."; "" when an error is wanted
		event     string
		problem   string
	}{
		{"empty", "", "a:1:7 b:2:9", "open", ""},
		{"only the header", head, "a:1:7 b:2:9", "open", ""},
		{"a torn header", `{"log_g`, "a:1:7 b:2:9", "open", ""},
		{"creates", head + create("c", 3) + create("e", 4), "a:1:7 b:2:9 c:3:0 e:4:0", "create", ""},
		{"a drop", head + create("c", 3) + drop("a", 1), "b:2:9 c:3:0", "drop", ""},
		{"a created table dropped", head + create("c", 3) + drop("c", 3), "a:1:7 b:2:9", "drop", ""},
		{"a torn last line is ignored", head + create("c", 3) + strings.TrimSuffix(drop("a", 1), "}\n"), "a:1:7 b:2:9 c:3:0", "create", ""},
		{"a stale generation is ignored", `{"log_gen":2}` + "\n" + drop("a", 1), "a:1:7 b:2:9", "open", ""},
		{"a newer generation", `{"log_gen":4}` + "\n" + drop("a", 1), "", "", "older than its log"},
		{"no header", create("c", 3), "", "", "line 1 is not the log's header"},
		{"a damaged middle line", head + create("c", 3)[:20] + "\n" + create("e", 4), "", "", "line 2 is not a table created or dropped"},
		{"an unknown event", head + strings.Replace(create("c", 3), "create", "rename", 1), "", "", "line 2 is not a table created or dropped"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := base()
			err := replayLog(r, []byte(c.log))
			if c.problem != "" {
				if err == nil || !strings.Contains(err.Error(), c.problem) {
					t.Fatalf("err = %v, want %q", err, c.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rt := range r.Tables {
				got = append(got, fmt.Sprintf("%s:%d:%d", rt.Name, rt.ID, rt.Commit))
			}
			if g := strings.Join(got, " "); g != c.want || r.Event != c.event {
				t.Fatalf("tables %q event %q, want %q %q", g, r.Event, c.want, c.event)
			}
		})
	}
}

// After a crash the record read back is the one written at open plus the
// log's lines: a dir whose tables match opens; one whose database lost a
// table created since (its WAL gone) is refused, naming the table.
func TestRecordLogAfterCrash(t *testing.T) {
	mem := vfs.NewCrashableMem()
	s, err := Open("/d", WithFS(mem), WithCacheSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Flush(); err != nil { // the format key is in an .sst
		t.Fatal(err)
	}
	cols := []schema.Column{{Name: "v", Type: schema.TypeInt}}
	for _, n := range []string{"a", "b", "c"} {
		if _, err := s.EnsureTable("plant", n, cols); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DropTable("plant", "b"); err != nil {
		t.Fatal(err)
	}
	crashed := func() vfs.FS { return mem.CrashClone(vfs.CrashCloneCfg{}) }

	fs := crashed()
	rec, err := readRecord(fs, "/d")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Tables) != 2 || rec.Tables[0].Name != "a" || rec.Tables[1].Name != "c" || rec.Event != "drop" || rec.CleanStop {
		t.Fatalf("record after the crash: %+v", rec)
	}
	s2, err := Open("/d", WithFS(fs), WithCacheSize(1<<20))
	if err != nil {
		t.Fatalf("a sound dir after a crash: %v", err)
	}
	if got := len(s2.Tables()); got != 2 {
		t.Fatalf("%d tables after the crash", got)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat("/d/" + RecordLog); err == nil {
		t.Fatal("the log outlived a clean stop")
	}

	// The schemas are only in the WAL: without it the database lacks them.
	fs = crashed()
	ls, _ := fs.List("/d")
	for _, name := range ls {
		if strings.HasSuffix(name, ".log") {
			if err := fs.Remove("/d/" + name); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err = Open("/d", WithFS(fs), WithCacheSize(1<<20))
	var de *DamageError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "plant.a") || !strings.Contains(err.Error(), RecordLog) {
		t.Fatalf("a database that lost tables of the log: %v", err)
	}
	t.Log(err)
	if _, err := fs.Stat("/d/" + RecordLog); err != nil {
		t.Fatalf("the refused open changed the log: %v", err)
	}
	_ = s.Close()
}

// An append that fails part way (disk full) leaves half a line; the next
// change writes the record whole, so the half line is never read as
// damage and no change is lost.
func TestRecordLogAfterFailedAppend(t *testing.T) {
	mem := vfs.NewCrashableMem()
	fs := &countingFS{FS: mem}
	s, err := Open("/d", WithFS(fs), WithCacheSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	cols := []schema.Column{{Name: "v", Type: schema.TypeInt}}
	for _, n := range []string{"a", "b"} {
		if _, err := s.EnsureTable("plant", n, cols); err != nil {
			t.Fatal(err)
		}
	}
	fs.failWrites = 1
	if _, err := s.EnsureTable("plant", "c", cols); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("a failed append: %v", err)
	}
	// The whole record fails too while the disk stays full.
	fs.failWrites = 1
	if err := s.DropTable("plant", "a"); err == nil {
		t.Fatal("a drop whose record could not be written was committed")
	}
	if _, err := s.EnsureTable("plant", "e", cols); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureTable("plant", "f", cols); err != nil {
		t.Fatal(err)
	}
	rec, err := readRecord(mem.CrashClone(vfs.CrashCloneCfg{}), "/d")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, rt := range rec.Tables {
		names = append(names, rt.Name)
	}
	if got := strings.Join(names, " "); got != "a b c e f" {
		t.Fatalf("record after the failures: %s", got)
	}
}
