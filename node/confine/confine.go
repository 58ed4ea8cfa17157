// Package confine opens the files that commands name inside one directory.
//
// A command arrives from the shell, a script, the REST port or another node,
// so a file name in it is hostile: it may be absolute, climb out with "..",
// or pass through a symlink that points elsewhere. A Dir resolves every name
// inside its directory through os.Root, which refuses all three, and names
// the directory and the flag that sets it when it refuses.
package confine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Dir is a directory that commands may use, and the flag that sets it (for
// error messages). The zero value refuses everything.
type Dir struct {
	// Path is the directory; relative paths are taken from the working
	// directory when the Dir is used.
	Path string
	// Flag names the setting that chooses Path, e.g. "--files-dir".
	Flag string
	// Create makes Path (mode 0700) on first use when it does not exist.
	Create bool
}

// Error is a refused name.
type Error struct {
	Name, Dir, Flag string
	Reason          string
}

func (e *Error) Error() string {
	return fmt.Sprintf("file %q %s: commands may only use files under %s (%s)", e.Name, e.Reason, e.Dir, e.Flag)
}

// rel turns a name from a command into a path relative to d.Path, refusing
// names that lexically leave it. Symlinks are left to os.Root.
func (d Dir) rel(name string) (string, error) {
	refuse := func(reason string) error {
		return &Error{Name: name, Dir: d.Path, Flag: d.Flag, Reason: reason}
	}
	if d.Path == "" {
		return "", refuse("cannot be used: no directory is configured")
	}
	if name == "" || strings.ContainsRune(name, 0) {
		return "", refuse("is not a valid file name")
	}
	p := name
	if filepath.IsAbs(p) {
		base, err := filepath.Abs(d.Path)
		if err != nil {
			return "", fmt.Errorf("%s %s: %w", d.Flag, d.Path, err)
		}
		r, err := filepath.Rel(base, filepath.Clean(p))
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return "", refuse("is outside the directory")
		}
		p = r
	}
	p = filepath.Clean(p)
	if p == ".." || strings.HasPrefix(p, ".."+string(filepath.Separator)) {
		return "", refuse("leaves the directory")
	}
	if p == "." {
		return "", refuse("names the directory itself, not a file")
	}
	return p, nil
}

func (d Dir) open(name string) (*os.Root, string, error) {
	p, err := d.rel(name)
	if err != nil {
		return nil, "", err
	}
	if d.Create {
		if err := os.MkdirAll(d.Path, 0o700); err != nil {
			return nil, "", fmt.Errorf("%s %s: %w", d.Flag, d.Path, err)
		}
	}
	root, err := os.OpenRoot(d.Path)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", d.Flag, d.Path, err)
	}
	return root, p, nil
}

// translate turns os.Root's escape errors into an Error naming the
// directory; other errors keep their cause.
func (d Dir) translate(name string, err error) error {
	if err == nil {
		return nil
	}
	var pe *os.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		return &Error{Name: name, Dir: d.Path, Flag: d.Flag, Reason: "leaves the directory (through a symlink or ..)"}
	}
	return fmt.Errorf("%s: %w", name, err)
}

// ReadFile reads a file inside the directory, at most limit bytes (a larger
// file is an error).
func (d Dir) ReadFile(name string, limit int64) ([]byte, error) {
	root, p, err := d.open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = root.Close() }()
	f, err := root.Open(p)
	if err != nil {
		return nil, d.translate(name, err)
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return data, nil
}

// WriteFile writes data to a file inside the directory, creating the
// directories on its way (mode 0700) and the file with mode 0600, and
// replacing what the file held. It writes to a temporary file and renames
// it, so a reader never sees half a file.
func (d Dir) WriteFile(name string, data []byte) error {
	return d.WriteStream(name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteStream writes what fill writes to a file inside the directory, as
// WriteFile does (a temporary file renamed once fill returned nil, so a
// reader never sees half a file, and a failed fill leaves the old file).
func (d Dir) WriteStream(name string, fill func(w io.Writer) error) error {
	root, p, err := d.open(name)
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }()
	if dir := filepath.Dir(p); dir != "." {
		if err := root.MkdirAll(dir, 0o700); err != nil {
			return d.translate(name, err)
		}
	}
	tmp := p + ".tmp-lakenode"
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return d.translate(name, err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		_ = f.Close()
		_ = root.Remove(tmp)
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := root.Rename(tmp, p); err != nil {
		_ = root.Remove(tmp)
		return d.translate(name, err)
	}
	return nil
}

// Display is how a name inside the directory is shown to a user: the path
// under the directory.
func (d Dir) Display(name string) string {
	p, err := d.rel(name)
	if err != nil {
		return name
	}
	return filepath.Join(d.Path, p)
}

// Within reports whether directory inner is outer or lies under it.
func Within(inner, outer string) (bool, error) {
	pi, err := filepath.Abs(inner)
	if err != nil {
		return false, err
	}
	po, err := filepath.Abs(outer)
	if err != nil {
		return false, err
	}
	r, err := filepath.Rel(po, pi)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)), nil
}

// Overlap reports an error when one of the directories contains the other:
// a directory that commands write must not reach into one they only read.
func Overlap(a, b Dir) error {
	ab, err := Within(a.Path, b.Path)
	if err != nil {
		return err
	}
	ba, err := Within(b.Path, a.Path)
	if err != nil {
		return err
	}
	if ab || ba {
		return fmt.Errorf("%s %s and %s %s overlap: give them separate directories", a.Flag, a.Path, b.Flag, b.Path)
	}
	return nil
}

// NewDir makes the directory name inside d with fill, which must create
// the directory at the path it is given (that path does not exist yet):
// fill writes under a temporary name beside the final one, which is then
// renamed into place through os.Root, so the result cannot land outside d.
// An existing name is refused. NewDir returns the final path.
func (d Dir) NewDir(name string, fill func(path string) error) (string, error) {
	root, p, err := d.open(name)
	if err != nil {
		return "", err
	}
	defer func() { _ = root.Close() }()
	if _, err := root.Lstat(p); err == nil {
		return "", &Error{Name: name, Dir: d.Path, Flag: d.Flag, Reason: "already exists"}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", d.translate(name, err)
	}
	parent := filepath.Dir(p)
	if parent != "." {
		if err := root.MkdirAll(parent, 0o700); err != nil {
			return "", d.translate(name, err)
		}
	}
	tmp := filepath.Join(parent, "."+filepath.Base(p)+".tmp-lakenode")
	_ = root.RemoveAll(tmp) // a leftover of an interrupted run
	if err := fill(filepath.Join(d.Path, tmp)); err != nil {
		_ = root.RemoveAll(tmp)
		return "", err
	}
	if err := root.Rename(tmp, p); err != nil {
		_ = root.RemoveAll(tmp)
		return "", d.translate(name, err)
	}
	return filepath.Join(d.Path, p), nil
}
