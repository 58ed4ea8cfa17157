package tables

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/lakenode/lakenode/tables/schema"
)

// RecordFile is lakenode's own small record of what the store holds, kept
// beside Pebble's files in the data dir (FORMAT.md, "The record").
const RecordFile = "lakenode-record.json"

// UnreferencedDir is where Open moves the .sst files that Pebble no longer
// references after an unclean stop, instead of letting Pebble delete them.
const UnreferencedDir = "unreferenced"

// record is the content of RecordFile.
type record struct {
	Format    int           `json:"format"`
	Event     string        `json:"event"` // open, create, drop, stop, backup
	CleanStop bool          `json:"clean_stop"`
	WrittenAt time.Time     `json:"written_at"`
	Tables    []recordTable `json:"tables"`
}

type recordTable struct {
	DBMS   string `json:"dbms"`
	Name   string `json:"name"`
	ID     uint32 `json:"id"`
	Commit uint64 `json:"commit"` // the table's commit sequence when written
}

// DamageError is a data dir that lakenode refuses to open because Pebble's
// files do not hold what lakenode last knew was there. Nothing in the dir
// was changed when it is returned.
type DamageError struct {
	Dir     string
	File    string // the file at fault, relative to Dir ("" when none is)
	Problem string
}

func (e *DamageError) Error() string {
	f := ""
	if e.File != "" {
		f = e.File + ": "
	}
	return fmt.Sprintf("data dir %s is damaged: %s%s; nothing was changed or deleted — run `lakenode check --data-dir %s` for a report, and restore the dir from a backup", e.Dir, f, e.Problem, e.Dir)
}

// pebbleFile matches the names of the files Pebble keeps in its dir.
var pebbleFile = regexp.MustCompile(`^(MANIFEST-\d+|marker\.[a-z-]+\.\d+\.\S*|\d+\.(sst|blob|log)|OPTIONS-\d+|CURRENT)$`)

// fileInError picks the first Pebble file name an error message mentions.
var fileInError = regexp.MustCompile(`(MANIFEST-\d+|marker\.[a-z-]+\.\d+\.[A-Za-z0-9-]+|\d{6,}\.(sst|blob|log)|OPTIONS-\d+)`)

// dirState is what the data dir holds before Pebble opens it.
type dirState struct {
	pebble   []string // Pebble's files
	ssts     []string // .sst files
	manifest []string // MANIFEST-* files
	options  []string // OPTIONS-* files
	marker   bool     // marker.manifest.*
	rec      *record
}

func readDirState(fs vfs.FS, dir string) (dirState, error) {
	var st dirState
	ls, err := fs.List(dir)
	if err != nil {
		return st, fmt.Errorf("listing data dir %s: %w", dir, err)
	}
	sort.Strings(ls)
	for _, name := range ls {
		if !pebbleFile.MatchString(name) {
			continue
		}
		st.pebble = append(st.pebble, name)
		switch {
		case strings.HasSuffix(name, ".sst"):
			st.ssts = append(st.ssts, name)
		case strings.HasPrefix(name, "MANIFEST-"):
			st.manifest = append(st.manifest, name)
		case strings.HasPrefix(name, "OPTIONS-"):
			st.options = append(st.options, name)
		case strings.HasPrefix(name, "marker.manifest."):
			st.marker = true
		}
	}
	rec, err := readRecord(fs, dir)
	if err != nil {
		return st, err
	}
	st.rec = rec
	return st, nil
}

// readRecord reads RecordFile; nil when there is none.
func readRecord(fs vfs.FS, dir string) (*record, error) {
	f, err := fs.Open(fs.PathJoin(dir, RecordFile))
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, &DamageError{Dir: dir, File: RecordFile, Problem: fmt.Sprintf("cannot be read: %v", err)}
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return nil, &DamageError{Dir: dir, File: RecordFile, Problem: fmt.Sprintf("cannot be read: %v", err)}
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil || r.Format == 0 {
		if err == nil {
			err = errors.New("no format field")
		}
		return nil, &DamageError{Dir: dir, File: RecordFile, Problem: fmt.Sprintf("is not a valid record (%v)", err)}
	}
	return &r, nil
}

func readSmall(fs vfs.FS, path string) ([]byte, error) {
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return io.ReadAll(io.LimitReader(f, 16<<20))
}

func isNotExist(err error) bool {
	return errors.Is(err, iofs.ErrNotExist)
}

// writeRecord replaces RecordFile atomically: a temporary file, synced,
// renamed over it, and the directory synced.
func writeRecord(fs vfs.FS, dir string, r *record) error {
	r.Format = FormatVersion
	r.WrittenAt = time.Now().UTC()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := fs.PathJoin(dir, RecordFile+".tmp")
	f, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("writing %s: %w", RecordFile, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", RecordFile, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("syncing %s: %w", RecordFile, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", RecordFile, err)
	}
	if err := fs.Rename(tmp, fs.PathJoin(dir, RecordFile)); err != nil {
		return fmt.Errorf("renaming %s: %w", RecordFile, err)
	}
	d, err := fs.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("syncing data dir %s: %w", dir, err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing data dir %s: %w", dir, err)
	}
	return nil
}

// snapshotRecord is the record of the store's tables now. except leaves
// out one table id (a table being dropped).
func (s *Store) snapshotRecord(event string, except uint32) *record {
	r := &record{Event: event, Tables: []recordTable{}}
	s.mu.RLock()
	for _, t := range s.tables {
		if t.ID == except {
			continue
		}
		var seq uint64
		if st := s.stats[t.ID]; st != nil {
			seq = st.seq
		}
		r.Tables = append(r.Tables, recordTable{DBMS: t.DBMS, Name: t.Name, ID: t.ID, Commit: seq})
	}
	s.mu.RUnlock()
	slices.SortFunc(r.Tables, func(a, b recordTable) int { return int(a.ID) - int(b.ID) })
	return r
}

// saveRecord writes the record of the store's tables now.
func (s *Store) saveRecord(event string, except uint32, clean bool) error {
	r := s.snapshotRecord(event, except)
	r.CleanStop = clean
	s.recordMu.Lock()
	defer s.recordMu.Unlock()
	return writeRecord(s.fs, s.dir, r)
}

// verified is what verify learnt of a data dir that passed.
type verified struct {
	unreferenced []string // .sst files Pebble does not reference (after an unclean stop)
	tables       int
}

// verify opens Pebble read-only on dir (whose lock the caller holds) and
// checks it against lakenode's record. Any problem is a *DamageError;
// nothing in the dir is changed. deep also reads every block of every
// file (checksums), for `lakenode check`.
func verify(dir string, st dirState, popts *pebble.Options, deep bool) (verified, error) {
	var v verified
	damaged := func(file, format string, args ...any) (verified, error) {
		return v, &DamageError{Dir: dir, File: file, Problem: fmt.Sprintf(format, args...)}
	}
	if len(st.pebble) == 0 {
		n := 0
		if st.rec != nil {
			n = len(st.rec.Tables)
		}
		return damaged(RecordFile, "lists %d table(s) but the dir holds none of Pebble's files (MANIFEST-*, marker.manifest.*, *.sst); remove %s only if the dir is meant to start empty", n, RecordFile)
	}
	if !st.marker {
		found := "no MANIFEST-* file either"
		if len(st.manifest) > 0 {
			found = "found " + strings.Join(st.manifest, ", ")
		}
		return damaged("marker.manifest.*", "missing: no file names the current MANIFEST (%s, %d .sst file(s)); Pebble would start an empty database and delete every .sst", found, len(st.ssts))
	}
	// Pebble reads the newest OPTIONS file at open; say which one it is
	// when it does not parse.
	if len(st.options) > 0 {
		name := st.options[len(st.options)-1]
		b, err := readSmall(popts.FS, popts.FS.PathJoin(dir, name))
		if err == nil {
			err = (&pebble.Options{}).Parse(string(b), nil)
		}
		if err != nil {
			return damaged(name, "cannot be read or parsed: %s", oneLine(err))
		}
	}
	ro := *popts
	ro.ReadOnly = true
	ro.ErrorIfNotExists = true
	ro.EventListener = &pebble.EventListener{DataCorruption: func(pebble.DataCorruptionInfo) {}}
	db, err := pebble.Open(dir, &ro)
	if err != nil {
		return v, openError(dir, st, err)
	}
	defer func() { _ = db.Close() }()

	// Files on disk that the current version does not reference: after a
	// clean stop there are none, so some means the MANIFEST lost edits.
	live := map[string]bool{}
	levels, err := db.SSTables()
	if err != nil {
		return damaged("", "listing the live .sst files: %s", oneLine(err))
	}
	for _, l := range levels {
		for _, f := range l {
			live[fmt.Sprintf("%06d.sst", uint64(f.BackingSSTNum))] = true
		}
	}
	for _, f := range st.ssts {
		if !live[f] {
			v.unreferenced = append(v.unreferenced, f)
		}
	}
	cur := currentManifest(st)
	if len(v.unreferenced) > 0 && st.rec != nil && st.rec.CleanStop {
		return damaged(cur, "references %d fewer .sst file(s) than the dir holds after a clean stop (%s): the MANIFEST lost edits", len(v.unreferenced), listSome(v.unreferenced))
	}

	// The store's own view: the format key, the tables and their commits.
	ss := &Store{db: db, dir: dir, readOnly: true,
		tables: map[string]*schema.Table{}, byID: map[uint32]*schema.Table{}, stats: map[uint32]*tableStats{},
		offsets: map[offKey]int64{}, lwms: map[lwmK]int64{}, sources: map[string]uint32{}, nextID: 1, nextSrc: 1}
	if err := ss.load(); err != nil {
		var de *DamageError
		if errors.As(err, &de) {
			return v, err
		}
		return damaged(firstFile(err.Error()), "reading the catalog: %s", oneLine(err))
	}
	v.tables = len(ss.tables)
	if !ss.hasFormat && (st.rec != nil || len(st.ssts) > 0) {
		return damaged(cur, "the database has no lakenode format key (m/format) but the dir holds %d .sst file(s): it reads as empty", len(st.ssts))
	}
	if st.rec != nil {
		for _, rt := range st.rec.Tables {
			t := ss.byID[rt.ID]
			full := rt.DBMS + "." + rt.Name
			if t == nil || t.DBMS != rt.DBMS || t.Name != rt.Name {
				return damaged(cur, "table %s (id %d) is in %s (written at %s on %s) but not in the database, which has %d table(s)",
					full, rt.ID, RecordFile, st.rec.Event, st.rec.WrittenAt.Format(time.RFC3339), len(ss.tables))
			}
			if got := ss.stats[rt.ID].seq; got < rt.Commit {
				return damaged(cur, "table %s is at commit %d but %s (written at %s on %s) says %d: the database lost commits",
					full, got, RecordFile, st.rec.Event, st.rec.WrittenAt.Format(time.RFC3339), rt.Commit)
			}
		}
	}
	if deep {
		if err := db.CheckLevels(nil); err != nil {
			return damaged(firstFile(err.Error()), "%s", oneLine(err))
		}
	}
	return v, nil
}

// openError explains why Pebble could not open dir.
func openError(dir string, st dirState, err error) *DamageError {
	msg := oneLine(err)
	// The MANIFEST names .sst files the dir lacks: the MANIFEST lost the
	// edits that replaced them (truncated), or the files were deleted.
	if missing := missingTable.FindAllStringSubmatch(msg, -1); len(missing) > 0 {
		var names []string
		for _, m := range missing {
			names = append(names, m[1]+".sst")
		}
		return &DamageError{Dir: dir, File: currentManifest(st), Problem: fmt.Sprintf(
			"names %d .sst file(s) the dir does not hold (%s): the MANIFEST is truncated or damaged, or those files were deleted (the dir holds %d .sst file(s))",
			len(names), listSome(names), len(st.ssts))}
	}
	file := firstFile(msg)
	switch {
	case file != "":
	case len(st.options) > 0 && (strings.Contains(msg, "from file") || strings.Contains(strings.ToLower(msg), "options")):
		file = st.options[len(st.options)-1]
	case strings.Contains(strings.ToLower(msg), "manifest"):
		file = currentManifest(st)
	}
	return &DamageError{Dir: dir, File: file, Problem: "Pebble cannot open the database: " + msg}
}

var missingTable = regexp.MustCompile(`(\d{6,}) \(type sstable\) unknown to the objstorage provider`)

// currentManifest names the MANIFEST file for messages.
func currentManifest(st dirState) string {
	if len(st.manifest) == 0 {
		return "MANIFEST"
	}
	return st.manifest[len(st.manifest)-1]
}

func firstFile(msg string) string {
	if f := fileInError.FindString(msg); f != "" {
		return f
	}
	if m := fileNumInError.FindStringSubmatch(msg); m != nil {
		return m[1] + ".sst"
	}
	return ""
}

// fileNumInError matches Pebble's "file 000011" and "table 000011".
var fileNumInError = regexp.MustCompile(`(?:file|table) (\d{6,})\b`)

// oneLine is an error's message on one line, without Pebble's redaction
// marks.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	return strings.NewReplacer("‹", "", "›", "", " <corruption detail carrier>", "").Replace(s)
}

func listSome(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
}

// moveUnreferenced moves files (in dir, referenced by nothing) to
// UnreferencedDir, where Pebble never looks, instead of letting Pebble's
// open delete them.
func moveUnreferenced(fs vfs.FS, dir string, files []string) error {
	if len(files) == 0 {
		return nil
	}
	dest := fs.PathJoin(dir, UnreferencedDir)
	if err := fs.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("making %s: %w", dest, err)
	}
	for _, f := range files {
		if err := fs.Rename(fs.PathJoin(dir, f), fs.PathJoin(dest, f)); err != nil {
			return fmt.Errorf("moving the unreferenced %s to %s: %w", f, dest, err)
		}
	}
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}

// CheckReport is what Check found in a data dir.
type CheckReport struct {
	Dir    string
	New    bool     // the dir holds no database yet
	Tables int      // tables in the database
	Files  []string // Pebble's files
	// Unreferenced are .sst files Pebble does not reference (left by an
	// unclean stop; Open moves them to UnreferencedDir), and Aside the
	// files already there.
	Unreferenced, Aside []string
	// Damage is what is wrong, nil when nothing is.
	Damage *DamageError
}

// Check examines the data dir without changing it: the checks Open makes,
// and every block of every .sst file read and its checksum verified. The
// dir must not be in use. An error is returned only when the check could
// not run; damage is in the report.
func Check(dir string) (CheckReport, error) {
	rep := CheckReport{Dir: dir}
	fs := vfs.Default
	if _, err := fs.Stat(dir); err != nil {
		return rep, fmt.Errorf("data dir %s: %w", dir, err)
	}
	lock, err := pebble.LockDirectory(dir, fs)
	if err != nil {
		return rep, fmt.Errorf("data dir %s is in use (stop the node that runs on it first): %w", dir, err)
	}
	defer func() { _ = lock.Close() }()
	st, err := readDirState(fs, dir)
	var de *DamageError
	if errors.As(err, &de) {
		rep.Damage = de
		return rep, nil
	} else if err != nil {
		return rep, err
	}
	rep.Files = st.pebble
	if aside, err := fs.List(fs.PathJoin(dir, UnreferencedDir)); err == nil {
		sort.Strings(aside)
		rep.Aside = aside
	}
	if len(st.pebble) == 0 && st.rec == nil {
		rep.New = true
		return rep, nil
	}
	cache := pebble.NewCache(16 << 20)
	defer cache.Unref()
	v, err := verify(dir, st, &pebble.Options{FS: fs, Lock: lock, Cache: cache, FormatMajorVersion: pebble.FormatNewest, Logger: pebbleLogger{slogDiscard}}, true)
	if errors.As(err, &de) {
		rep.Damage = de
		return rep, nil
	} else if err != nil {
		return rep, err
	}
	rep.Tables, rep.Unreferenced = v.tables, v.unreferenced
	return rep, nil
}

var slogDiscard = slog.New(slog.DiscardHandler)

// corruptionLogger replaces Pebble's default reaction to a corrupt block
// (Fatalf, which panics): the error goes to the reader that met it, and the
// log says it once per file.
func corruptionLogger(l *slog.Logger) func(pebble.DataCorruptionInfo) {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(info pebble.DataCorruptionInfo) {
		mu.Lock()
		first := !seen[info.Path]
		seen[info.Path] = true
		mu.Unlock()
		if first {
			l.Error("corrupt data file: queries that read it fail; run lakenode check and restore the data dir from a backup", "file", info.Path, "detail", oneLine(info.Details))
		}
	}
}

// CorruptionError is a read that met a corrupt data file.
type CorruptionError struct {
	Table  string // dbms.table
	File   string // the file's path, when Pebble says it
	Detail string
}

func (e *CorruptionError) Error() string {
	f := "a data file"
	if e.File != "" {
		f = "data file " + e.File
	}
	return fmt.Sprintf("table %s: %s is corrupt (%s); run `lakenode check` on the data dir and restore it from a backup", e.Table, f, e.Detail)
}

// readError makes a read error of table fit a reply: a corruption becomes
// a *CorruptionError, one line, naming the file; others keep their cause.
func readError(table string, err error) error {
	if err == nil {
		return nil
	}
	if !pebble.IsCorruptionError(err) {
		return fmt.Errorf("reading %s: %w", table, err)
	}
	ce := &CorruptionError{Table: table, Detail: oneLine(err)}
	if info := pebble.ExtractDataCorruptionInfo(err); info != nil {
		ce.File = info.Path
	} else {
		ce.File = firstFile(ce.Detail)
	}
	return ce
}
