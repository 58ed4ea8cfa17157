package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestDestFileConfined checks that `dest = file` writes only under
// --files-dir: relative names land there, escapes are refused naming the
// directory, and the data dir's own files are never touched.
func TestDestFileConfined(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	tablestest.Load(t, n.Store(), "d", "t", []schema.Column{{Name: "v", Type: schema.TypeInt}}, [][]schema.Value{{schema.Int(1)}, {schema.Int(2)}})
	run := func(cmd string) Result { return n.Execute(context.Background(), cmd, ExecOptions{REST: true}) }

	res := run(`sql d format = json:output and dest = file and file = out/rows.json "select v from t"`)
	if res.Err != nil {
		t.Fatal(res.ErrorText())
	}
	want := filepath.Join(cfg.DataDir, "files", "out", "rows.json")
	if !strings.Contains(res.Text, want) {
		t.Fatalf("reply %q does not name %s", res.Text, want)
	}
	if data, err := os.ReadFile(want); err != nil || !strings.Contains(string(data), `"v"`) {
		t.Fatalf("written file: %q, %v", data, err)
	}

	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(cfg.DataDir, "files", "link")); err != nil {
		t.Fatal(err)
	}
	manifests, _ := filepath.Glob(filepath.Join(cfg.DataDir, "MANIFEST-*"))
	if len(manifests) == 0 {
		t.Fatal("no MANIFEST in the data dir")
	}
	before, _ := os.ReadFile(manifests[0])
	for _, name := range []string{
		manifests[0],
		"../" + filepath.Base(manifests[0]),
		filepath.Join(outside, "x"),
		"link/x",
		"/etc/cron.d/x",
	} {
		res := run(`sql d format = table and dest = file and file = ` + name + ` "select v from t"`)
		if res.Err == nil || !strings.Contains(res.Err.Error(), filepath.Join(cfg.DataDir, "files")) || !strings.Contains(res.Err.Error(), "--files-dir") {
			t.Errorf("file = %s: %v, want a refusal naming --files-dir", name, res.Err)
		}
	}
	if after, _ := os.ReadFile(manifests[0]); string(after) != string(before) {
		t.Fatal("the MANIFEST changed")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("files written outside: %v", ents)
	}
}

func TestFileDirsValidated(t *testing.T) {
	base := t.TempDir()
	for _, c := range []struct {
		files, secrets, want string
	}{
		{base, "", "holds the data dir"},
		{filepath.Join(base, "data"), "", "holds the data dir"},
		{"", filepath.Dir(base), "holds the data dir"},
		{filepath.Join(base, "x"), filepath.Join(base, "x", "s"), "overlap"},
	} {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.FilesDir, cfg.SecretsDir = filepath.Join(base, "data"), c.files, c.secrets
		if _, _, err := fileDirs(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("files %q secrets %q: %v, want %q", c.files, c.secrets, err, c.want)
		}
	}
}
