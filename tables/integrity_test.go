package tables

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/lakenode/lakenode/tables/schema"
)

// damageRows is enough rows for the table to span many data blocks, so a
// byte flipped in the middle of its .sst lies in row data only.
const damageRows = 20000

// seedDir makes a data dir with one table of damageRows rows flushed to
// .sst files, stopped cleanly, and returns the table.
func seedDir(t *testing.T, dir string) *schema.Table {
	t.Helper()
	s, err := Open(dir, WithCacheSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := s.EnsureTable("plant", "ping", []schema.Column{{Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "v", Type: schema.TypeString}})
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < damageRows; b += 1000 {
		f := Feed{Src: 1, Partition: 0, Next: int64(b + 1000)}
		for i := b; i < b+1000; i++ {
			f.Records = append(f.Records, Record{Offset: int64(i), Values: []schema.Value{schema.TimestampMicros(int64(i) * 1e6), schema.Str(strings.Repeat("x", 40))}})
		}
		if _, err := s.Apply(tbl, []Feed{f}); err != nil {
			t.Fatal(err)
		}
		if b == damageRows/2 {
			if err := s.db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return tbl
}

// listing is every file under dir with its size.
func listing(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fi.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func filesLike(t *testing.T, dir, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(m) == 0 {
		t.Fatalf("no %s in %s (%v)", pattern, dir, err)
	}
	sort.Strings(m)
	return m
}

// biggest is the largest file matching pattern.
func biggest(t *testing.T, dir, pattern string) string {
	t.Helper()
	var best string
	var size int64 = -1
	for _, f := range filesLike(t, dir, pattern) {
		if fi, err := os.Stat(f); err == nil && fi.Size() > size {
			best, size = f, fi.Size()
		}
	}
	return best
}

func truncateBy(t *testing.T, path string, newSize func(int64) int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, newSize(fi.Size())); err != nil {
		t.Fatal(err)
	}
}

func flipAt(t *testing.T, path string, at func(int64) int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := at(int64(len(b)))
	for j := i; j < i+8 && j < int64(len(b)); j++ {
		b[j] ^= 0xff
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// noTrace fails when msg looks like a stack trace or spans lines.
func noTrace(t *testing.T, msg string) {
	t.Helper()
	for _, bad := range []string{"\n", "goroutine ", ".go:", "panic"} {
		if strings.Contains(msg, bad) {
			t.Fatalf("error carries %q: %s", bad, msg)
		}
	}
}

func TestDamagedDirIsRefusedAndKeptWhole(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		file   string // expected in the error
	}{
		{"manifest truncated by 1 byte", func(t *testing.T, dir string) {
			truncateBy(t, filesLike(t, dir, "MANIFEST-*")[0], func(n int64) int64 { return n - 1 })
		}, "MANIFEST-"},
		{"manifest truncated to half", func(t *testing.T, dir string) {
			truncateBy(t, filesLike(t, dir, "MANIFEST-*")[0], func(n int64) int64 { return n / 2 })
		}, "MANIFEST-"},
		{"manifest truncated to 40 bytes", func(t *testing.T, dir string) {
			truncateBy(t, filesLike(t, dir, "MANIFEST-*")[0], func(int64) int64 { return 40 })
		}, "MANIFEST-"},
		{"manifest truncated to 0 bytes", func(t *testing.T, dir string) {
			truncateBy(t, filesLike(t, dir, "MANIFEST-*")[0], func(int64) int64 { return 0 })
		}, "MANIFEST-"},
		{"manifest marker deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filesLike(t, dir, "marker.manifest.*")[0]); err != nil {
				t.Fatal(err)
			}
		}, "marker.manifest"},
		{"sst truncated", func(t *testing.T, dir string) {
			truncateBy(t, biggest(t, dir, "*.sst"), func(n int64) int64 { return n - 100 })
		}, ".sst"},
		{"sst footer flipped", func(t *testing.T, dir string) {
			flipAt(t, biggest(t, dir, "*.sst"), func(n int64) int64 { return n - 20 })
		}, ".sst"},
		{"options garbled", func(t *testing.T, dir string) {
			if err := os.WriteFile(filesLike(t, dir, "OPTIONS-*")[0], []byte("[Options]\n  comparer=not-leveldb\n\x00\xff garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "OPTIONS-"},
		{"options replaced by garbage", func(t *testing.T, dir string) {
			if err := os.WriteFile(filesLike(t, dir, "OPTIONS-*")[0], []byte("\x00\xff\x13 [[[ garbage ]\n=\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "OPTIONS-"},
		{"record garbled", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, RecordFile), []byte("{\"format\": 1, \"tab"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, RecordFile},
		{"every database file gone", func(t *testing.T, dir string) {
			for _, pat := range []string{"*.sst", "MANIFEST-*", "marker.*", "OPTIONS-*", "*.log"} {
				m, _ := filepath.Glob(filepath.Join(dir, pat))
				for _, f := range m {
					if err := os.Remove(f); err != nil {
						t.Fatal(err)
					}
				}
			}
		}, RecordFile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			seedDir(t, dir)
			tc.damage(t, dir)
			before := listing(t, dir)
			for range 2 { // a second try finds the same, since nothing changed
				s, err := Open(dir, WithCacheSize(1<<20))
				if err == nil {
					n := len(s.Tables())
					_ = s.Close()
					t.Fatalf("a damaged dir opened (%d tables)", n)
				}
				var de *DamageError
				if !errors.As(err, &de) {
					t.Fatalf("error is %T, not *DamageError: %v", err, err)
				}
				if !strings.Contains(de.File, tc.file) || !strings.Contains(err.Error(), tc.file) {
					t.Fatalf("error names %q, want %q: %v", de.File, tc.file, err)
				}
				noTrace(t, err.Error())
				if after := listing(t, dir); !equalListing(before, after) {
					t.Fatalf("files changed:\nbefore %v\nafter  %v", before, after)
				}
			}
			rep, err := Check(dir)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Damage == nil || !strings.Contains(rep.Damage.Error(), tc.file) {
				t.Fatalf("Check did not report the damage: %+v", rep)
			}
			if after := listing(t, dir); !equalListing(before, after) {
				t.Fatalf("Check changed files:\nbefore %v\nafter  %v", before, after)
			}
			t.Log(rep.Damage)
		})
	}
}

// equalListing compares listings, ignoring the LOCK file (Pebble's lock
// creates it when it is missing).
func equalListing(a, b map[string]int64) bool {
	delete(a, "LOCK")
	delete(b, "LOCK")
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestFlippedRowBlockIsAClearQueryError(t *testing.T) {
	dir := t.TempDir()
	tbl := seedDir(t, dir)
	flipAt(t, biggest(t, dir, "*.sst"), func(n int64) int64 { return n / 3 })
	s, err := Open(dir, WithCacheSize(1<<20))
	if err != nil {
		t.Fatalf("the catalog lies outside the flipped block, so the dir opens: %v", err)
	}
	defer func() { _ = s.Close() }()
	it, err := s.Scan(context.Background(), tbl, TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		n++
	}
	_ = it.Close()
	if it.Err() == nil {
		t.Fatalf("scanned %d rows of a corrupt table without an error", n)
	}
	msg := it.Err().Error()
	noTrace(t, msg)
	if !strings.Contains(msg, ".sst") || !strings.Contains(msg, tbl.FullName()) {
		t.Fatalf("the error names neither the file nor the table: %s", msg)
	}
	t.Logf("after %d rows: %s", n, msg)
	_ = s.Close()
	rep, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damage == nil || !strings.Contains(rep.Damage.File, ".sst") {
		t.Fatalf("Check missed the flipped block: %+v", rep)
	}
}

func TestHealthyDirAndRecord(t *testing.T) {
	dir := t.TempDir()
	rep, err := Check(dir)
	if err != nil || !rep.New || rep.Damage != nil {
		t.Fatalf("an empty dir: %+v %v", rep, err)
	}
	tbl := seedDir(t, dir)
	rec, err := readRecord(vfsDefault, dir)
	if err != nil || rec == nil || !rec.CleanStop || len(rec.Tables) != 1 || rec.Tables[0].Commit != damageRows/1000 {
		t.Fatalf("record after a clean stop: %+v %v", rec, err)
	}
	rep, err = Check(dir)
	if err != nil || rep.Damage != nil || rep.Tables != 1 || len(rep.Unreferenced) != 0 {
		t.Fatalf("a healthy dir: %+v %v", rep, err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(tbl); st.Rows != damageRows {
		t.Fatalf("rows = %d", st.Rows)
	}
	if rec, _ := readRecord(vfsDefault, dir); rec.CleanStop || rec.Event != "open" {
		t.Fatalf("record while open: %+v", rec)
	}
	if err := s.DropTable("plant", "ping"); err != nil {
		t.Fatal(err)
	}
	if rec, _ := readRecord(vfsDefault, dir); len(rec.Tables) != 0 || rec.Event != "drop" {
		t.Fatalf("record after drop: %+v", rec)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatalf("reopening after a drop: %v", err)
	}
	_ = s.Close()
}

// An unclean stop may leave .sst files no version references (a flush or
// compaction cut short): they are moved aside, not deleted, and the dir
// opens.
func TestUnreferencedAfterUncleanStopMovedAside(t *testing.T) {
	dir := t.TempDir()
	seedDir(t, dir)
	stray := filepath.Join(dir, "999999.sst")
	if err := os.WriteFile(stray, []byte("half a compaction output"), 0o644); err != nil {
		t.Fatal(err)
	}
	// After a clean stop that is damage.
	if s, err := Open(dir); err == nil {
		_ = s.Close()
		t.Fatal("an unreferenced .sst after a clean stop was accepted")
	} else if !strings.Contains(err.Error(), "999999.sst") {
		t.Fatalf("error does not name the file: %v", err)
	}
	rec, _ := readRecord(vfsDefault, dir)
	rec.CleanStop = false
	if err := writeRecord(vfsDefault, dir, rec); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if _, err := os.Stat(filepath.Join(dir, UnreferencedDir, "999999.sst")); err != nil {
		t.Fatalf("the stray file was not kept aside: %v", err)
	}
}

var vfsDefault = vfs.Default

// Rows only in the WAL, and the WAL deleted: the database is behind the
// record written at the clean stop.
func TestStoreBehindRecordIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, WithCacheSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := s.EnsureTable("plant", "ping", []schema.Column{{Name: "v", Type: schema.TypeInt}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Flush(); err != nil { // the schema is in an .sst
		t.Fatal(err)
	}
	for i := range 3 {
		f := Feed{Src: 1, Next: int64(i + 1), Records: []Record{{Offset: int64(i), Values: []schema.Value{schema.Int(int64(i))}}}}
		if _, err := s.Apply(tbl, []Feed{f}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range filesLike(t, dir, "*.log") {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	before := listing(t, dir)
	_, err = Open(dir)
	var de *DamageError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "plant.ping is at commit 0") || !strings.Contains(err.Error(), "says 3") {
		t.Fatalf("a store behind its record: %v", err)
	}
	noTrace(t, err.Error())
	if !equalListing(before, listing(t, dir)) {
		t.Fatal("files changed")
	}
}

// A backup opens as a sound store with the same rows, tables and offsets,
// and the record it carries.
func TestBackupOpensWithItsOffsets(t *testing.T) {
	dir, dest := t.TempDir(), filepath.Join(t.TempDir(), "b1")
	tbl := seedDir(t, dir)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Backup(dest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(dest); err == nil {
		t.Fatal("a backup over an existing dir was accepted")
	}
	_ = s.Close()
	if info.Tables != 1 || info.Files < 4 {
		t.Fatalf("info %+v", info)
	}
	if rep, err := Check(dest); err != nil || rep.Damage != nil || rep.Tables != 1 {
		t.Fatalf("check of the backup: %+v %v", rep, err)
	}
	b, err := Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	if st := b.Stats(tbl); st.Rows != damageRows {
		t.Fatalf("rows in the backup: %d", st.Rows)
	}
	if off, ok := b.TableOffset(tbl.ID, 1, 0); !ok || off != damageRows {
		t.Fatalf("offset in the backup: %d %v", off, ok)
	}
}
