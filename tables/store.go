// Package tables is lakenode's storage: every table of a node in one Pebble
// database, under key prefixes (FORMAT.md). It owns the catalog of table
// schemas, the row codec, the offsets stored with the rows (exactly-once
// ingest) and time-ordered scans.
//
// tables is the only package that imports Pebble; it never imports the SQL
// packages above it.
package tables

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/lakenode/lakenode/tables/schema"
)

// FormatVersion is the on-disk format this build writes and reads.
const FormatVersion = 1

// The error table: rejected messages are kept as rows of this ordinary table.
const (
	ErrorsDBMS  = "lakenode"
	ErrorsTable = "kafka_errors"
)

// ErrorTableColumns are the user columns of lakenode.kafka_errors.
var ErrorTableColumns = []schema.Column{
	{Name: "consumer_id", Type: schema.TypeString},
	{Name: "topic", Type: schema.TypeString},
	{Name: "partition", Type: schema.TypeInt},
	{Name: "offset", Type: schema.TypeInt},
	{Name: "reason", Type: schema.TypeString},
	{Name: "received_at", Type: schema.TypeTimestamp},
	{Name: "message", Type: schema.TypeString},
}

// SchemaError is a clash between a column's declared type and the type it
// already has in its table.
type SchemaError struct {
	Table    string // dbms.table
	Column   string
	Existing schema.Type
	Declared schema.Type
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("column %s of table %s is %s, not %s: declare it as %s or map it to another column",
		e.Column, e.Table, e.Existing, e.Declared, e.Existing)
}

// Option configures Open.
type Option func(*options)

type options struct {
	logger    *slog.Logger
	node      string
	fs        vfs.FS
	cacheSize int64
	minFree   uint64
	freeSpace func(dir string) (uint64, error)
}

// WithLogger routes Pebble's logs to l (at debug level, errors at error).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithNodeName sets the tsd_name stamped on every row. Default "lakenode".
func WithNodeName(n string) Option { return func(o *options) { o.node = n } }

// WithFS stores the database on fs (tests use vfs.NewMem()).
func WithFS(fs vfs.FS) Option { return func(o *options) { o.fs = fs } }

// WithCacheSize sets the block cache size. Default 256 MiB.
func WithCacheSize(n int64) Option { return func(o *options) { o.cacheSize = n } }

// WithMinFree sets the free space (bytes) the data dir's filesystem must
// keep: below it Apply refuses with a *DiskFullError before writing, and
// Space reports the disk full. Default 0: not checked.
func WithMinFree(n uint64) Option { return func(o *options) { o.minFree = n } }

// WithFreeSpace reads the free space with fn instead of statfs (tests).
func WithFreeSpace(fn func(dir string) (uint64, error)) Option {
	return func(o *options) { o.freeSpace = fn }
}

// Store is one node's tables.
type Store struct {
	db   *pebble.DB
	lock *pebble.Lock // the directory lock, released after the DB closes
	dir  string
	node string
	// cacheSize is the block cache's capacity, for Memory.
	cacheSize int64
	fs        vfs.FS

	// readOnly is set for the read-only view verify takes before Open;
	// hasFormat says whether load found the m/format key.
	readOnly, hasFormat bool
	// recordMu serialises writes of RecordFile and RecordLog, and guards
	// rec.
	recordMu sync.Mutex
	rec      recordState

	// catalogMu serialises schema changes (create, extend, drop).
	catalogMu sync.Mutex

	mu       sync.RWMutex // guards the maps below
	tables   map[string]*schema.Table
	byID     map[uint32]*schema.Table
	stats    map[uint32]*tableStats
	offsets  map[offKey]int64
	lwms     map[lwmK]int64
	sources  map[string]uint32
	nextID   uint32
	nextSrc  uint32
	closed   bool
	applyMus map[uint32]*sync.Mutex
	mem      *memBytes // per table, bytes not yet flushed (estimate)

	space     *Space        // the free space of the data dir's filesystem
	stopSpace chan struct{} // stops its poller
}

type offKey struct {
	table, src uint32
	partition  int32
}

type lwmK struct {
	src       uint32
	partition int32
}

// tableStats is persisted under t/<id>.
type tableStats struct {
	rows       int64
	minTime    int64
	maxTime    int64
	hasTime    bool
	nextRowID  int64
	seq        uint64
	lastCommit int64 // µs
}

func (s tableStats) encode() []byte {
	b := make([]byte, 0, 48)
	b = binary.AppendVarint(b, s.rows)
	b = binary.AppendVarint(b, s.minTime)
	b = binary.AppendVarint(b, s.maxTime)
	h := int64(0)
	if s.hasTime {
		h = 1
	}
	b = binary.AppendVarint(b, h)
	b = binary.AppendVarint(b, s.nextRowID)
	b = binary.AppendUvarint(b, s.seq)
	return binary.AppendVarint(b, s.lastCommit)
}

func decodeStats(b []byte) (tableStats, error) {
	var s tableStats
	var vals [7]int64
	for i := range vals {
		if i == 5 {
			u, n := binary.Uvarint(b)
			if n <= 0 {
				return s, errors.New("tables: corrupt table stats")
			}
			s.seq, b = u, b[n:]
			continue
		}
		v, n := binary.Varint(b)
		if n <= 0 {
			return s, errors.New("tables: corrupt table stats")
		}
		vals[i], b = v, b[n:]
	}
	s.rows, s.minTime, s.maxTime, s.hasTime, s.nextRowID, s.lastCommit = vals[0], vals[1], vals[2], vals[3] == 1, vals[4], vals[6]
	return s, nil
}

type storedSchema struct {
	DBMS       string         `json:"dbms"`
	Name       string         `json:"name"`
	ID         uint32         `json:"id"`
	Version    uint32         `json:"version"`
	TimeColumn int            `json:"time_column"`
	Columns    []storedColumn `json:"columns"`
	Retention  int64          `json:"retention_us,omitempty"`
}

type storedColumn struct {
	Name string `json:"name"`
	Type uint8  `json:"type"`
}

func encodeSchema(t *schema.Table) []byte {
	ss := storedSchema{DBMS: t.DBMS, Name: t.Name, ID: t.ID, Version: t.Version, TimeColumn: t.TimeColumn, Retention: t.Retention.Microseconds()}
	for _, c := range t.Columns {
		ss.Columns = append(ss.Columns, storedColumn{Name: c.Name, Type: uint8(c.Type)})
	}
	b, _ := json.Marshal(ss)
	return b
}

func decodeSchema(b []byte) (*schema.Table, error) {
	var ss storedSchema
	if err := json.Unmarshal(b, &ss); err != nil {
		return nil, fmt.Errorf("tables: corrupt schema: %w", err)
	}
	t := &schema.Table{DBMS: ss.DBMS, Name: ss.Name, ID: ss.ID, Version: ss.Version, TimeColumn: ss.TimeColumn, Retention: time.Duration(ss.Retention) * time.Microsecond}
	for _, c := range ss.Columns {
		t.Columns = append(t.Columns, schema.Column{Name: c.Name, Type: schema.Type(c.Type)})
	}
	return t, nil
}

// Open opens (creating if needed) the store in dir. A dir written by a newer
// lakenode, or held by another process, is refused with a clear error. A dir
// that is not new is first opened read-only and checked against lakenode's
// record (RecordFile): a damaged one is refused with a *DamageError, and
// neither check nor refusal changes or deletes anything in it.
func Open(dir string, opts ...Option) (*Store, error) {
	o := options{node: "lakenode", cacheSize: 256 << 20, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	fs := o.fs
	if fs == nil {
		fs = vfs.Default
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data dir %s: %w", dir, err)
	}
	// Take Pebble's directory lock first, so that a dir in use by another
	// process gets an error that says so rather than a generic open failure.
	lock, err := pebble.LockDirectory(dir, fs)
	if err != nil {
		return nil, fmt.Errorf("data dir %s is in use (is another lakenode running on it?): %w", dir, err)
	}
	st, err := readDirState(fs, dir)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	cache := pebble.NewCache(o.cacheSize)
	defer cache.Unref()
	popts := &pebble.Options{
		FS:                          fs,
		Lock:                        lock,
		Cache:                       cache,
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       1000,
		LBaseMaxBytes:               512 << 20,
		FormatMajorVersion:          pebble.FormatNewest,
		CompactionConcurrencyRange:  func() (int, int) { return 1, 2 },
		Logger:                      pebbleLogger{o.logger},
	}
	if fresh := len(st.pebble) == 0 && st.rec == nil; !fresh {
		v, err := verify(dir, st, popts, false)
		if err != nil {
			_ = lock.Close()
			return nil, err
		}
		// Left over by an unclean stop (a flush or compaction cut short):
		// Pebble would delete them; keep them aside instead.
		if len(v.unreferenced) > 0 {
			o.logger.Warn("moving .sst files that Pebble does not reference aside", "dir", fs.PathJoin(dir, UnreferencedDir), "files", v.unreferenced)
			if err := moveUnreferenced(fs, dir, v.unreferenced); err != nil {
				_ = lock.Close()
				return nil, err
			}
		}
		// Never let Pebble create an empty database over one that exists.
		popts.ErrorIfNotExists = true
	}
	mem := newMemBytes()
	popts.EventListener = mem.listener()
	popts.EventListener.DataCorruption = corruptionLogger(o.logger)
	popts.EventListener.BackgroundError = backgroundErrorLogger(o.logger)
	db, err := pebble.Open(dir, popts)
	if err != nil {
		_ = lock.Close()
		return nil, openError(dir, st, err)
	}
	s := &Store{
		db: db, lock: lock, dir: dir, node: o.node, mem: mem, fs: fs, cacheSize: o.cacheSize,
		tables: map[string]*schema.Table{}, byID: map[uint32]*schema.Table{}, stats: map[uint32]*tableStats{},
		offsets: map[offKey]int64{}, lwms: map[lwmK]int64{}, sources: map[string]uint32{},
		nextID: 1, nextSrc: 1, applyMus: map[uint32]*sync.Mutex{},
		space: NewSpace(dir, o.minFree), stopSpace: make(chan struct{}),
	}
	if o.freeSpace != nil {
		s.space = newSpace(dir, o.minFree, o.freeSpace, time.Now)
	}
	if st.rec != nil {
		s.rec.gen = st.rec.LogGen
	}
	if o.minFree > 0 {
		go s.space.poll(s.stopSpace)
	}
	if err := s.load(); err != nil {
		close(s.stopSpace)
		_ = db.Close()
		_ = lock.Close()
		return nil, err
	}
	if err := s.saveRecord("open", 0, false); err != nil {
		close(s.stopSpace)
		_ = db.Close()
		_ = lock.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) load() error {
	v, closer, err := s.db.Get(formatKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound) && s.readOnly:
	case errors.Is(err, pebble.ErrNotFound):
		s.hasFormat = true
		if err := s.db.Set(formatKey, binary.BigEndian.AppendUint32(nil, FormatVersion), pebble.Sync); err != nil {
			return fmt.Errorf("writing the format version: %w", err)
		}
	case err != nil:
		return fmt.Errorf("reading the format version: %w", err)
	default:
		s.hasFormat = true
		if len(v) != 4 {
			_ = closer.Close()
			return fmt.Errorf("data dir %s: corrupt format version key (%d bytes)", s.dir, len(v))
		}
		ver := binary.BigEndian.Uint32(v)
		_ = closer.Close()
		if ver > FormatVersion {
			return fmt.Errorf("data dir %s was written by a newer lakenode (format %d, this build reads %d)", s.dir, ver, FormatVersion)
		}
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixCatalog, '/'}, UpperBound: []byte{prefixCatalog, '/' + 1}})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		t, err := decodeSchema(it.Value())
		if err != nil {
			_ = it.Close()
			return err
		}
		s.tables[t.FullName()] = t
		s.byID[t.ID] = t
		s.nextID = max(s.nextID, t.ID+1)
		s.stats[t.ID] = &tableStats{}
	}
	if err := it.Close(); err != nil {
		return err
	}
	return s.scanPrefix(func(k, v []byte) error {
		if !validMetaKey(k, v) {
			return fmt.Errorf("data dir %s: corrupt key %q (value %d bytes)", s.dir, k, len(v))
		}
		switch k[0] {
		case prefixStats:
			id := binary.BigEndian.Uint32(k[2:])
			st, err := decodeStats(v)
			if err != nil {
				return err
			}
			if _, ok := s.byID[id]; ok {
				s.stats[id] = &st
			}
		case prefixOffset:
			s.offsets[offKey{binary.BigEndian.Uint32(k[2:]), binary.BigEndian.Uint32(k[6:]), int32(binary.BigEndian.Uint32(k[10:]))}] = int64(binary.BigEndian.Uint64(v))
		case prefixLWM:
			s.lwms[lwmK{binary.BigEndian.Uint32(k[2:]), int32(binary.BigEndian.Uint32(k[6:]))}] = int64(binary.BigEndian.Uint64(v))
		case prefixSource:
			id := binary.BigEndian.Uint32(v)
			s.sources[string(k[2:])] = id
			s.nextSrc = max(s.nextSrc, id+1)
		}
		return nil
	}, prefixStats, prefixOffset, prefixLWM, prefixSource)
}

// validMetaKey checks the lengths of a t/, o/, p/ or s/ key and its value
// before load decodes them.
func validMetaKey(k, v []byte) bool {
	switch k[0] {
	case prefixStats:
		return len(k) == 6
	case prefixOffset:
		return len(k) == 14 && len(v) == 8
	case prefixLWM:
		return len(k) == 10 && len(v) == 8
	case prefixSource:
		return len(v) == 4
	}
	return true
}

func (s *Store) scanPrefix(fn func(k, v []byte) error, prefixes ...byte) error {
	for _, p := range prefixes {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{p, '/'}, UpperBound: []byte{p, '/' + 1}})
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			if err := fn(it.Key(), it.Value()); err != nil {
				_ = it.Close()
				return err
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database and releases the data dir. Every Apply that
// returned is already durable, so Close has nothing of its own to save; the
// store must not be used after it. A second Close is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stopSpace)
	err := s.db.Close()
	if err == nil {
		// A clean stop: the record says so, and holds every table's
		// last commit.
		err = s.saveRecord("stop", 0, true)
	}
	s.recordMu.Lock()
	s.closeRecordLog()
	s.recordMu.Unlock()
	if lerr := s.lock.Close(); err == nil && lerr != nil {
		err = fmt.Errorf("releasing the lock of %s: %w", s.dir, lerr)
	}
	return err
}

// Space is the free space of the data dir's filesystem, against the
// minimum of WithMinFree.
func (s *Store) Space() *Space { return s.space }

// Tables returns every table, sorted by dbms and name.
func (s *Store) Tables() []*schema.Table {
	s.mu.RLock()
	out := make([]*schema.Table, 0, len(s.tables))
	for _, t := range s.tables {
		out = append(out, t)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].DBMS != out[j].DBMS {
			return out[i].DBMS < out[j].DBMS
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Table returns the current schema of dbms.name.
func (s *Store) Table(dbms, name string) (*schema.Table, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tables[dbms+"."+name]
	return t, ok
}

// DBMSs returns the names of the databases that have tables, sorted.
func (s *Store) DBMSs() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range s.Tables() {
		if !seen[t.DBMS] {
			seen[t.DBMS] = true
			out = append(out, t.DBMS)
		}
	}
	return out
}

// PlanColumns checks that cols fit table dbms.name (a new table, new
// columns, or columns of the same types); it changes nothing.
func (s *Store) PlanColumns(dbms, name string, cols []schema.Column) error {
	t, ok := s.Table(dbms, name)
	if !ok {
		return checkNewColumns(cols)
	}
	_, err := extend(t, cols)
	return err
}

func checkNewColumns(cols []schema.Column) error {
	seen := map[string]schema.Type{}
	for _, c := range cols {
		for _, sc := range schema.SystemColumns {
			if sc.Name == c.Name {
				return fmt.Errorf("column %s is a system column", c.Name)
			}
		}
		if t, ok := seen[c.Name]; ok && t != c.Type {
			return fmt.Errorf("column %s is declared twice, as %s and %s", c.Name, t, c.Type)
		}
		seen[c.Name] = c.Type
	}
	return nil
}

// extend returns t with the columns of cols it lacks appended (or t itself
// when it has them all), or a *SchemaError.
func extend(t *schema.Table, cols []schema.Column) (*schema.Table, error) {
	var added []schema.Column
	for _, c := range cols {
		i := t.ColumnIndex(c.Name)
		if i < 0 {
			if !slices.ContainsFunc(added, func(a schema.Column) bool { return a.Name == c.Name }) {
				added = append(added, c)
			}
			continue
		}
		if t.Columns[i].Type != c.Type {
			return nil, &SchemaError{Table: t.FullName(), Column: c.Name, Existing: t.Columns[i].Type, Declared: c.Type}
		}
	}
	if len(added) == 0 {
		return t, nil
	}
	nt := *t
	nt.Columns = append(slices.Clone(t.Columns), added...)
	nt.Version++
	return &nt, nil
}

// EnsureTable creates dbms.name with cols, or adds the columns it lacks,
// durably, and returns the current schema.
func (s *Store) EnsureTable(dbms, name string, cols []schema.Column) (*schema.Table, error) {
	if dbms == "" || name == "" {
		return nil, errors.New("tables: a table needs a dbms and a name")
	}
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	t, ok := s.Table(dbms, name)
	var nt *schema.Table
	if ok {
		var err error
		if nt, err = extend(t, cols); err != nil {
			return nil, err
		}
		if nt == t {
			return t, nil
		}
	} else {
		if err := checkNewColumns(cols); err != nil {
			return nil, fmt.Errorf("table %s.%s: %w", dbms, name, err)
		}
		s.mu.Lock()
		id := s.nextID
		s.nextID++
		s.mu.Unlock()
		all := append(slices.Clone(schema.SystemColumns), cols...)
		nt = &schema.Table{DBMS: dbms, Name: name, ID: id, Version: 1, Columns: all, TimeColumn: schema.ChooseTimeColumn(all)}
	}
	if err := s.db.Set(catalogKey(dbms, name), encodeSchema(nt), pebble.Sync); err != nil {
		return nil, fmt.Errorf("storing the schema of %s: %w", nt.FullName(), err)
	}
	s.mu.Lock()
	s.tables[nt.FullName()] = nt
	s.byID[nt.ID] = nt
	if s.stats[nt.ID] == nil {
		s.stats[nt.ID] = &tableStats{}
	}
	s.mu.Unlock()
	if !ok {
		// After the schema is durable, so the record never lists a table
		// the database lacks.
		if err := s.logRecord("create", nt); err != nil {
			return nil, fmt.Errorf("table %s was created but %w", nt.FullName(), err)
		}
	}
	return nt, nil
}

// DropTable deletes a table: its rows, offsets, stats and schema.
func (s *Store) DropTable(dbms, name string) error {
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	t, ok := s.Table(dbms, name)
	if !ok {
		return fmt.Errorf("table %s.%s does not exist", dbms, name)
	}
	mu := s.applyMutex(t.ID)
	mu.Lock()
	defer mu.Unlock()
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	_ = b.DeleteRange(tablePrefix(t.ID), tableEnd(t.ID), nil)
	_ = b.DeleteRange(binary.BigEndian.AppendUint32([]byte{prefixOffset, '/'}, t.ID), binary.BigEndian.AppendUint32([]byte{prefixOffset, '/'}, t.ID+1), nil)
	_ = b.Delete(statsKey(t.ID), nil)
	_ = b.Delete(catalogKey(dbms, name), nil)

	// The partitions that fed only this table forget their positions, so
	// that consuming them again re-creates it from the start; the rejected
	// messages they left in the error table go too, or a new run would
	// skip them as already stored.
	only := s.onlyFeeds(t.ID)
	for sp := range only {
		_ = b.Delete(lwmKey(sp.src, sp.partition), nil)
	}
	errT, hasErrs := s.Table(ErrorsDBMS, ErrorsTable)
	var errStats tableStats
	if hasErrs && len(only) > 0 && errT.ID != t.ID {
		emu := s.applyMutex(errT.ID)
		emu.Lock()
		defer emu.Unlock()
		n, err := s.deleteRows(b, errT.ID, func(k rowKey) bool {
			_, ok := only[lwmK{k.src, k.partition}]
			return ok
		})
		if err != nil {
			return fmt.Errorf("dropping %s: %w", t.FullName(), err)
		}
		for sp := range only {
			_ = b.Delete(offsetKey(errT.ID, sp.src, sp.partition), nil)
		}
		s.mu.RLock()
		if p := s.stats[errT.ID]; p != nil {
			errStats = *p
		}
		s.mu.RUnlock()
		errStats.rows -= n
		if errStats.rows <= 0 {
			errStats.rows, errStats.hasTime = 0, false
		}
		_ = b.Set(statsKey(errT.ID), errStats.encode(), nil)
	} else {
		hasErrs = false
	}
	// Before the drop is durable, so the record never lists a table the
	// database lacks.
	if err := s.logRecord("drop", t); err != nil {
		return fmt.Errorf("dropping %s: %w", t.FullName(), err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("dropping %s: %w", t.FullName(), err)
	}
	s.mu.Lock()
	delete(s.tables, t.FullName())
	delete(s.byID, t.ID)
	delete(s.stats, t.ID)
	s.mem.forget(t.ID)
	for k := range s.offsets {
		_, fed := only[lwmK{k.src, k.partition}]
		if k.table == t.ID || (hasErrs && k.table == errT.ID && fed) {
			delete(s.offsets, k)
		}
	}
	for sp := range only {
		delete(s.lwms, sp)
	}
	if hasErrs {
		s.stats[errT.ID] = &errStats
	}
	s.mu.Unlock()
	return nil
}

// onlyFeeds returns the partitions that fed table id and no other table
// (the error table aside).
func (s *Store) onlyFeeds(id uint32) map[lwmK]struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var errID uint32
	if et, ok := s.tables[ErrorsDBMS+"."+ErrorsTable]; ok {
		errID = et.ID
	}
	only := map[lwmK]struct{}{}
	for k := range s.offsets {
		if k.table == id {
			only[lwmK{k.src, k.partition}] = struct{}{}
		}
	}
	for k := range s.offsets {
		if k.table != id && (errID == 0 || k.table != errID) {
			delete(only, lwmK{k.src, k.partition})
		}
	}
	return only
}

// SetRetention sets how long a table keeps rows (0: forever), durably.
func (s *Store) SetRetention(dbms, name string, keep time.Duration) (*schema.Table, error) {
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	t, ok := s.Table(dbms, name)
	if !ok {
		return nil, fmt.Errorf("table %s.%s does not exist", dbms, name)
	}
	nt := *t
	nt.Retention = keep
	if err := s.db.Set(catalogKey(dbms, name), encodeSchema(&nt), pebble.Sync); err != nil {
		return nil, fmt.Errorf("storing the retention of %s: %w", t.FullName(), err)
	}
	s.mu.Lock()
	s.tables[nt.FullName()] = &nt
	s.byID[nt.ID] = &nt
	s.mu.Unlock()
	return &nt, nil
}

// Expire deletes t's rows whose time is before cutoff (µs), with one range
// delete, and returns how many there were.
func (s *Store) Expire(ctx context.Context, t *schema.Table, cutoff int64) (int64, error) {
	mu := s.applyMutex(t.ID)
	mu.Lock()
	defer mu.Unlock()
	n, err := s.CountKeys(ctx, t, TimeRange{To: cutoff, HasTo: true})
	if err != nil || n == 0 {
		return 0, err
	}
	s.mu.RLock()
	var st tableStats
	if p := s.stats[t.ID]; p != nil {
		st = *p
	}
	s.mu.RUnlock()
	st.rows -= n
	if st.rows <= 0 {
		st.rows, st.hasTime = 0, false
	} else if st.minTime < cutoff {
		st.minTime = cutoff
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := b.DeleteRange(tablePrefix(t.ID), rowTimeBound(t.ID, cutoff), nil); err != nil {
		return 0, err
	}
	if err := b.Set(statsKey(t.ID), st.encode(), nil); err != nil {
		return 0, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("expiring rows of %s: %w", t.FullName(), err)
	}
	s.mu.Lock()
	if _, live := s.byID[t.ID]; live {
		s.stats[t.ID] = &st
	}
	s.mu.Unlock()
	return n, nil
}

// SourceID returns the local id of a topic identity, allocating it durably
// the first time.
func (s *Store) SourceID(clusterID, topicID string) (uint32, error) {
	key := clusterID + "\x00" + topicID
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.sources[key]; ok {
		return id, nil
	}
	id := s.nextSrc
	if err := s.db.Set(sourceKey(clusterID, topicID), binary.BigEndian.AppendUint32(nil, id), pebble.Sync); err != nil {
		return 0, fmt.Errorf("storing source id: %w", err)
	}
	s.nextSrc++
	s.sources[key] = id
	return id, nil
}

// TableOffset is the next offset table has applied from (src, partition).
func (s *Store) TableOffset(table, src uint32, partition int32) (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.offsets[offKey{table, src, partition}]
	return v, ok
}

// LowWater is a partition's low-water mark: every record below it is
// durable in every table it feeds.
func (s *Store) LowWater(src uint32, partition int32) (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.lwms[lwmK{src, partition}]
	return v, ok
}

// SetLowWater stores a partition's low-water mark. It is written without
// sync: it only ever lags the data, whose own offsets protect against
// replays.
func (s *Store) SetLowWater(src uint32, partition int32, next int64) error {
	if err := s.db.Set(lwmKey(src, partition), binary.BigEndian.AppendUint64(nil, uint64(next)), pebble.NoSync); err != nil {
		return fmt.Errorf("storing the low-water mark: %w", err)
	}
	s.mu.Lock()
	s.lwms[lwmK{src, partition}] = next
	s.mu.Unlock()
	return nil
}

// Record is one row to write: the Kafka offset it came from, its index
// within the message, and its user columns in table order (shorter than the
// table means trailing NULLs).
type Record struct {
	Offset int64
	Elem   int32
	Values []schema.Value
}

// Feed is the records one partition feeds a table in one Apply; Next is the
// offset after the last record it covers.
type Feed struct {
	Src       uint32
	Partition int32
	Records   []Record
	Next      int64
}

// ApplyResult says what an Apply wrote.
type ApplyResult struct {
	Rows       int
	Skipped    int // records below the table's stored offset (a replay)
	Seq        uint64
	CommitTime time.Time
}

func (s *Store) applyMutex(id uint32) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.applyMus[id]
	if m == nil {
		m = &sync.Mutex{}
		s.applyMus[id] = m
	}
	return m
}

// Apply writes feeds into table t in one batch committed with sync: the
// records at or past the table's stored offset of their partition (the
// others count as Skipped), the new offsets (where Next passes the stored
// one), and the table's stats. System columns are filled here: row_id,
// insert_timestamp (the commit time), tsd_name (the node name) and tsd_id
// (the table's commit sequence number, Seq). A record with more values than
// the table has user columns fails the whole Apply. The in-memory offsets and
// stats change only after the commit succeeded. Apply calls on one table are
// serialised; different tables may apply concurrently.
func (s *Store) Apply(t *schema.Table, feeds []Feed) (ApplyResult, error) {
	mu := s.applyMutex(t.ID)
	mu.Lock()
	defer mu.Unlock()
	s.mu.RLock()
	cur := s.byID[t.ID]
	var st tableStats
	if p := s.stats[t.ID]; p != nil {
		st = *p
	}
	starts := make([]int64, len(feeds))
	for i, f := range feeds {
		v, ok := s.offsets[offKey{t.ID, f.Src, f.Partition}]
		if !ok {
			v = -1
		}
		starts[i] = v
	}
	s.mu.RUnlock()
	if cur == nil {
		return ApplyResult{}, fmt.Errorf("table %s does not exist (dropped?)", t.FullName())
	}
	if cur.Version > t.Version {
		t = cur
	}
	// The table actors wait for space before they apply; this is the last
	// guard, so that Pebble never meets a full disk in its WAL.
	if err := s.space.Check(); err != nil {
		return ApplyResult{}, fmt.Errorf("committing to %s: %w", t.FullName(), err)
	}
	now := time.Now().UTC()
	nowUs := now.UnixMicro()
	st.seq++
	res := ApplyResult{Seq: st.seq, CommitTime: now}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	ncols := len(t.Columns)
	vals := make([]schema.Value, ncols)
	var key, val []byte
	newOffsets := make(map[offKey]int64, len(feeds))
	for i, f := range feeds {
		start := starts[i]
		ok := offKey{t.ID, f.Src, f.Partition}
		if prev, seen := newOffsets[ok]; seen {
			start = prev
		}
		for _, r := range f.Records {
			if start >= 0 && r.Offset < start {
				res.Skipped++
				continue
			}
			if len(r.Values) > ncols-schema.NumSystemColumns {
				return ApplyResult{}, fmt.Errorf("table %s: record at offset %d of partition %d has %d values, the table has %d user columns",
					t.FullName(), r.Offset, f.Partition, len(r.Values), ncols-schema.NumSystemColumns)
			}
			vals[0] = schema.Int(st.nextRowID + 1)
			vals[1] = schema.TimestampMicros(nowUs)
			vals[2] = schema.Str(s.node)
			vals[3] = schema.Int(int64(st.seq))
			n := copy(vals[schema.NumSystemColumns:], r.Values)
			clear(vals[schema.NumSystemColumns+n:])
			var tm int64
			if tc := t.TimeColumn; tc >= 0 && tc < ncols && !vals[tc].IsNull() {
				tm = vals[tc].I
			}
			key = appendRowKey(key[:0], t.ID, tm, f.Src, f.Partition, r.Offset, r.Elem)
			val = appendRow(val[:0], vals)
			if err := b.Set(key, val, nil); err != nil {
				return ApplyResult{}, err
			}
			st.nextRowID++
			st.rows++
			if !st.hasTime || tm < st.minTime {
				st.minTime = tm
			}
			if !st.hasTime || tm > st.maxTime {
				st.maxTime = tm
			}
			st.hasTime = true
			res.Rows++
		}
		if f.Next > start {
			newOffsets[ok] = f.Next
			if err := b.Set(offsetKey(t.ID, f.Src, f.Partition), binary.BigEndian.AppendUint64(nil, uint64(f.Next)), nil); err != nil {
				return ApplyResult{}, err
			}
		}
	}
	st.lastCommit = nowUs
	if err := b.Set(statsKey(t.ID), st.encode(), nil); err != nil {
		return ApplyResult{}, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return ApplyResult{}, fmt.Errorf("committing %d rows to %s: %w", res.Rows, t.FullName(), err)
	}
	s.mem.add(t.ID, uint64(b.Len()))
	s.mu.Lock()
	if _, live := s.byID[t.ID]; live {
		s.stats[t.ID] = &st
	}
	for k, v := range newOffsets {
		s.offsets[k] = v
	}
	s.mu.Unlock()
	return res, nil
}

// TableStats are a table's counters, kept with its rows.
type TableStats struct {
	Rows             int64
	MinTime, MaxTime int64 // µs, of the time column
	HasTime          bool
	DiskBytes        uint64 // in sstables, plus an estimate of what the memtables hold
	Seq              uint64
	LastCommit       time.Time
}

// Stats returns a table's counters.
func (s *Store) Stats(t *schema.Table) TableStats {
	s.mu.RLock()
	st := s.stats[t.ID]
	var c tableStats
	if st != nil {
		c = *st
	}
	s.mu.RUnlock()
	out := TableStats{Rows: c.rows, MinTime: c.minTime, MaxTime: c.maxTime, HasTime: c.hasTime, Seq: c.seq}
	if c.lastCommit != 0 {
		out.LastCommit = time.UnixMicro(c.lastCommit).UTC()
	}
	if n, err := s.db.EstimateDiskUsage(tablePrefix(t.ID), tableEnd(t.ID)); err == nil {
		out.DiskBytes = n
	}
	out.DiskBytes += s.mem.unflushed(t.ID)
	return out
}

// Metrics returns Pebble's metrics, for debugging.
func (s *Store) Metrics() string { return s.db.Metrics().String() }

// MemoryStats is what the store holds in memory outside the Go heap, as
// Pebble counts it: the block cache, the memtables (live and zombie) and
// the open sstable readers.
type MemoryStats struct {
	BlockCacheBytes    int64 // block cache in use
	BlockCacheCapacity int64 // the block cache's size (WithCacheSize)
	MemTableBytes      uint64
	MemTableZombie     uint64 // memtables flushed but still read by an iterator
	MemTables          int64
	OpenTables         int64 // sstables with an open reader (file cache)
	OpenTableBytes     int64 // Pebble's estimate of those readers' memory
	LiveTables         uint64
}

// Memory returns the store's memory figures.
func (s *Store) Memory() MemoryStats {
	m := s.db.Metrics()
	return MemoryStats{
		BlockCacheBytes: m.BlockCache.Size, BlockCacheCapacity: s.cacheSize,
		MemTableBytes: m.MemTable.Size, MemTableZombie: m.MemTable.ZombieSize, MemTables: m.MemTable.Count,
		OpenTables: m.FileCache.TableCount, OpenTableBytes: m.FileCache.Size,
		LiveTables: m.Table.Local.LiveCount,
	}
}

// backgroundErrorLogger logs a flush or compaction that failed (a full
// disk, say): Pebble retries it later, so the node keeps running.
func backgroundErrorLogger(l *slog.Logger) func(error) {
	return func(err error) {
		l.Error("pebble: a background flush or compaction failed; Pebble retries it", "err", err)
	}
}

// pebbleLogger sends Pebble's log lines to slog at debug level; Fatalf
// logs at error level and panics as Pebble expects.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error("pebble: " + msg)
	panic(msg)
}

// deleteRows adds to b the deletion of every row of table id whose key
// match accepts, and returns how many there are.
func (s *Store) deleteRows(b *pebble.Batch, id uint32, match func(rowKey) bool) (int64, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: tablePrefix(id), UpperBound: tableEnd(id)})
	if err != nil {
		return 0, err
	}
	defer func() { _ = it.Close() }()
	var n int64
	for it.First(); it.Valid(); it.Next() {
		k, err := decodeRowKey(it.Key())
		if err != nil {
			return 0, err
		}
		if match(k) {
			if err := b.Delete(it.Key(), nil); err != nil {
				return 0, err
			}
			n++
		}
	}
	return n, it.Error()
}
