package node

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// TestCheckDataDir: sound with "sound" on a healthy data dir, not sound
// with a report naming the file on a damaged one, and the dir left as it
// was.
func TestCheckDataDir(t *testing.T) {
	dir := t.TempDir()
	check := func() (bool, string) {
		var out bytes.Buffer
		sound, err := CheckDataDir(dir, &out)
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		return sound, out.String()
	}
	if sound, out := check(); !sound || !strings.Contains(out, "no database yet") {
		t.Fatalf("empty dir: sound %v: %s", sound, out)
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
	if sound, out := check(); !sound || !strings.Contains(out, "sound: 1 table(s)") {
		t.Fatalf("healthy dir: sound %v: %s", sound, out)
	}
	markers, _ := filepath.Glob(filepath.Join(dir, "marker.manifest.*"))
	if len(markers) != 1 {
		t.Fatalf("markers: %v", markers)
	}
	if err := os.Remove(markers[0]); err != nil {
		t.Fatal(err)
	}
	sound, out := check()
	if sound || !strings.Contains(out, "DAMAGED: marker.manifest.*: missing") {
		t.Fatalf("damaged dir: sound %v: %s", sound, out)
	}
	if _, err := os.Stat(filepath.Join(dir, tables.RecordFile)); err != nil {
		t.Fatalf("check removed the record: %v", err)
	}
}
