package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// TestCheck: exit 0 with "sound" on a healthy data dir, 1 with a report
// naming the file on a damaged one, and the dir left as it was.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	check := func() (int, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"check", "--data-dir", dir}, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	if code, out := check(); code != 0 || !strings.Contains(out, "no database yet") {
		t.Fatalf("empty dir: exit %d: %s", code, out)
	}
	s, err := tables.Open(dir, tables.WithCacheSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureTable("plant", "ping", []schema.Column{{Name: "v", Type: schema.TypeInt}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if code, out := check(); code != 0 || !strings.Contains(out, "sound: 1 table(s)") {
		t.Fatalf("healthy dir: exit %d: %s", code, out)
	}
	markers, _ := filepath.Glob(filepath.Join(dir, "marker.manifest.*"))
	if len(markers) != 1 {
		t.Fatalf("markers: %v", markers)
	}
	if err := os.Remove(markers[0]); err != nil {
		t.Fatal(err)
	}
	code, out := check()
	if code != 1 || !strings.Contains(out, "DAMAGED: marker.manifest.*: missing") {
		t.Fatalf("damaged dir: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, tables.RecordFile)); err != nil {
		t.Fatalf("check removed the record: %v", err)
	}
	t.Log(out)
}
