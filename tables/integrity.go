package tables

import (
	"cmp"
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

// RecordLog is the record's log: the tables created and dropped since
// RecordFile was last written whole, one JSON line each (FORMAT.md, "The
// record").
const RecordLog = "lakenode-record.jsonl"

// logCompactMin is the least number of lines the record's log reaches
// before a table creation or drop rewrites RecordFile whole instead of
// appending; above it the log may grow to as many lines as RecordFile has
// tables, so the rewrites cost a constant per creation, amortized.
var logCompactMin = 4096

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
	// LogGen is the generation of the log (RecordLog) that continues
	// this record; a log of another generation is stale.
	LogGen uint64 `json:"log_gen,omitempty"`

	// from names the files the record was read from, for messages.
	from string
}

// logLine is one line of RecordLog: the first names the log's generation,
// each other is one table created or dropped.
type logLine struct {
	LogGen uint64    `json:"log_gen,omitempty"`
	Event  string    `json:"event,omitempty"` // create, drop
	DBMS   string    `json:"dbms,omitempty"`
	Name   string    `json:"name,omitempty"`
	ID     uint32    `json:"id,omitempty"`
	At     time.Time `json:"at,omitzero"`
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

// readRecord reads RecordFile and replays RecordLog over it; nil when
// there is neither.
func readRecord(fs vfs.FS, dir string) (*record, error) {
	r, err := readRecordFile(fs, dir)
	if err != nil {
		return nil, err
	}
	b, err := readLimited(fs, fs.PathJoin(dir, RecordLog), 64<<20)
	switch {
	case err != nil && isNotExist(err):
		return r, nil
	case err != nil:
		return nil, &DamageError{Dir: dir, File: RecordLog, Problem: fmt.Sprintf("cannot be read: %v", err)}
	case r == nil:
		return nil, &DamageError{Dir: dir, File: RecordLog, Problem: "is there but " + RecordFile + ", which it continues, is not"}
	}
	if err := replayLog(r, b); err != nil {
		return nil, &DamageError{Dir: dir, File: RecordLog, Problem: err.Error()}
	}
	return r, nil
}

// readRecordFile reads RecordFile; nil when there is none.
func readRecordFile(fs vfs.FS, dir string) (*record, error) {
	b, err := readLimited(fs, fs.PathJoin(dir, RecordFile), 64<<20)
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, &DamageError{Dir: dir, File: RecordFile, Problem: fmt.Sprintf("cannot be read: %v", err)}
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil || r.Format == 0 {
		if err == nil {
			err = errors.New("no format field")
		}
		return nil, &DamageError{Dir: dir, File: RecordFile, Problem: fmt.Sprintf("is not a valid record (%v)", err)}
	}
	r.from = RecordFile
	return &r, nil
}

// replayLog applies the lines of a RecordLog to r. A log of another
// generation than r's is left over from before r was written whole (a stop
// between the two writes) and is ignored. A last line without its newline
// was cut short by a crash while being appended: the create it tells of is
// already durable (it is only checked less), and the drop is not yet (it
// is committed only after its line is synced), so it is ignored too. Any
// other line that does not parse is damage.
func replayLog(r *record, b []byte) error {
	lines := strings.Split(string(b), "\n")
	lines = lines[:len(lines)-1] // "" after the last newline, or a torn line
	if len(lines) == 0 {
		return nil
	}
	var head logLine
	if err := json.Unmarshal([]byte(lines[0]), &head); err != nil || head.LogGen == 0 || head.Event != "" {
		return fmt.Errorf("line 1 is not the log's header (%s)", oneLineOr(err, "no log_gen"))
	}
	switch {
	case head.LogGen < r.LogGen:
		return nil
	case head.LogGen > r.LogGen:
		return fmt.Errorf("is of generation %d but %s is of %d: %s is older than its log", head.LogGen, RecordFile, r.LogGen, RecordFile)
	}
	byID := make(map[uint32]int, len(r.Tables))
	for i, t := range r.Tables {
		byID[t.ID] = i
	}
	dropped := map[uint32]bool{}
	for n, line := range lines[1:] {
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.ID == 0 || (l.Event != "create" && l.Event != "drop") {
			return fmt.Errorf("line %d is not a table created or dropped (%s)", n+2, oneLineOr(err, "no event or id"))
		}
		switch i, ok := byID[l.ID]; {
		case l.Event == "drop":
			dropped[l.ID] = true
		case ok:
			delete(dropped, l.ID)
			r.Tables[i].DBMS, r.Tables[i].Name = l.DBMS, l.Name
		default:
			delete(dropped, l.ID)
			byID[l.ID] = len(r.Tables)
			r.Tables = append(r.Tables, recordTable{DBMS: l.DBMS, Name: l.Name, ID: l.ID})
		}
		r.Event, r.WrittenAt = l.Event, l.At
	}
	r.Tables = slices.DeleteFunc(r.Tables, func(t recordTable) bool { return dropped[t.ID] })
	slices.SortFunc(r.Tables, func(a, b recordTable) int { return cmp.Compare(a.ID, b.ID) })
	r.from = RecordFile + " and " + RecordLog
	return nil
}

func oneLineOr(err error, none string) string {
	if err == nil {
		return none
	}
	return oneLine(err)
}

func readSmall(fs vfs.FS, path string) ([]byte, error) {
	return readLimited(fs, path, 16<<20)
}

func readLimited(fs vfs.FS, path string, limit int64) ([]byte, error) {
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return io.ReadAll(io.LimitReader(f, limit))
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
	return syncDir(fs, dir)
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

// saveRecord writes the record of the store's tables now whole, and
// starts a new generation of its log.
func (s *Store) saveRecord(event string, except uint32, clean bool) error {
	s.recordMu.Lock()
	defer s.recordMu.Unlock()
	return s.saveRecordLocked(event, except, clean)
}

func (s *Store) saveRecordLocked(event string, except uint32, clean bool) error {
	r := s.snapshotRecord(event, except)
	r.CleanStop = clean
	r.LogGen = s.rec.gen + 1
	// Until this succeeds, the log of this generation is closed and must
	// not be started again (its lines would be lost): the next change
	// tries this again.
	s.rec.broken = true
	s.closeRecordLog()
	if err := writeRecord(s.fs, s.dir, r); err != nil {
		return err
	}
	// The old log is of an older generation now, so a stop before it is
	// removed leaves nothing wrong.
	if err := s.fs.Remove(s.fs.PathJoin(s.dir, RecordLog)); err != nil && !isNotExist(err) {
		return fmt.Errorf("removing %s: %w", RecordLog, err)
	}
	s.rec.gen, s.rec.lines, s.rec.tables, s.rec.broken = r.LogGen, 0, len(r.Tables), false
	return nil
}

// closeRecordLog closes the log's file, if open (under recordMu).
func (s *Store) closeRecordLog() {
	if s.rec.log != nil {
		_ = s.rec.log.Close()
		s.rec.log = nil
	}
}

// logRecord records that table t was created or dropped (event): one
// line appended to RecordLog and synced, a cost that does not depend on
// the number of tables. When the log has grown to as many lines as the
// record has tables (and at least logCompactMin), or an append failed
// part way, the record is written whole instead.
func (s *Store) logRecord(event string, t *schema.Table) error {
	s.recordMu.Lock()
	defer s.recordMu.Unlock()
	var except uint32
	if event == "drop" {
		except = t.ID
	}
	if s.rec.broken || s.rec.lines >= max(logCompactMin, s.rec.tables) {
		return s.saveRecordLocked(event, except, false)
	}
	line, err := json.Marshal(logLine{Event: event, DBMS: t.DBMS, Name: t.Name, ID: t.ID, At: time.Now().UTC()})
	if err != nil {
		return err
	}
	buf := append(line, '\n')
	fresh := s.rec.log == nil
	if fresh {
		head, _ := json.Marshal(logLine{LogGen: s.rec.gen})
		buf = append(append(head, '\n'), buf...)
		f, err := s.fs.Create(s.fs.PathJoin(s.dir, RecordLog), vfs.WriteCategoryUnspecified)
		if err != nil {
			return fmt.Errorf("writing %s: %w", RecordLog, err)
		}
		s.rec.log = f
	}
	// Any failure may leave part of a line: the next change writes the
	// record whole, which ends this log.
	s.rec.broken = true
	if _, err := s.rec.log.Write(buf); err != nil {
		return fmt.Errorf("writing %s: %w", RecordLog, err)
	}
	if err := s.rec.log.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", RecordLog, err)
	}
	if fresh {
		if err := syncDir(s.fs, s.dir); err != nil {
			return err
		}
	}
	s.rec.broken = false
	s.rec.lines++
	return nil
}

func syncDir(fs vfs.FS, dir string) error {
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
					full, rt.ID, st.rec.from, st.rec.Event, st.rec.WrittenAt.Format(time.RFC3339), len(ss.tables))
			}
			if got := ss.stats[rt.ID].seq; got < rt.Commit {
				return damaged(cur, "table %s is at commit %d but %s (written at %s on %s) says %d: the database lost commits",
					full, got, st.rec.from, st.rec.Event, st.rec.WrittenAt.Format(time.RFC3339), rt.Commit)
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

// recordState is what the open store knows of its record's files.
type recordState struct {
	gen    uint64   // the log generation of RecordFile as last written
	tables int      // the tables RecordFile listed then
	log    vfs.File // RecordLog, open for appending; nil until the first line
	lines  int      // lines appended to RecordLog since
	broken bool     // an append failed part way
}
