package confine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteAndReadInside(t *testing.T) {
	base := t.TempDir()
	d := Dir{Path: filepath.Join(base, "files"), Flag: "--files-dir", Create: true}
	for _, name := range []string{"out.json", "sub/dir/out.json", filepath.Join(d.Path, "abs.json"), "./a/../b.json"} {
		if err := d.WriteFile(name, []byte("x\n")); err != nil {
			t.Fatalf("WriteFile(%q): %v", name, err)
		}
		got, err := d.ReadFile(name, 10)
		if err != nil || string(got) != "x\n" {
			t.Fatalf("ReadFile(%q) = %q, %v", name, got, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(d.Path, "out.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi, err)
	}
	if _, err := d.ReadFile("out.json", 1); err == nil || !strings.Contains(err.Error(), "larger than 1 bytes") {
		t.Fatalf("limit: %v", err)
	}
}

func TestEscapesRefused(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := Dir{Path: filepath.Join(base, "files"), Flag: "--files-dir", Create: true}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		t.Fatal(err)
	}
	// A symlink to a directory outside, and one to a file outside, by
	// absolute and by relative target.
	if err := os.Symlink(outside, filepath.Join(d.Path, "absdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside", filepath.Join(d.Path, "reldir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside/secret", filepath.Join(d.Path, "relfile")); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, want string }{
		{"/etc/passwd", "is outside the directory"},
		{filepath.Join(outside, "secret"), "is outside the directory"},
		{"../outside/secret", "leaves the directory"},
		{"a/../../outside/secret", "leaves the directory"},
		{"absdir/secret", "leaves the directory"},
		{"reldir/secret", "leaves the directory"},
		{"relfile", "leaves the directory"},
		{"", "is not a valid file name"},
		{"a\x00b", "is not a valid file name"},
		{".", "names the directory itself"},
		{d.Path, "names the directory itself"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e *Error
			_, rerr := d.ReadFile(c.name, 100)
			if !errors.As(rerr, &e) || !strings.Contains(rerr.Error(), c.want) || !strings.Contains(rerr.Error(), d.Path) || !strings.Contains(rerr.Error(), "--files-dir") {
				t.Errorf("ReadFile(%q) = %v, want an Error with %q naming the directory", c.name, rerr, c.want)
			}
			werr := d.WriteFile(c.name, []byte("overwritten"))
			if c.name == "relfile" {
				// Writing replaces the link itself (a rename), never its target.
				if werr != nil {
					t.Errorf("WriteFile(%q) = %v", c.name, werr)
				}
				return
			}
			if !errors.As(werr, &e) || !strings.Contains(werr.Error(), c.want) {
				t.Errorf("WriteFile(%q) = %v, want %q", c.name, werr, c.want)
			}
		})
	}
	if got, _ := os.ReadFile(filepath.Join(outside, "secret")); string(got) != "s" {
		t.Fatalf("the file outside was changed: %q", got)
	}
}

func TestNoDirectory(t *testing.T) {
	var d Dir
	if err := d.WriteFile("x", nil); err == nil {
		t.Fatal("the zero Dir wrote a file")
	}
}

func TestOverlap(t *testing.T) {
	a := Dir{Path: "/data/files", Flag: "--files-dir"}
	for _, c := range []struct {
		b       string
		overlap bool
	}{{"/data/secrets", false}, {"/data", true}, {"/data/files", true}, {"/data/files/x", true}, {"/data/files2", false}} {
		err := Overlap(a, Dir{Path: c.b, Flag: "--data-dir"})
		if (err != nil) != c.overlap {
			t.Errorf("Overlap(%s, %s) = %v", a.Path, c.b, err)
		}
	}
}

func TestNewDir(t *testing.T) {
	base := t.TempDir()
	d := Dir{Path: filepath.Join(base, "backups"), Flag: "--backup-dir", Create: true}
	if err := os.MkdirAll(filepath.Join(base, "outside"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "outside"), filepath.Join(d.Path, "link")); err != nil {
		t.Fatal(err)
	}
	mk := func(p string) error {
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(p, "f"), []byte("x"), 0o600)
	}
	for _, c := range []struct {
		name, want string // want: "" for success, else in the error
	}{
		{"b1", ""},
		{"nightly/b2", ""},
		{"b1", "already exists"},
		{"../escape", "leaves the directory"},
		{filepath.Join(base, "outside", "abs"), "outside the directory"},
		{"link/inside", "leaves the directory"},
	} {
		path, err := d.NewDir(c.name, mk)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else if _, serr := os.Stat(filepath.Join(path, "f")); serr != nil || filepath.Dir(path) == base {
				t.Errorf("%s: made %s (%v)", c.name, path, serr)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--backup-dir") {
			t.Errorf("%s: %v, want an error with %q naming --backup-dir", c.name, err, c.want)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(base, "outside", "*")); len(m) != 0 {
		t.Errorf("written outside: %v", m)
	}
}
