package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck: exit 0 with the report on stdout for a sound data dir, 1 for
// one that cannot be checked (node.TestCheckDataDir covers the reports).
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	check := func(d string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"check", "--data-dir", d}, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, out, errOut := check(dir); code != 0 || !strings.Contains(out, "no database yet") || errOut != "" {
		t.Fatalf("empty dir: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	file := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := check(file); code != 1 || !strings.HasPrefix(errOut, "lakenode check: ") {
		t.Fatalf("a file as data dir: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
