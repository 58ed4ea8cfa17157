// Package tables is lakenode's storage: every table of a node in one Pebble
// database, under key prefixes (FORMAT.md). It owns the catalog of table
// schemas, the row codec, the offsets stored with the rows (exactly-once
// ingest) and time-ordered scans.
//
// tables is the only package that imports Pebble; it never imports the SQL
// packages above it.
package tables

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/lakenode/lakenode/tables/schema"
)

// FormatVersion is the on-disk format this build writes and reads: 2 added
// sealed blocks (h/ and b/ keys). A version 1 dir is opened and marked 2;
// its rows are sealed like new ones.
const FormatVersion = 2

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

// Option configures Open.
type Option func(*options)

type options struct {
	logger    *slog.Logger
	node      string
	fs        vfs.FS
	cacheSize int64
	minFree   uint64
	freeSpace func(dir string) (uint64, error)
	sealShare func() float64
}

// WithLogger routes Pebble's logs to l (at debug level, errors at error).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithNodeName sets the tsd_name stamped on every row. Default "lakenode".
func WithNodeName(n string) Option { return func(o *options) { o.node = n } }

// WithFS stores the database on fs (tests use vfs.NewMem()).
func WithFS(fs vfs.FS) Option { return func(o *options) { o.fs = fs } }

// WithCacheSize sets the block cache size. Default 256 MiB. Pebble
// reserves each memtable's 64 MiB in it, so sstable blocks get what the
// memtables leave: none when n is 128 MiB or less.
func WithCacheSize(n int64) Option { return func(o *options) { o.cacheSize = n } }

// WithMinFree sets the free space (bytes) the data dir's filesystem must
// keep: below it Apply refuses with a *DiskFullError before writing, and
// Space reports the disk full. Default 0: not checked.
func WithMinFree(n uint64) Option { return func(o *options) { o.minFree = n } }

// WithSealShare bounds a seal pass to about share of one core while it
// runs: after each block it pauses, its iterators closed, for as long as
// the block took times 1/share - 1, so that sealing the minute's rows at
// once does not starve ingest on a small machine. Shares are clamped to
// [0.05, 1]. Default 1: no pauses.
func WithSealShare(share float64) Option {
	return WithSealShareFunc(func() float64 { return share })
}

// WithSealShareFunc is WithSealShare with a share that fn says after each
// block, and again every 100 ms while the pass pauses, so that sealing can
// yield while ingest is behind and pick up as soon as it is not.
func WithSealShareFunc(fn func() float64) Option {
	return func(o *options) { o.sealShare = fn }
}

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
	// sealMu serialises seal passes; the counters are Sealed's.
	sealMu sync.Mutex
	// sealShare is WithSealShareFunc's (nil: seal passes never pause).
	sealShare                                   func() float64
	sealRows, sealBlocks, sealPasses, sealNanos atomic.Int64
	sealRangeRows                               atomic.Int64  // of sealRows, those removed by range deletes
	sealRead                                    atomic.Int64  // rows the passes read, sealed or not
	sealLoaded, sealCached                      atomic.Int64  // sstable block bytes the passes' iterators loaded; of them, found in the block cache
	sealPoints, sealIters                       atomic.Int64  // internal points the passes' iterators stepped over; iterators they opened
	mergedBlocks                                atomic.Int64  // small blocks MergeBlocks replaced
	sealB                                       *blockBuilder // the seal passes' builder, reused
	openedUs                                    int64         // when the store opened (µs): rows committed before it are not in any table's pending spans

	mu        sync.RWMutex // guards the maps below
	tables    map[string]*schema.Table
	byID      map[uint32]*schema.Table
	stats     map[uint32]*tableStats
	offsets   map[offKey]int64
	lwms      map[lwmK]int64
	sources   map[string]uint32
	nextID    uint32
	nextSrc   uint32
	nextBlock uint64 // the last block id given
	closed    bool
	applyMus  map[uint32]*tableLock
	mem       *memBytes // per table, bytes not yet flushed (estimate)
	stalls    *writeStalls

	space     *Space        // the free space of the data dir's filesystem
	stopSpace chan struct{} // stops its poller
}

// sstableBlockSize is the target uncompressed size of the store's
// sstable data blocks (Open).
const sstableBlockSize = 32 << 10

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
	// 32 KiB sstable blocks instead of Pebble's 4 KiB: the store reads
	// in long runs (scans, seal passes, compactions), and per block each
	// read pays an allocation in the cache, a read and a decompression.
	// BenchmarkCatchUpSealing, 3 M rows (2026-12-07): CPU per row 1.33 ->
	// 1.07 us never sealing, 2.21 -> 1.68 us sealing.
	for i := range popts.Levels {
		popts.Levels[i].BlockSize = sstableBlockSize
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
	stalls := newWriteStalls(o.logger, time.Now)
	popts.EventListener.WriteStallBegin = stalls.begin
	popts.EventListener.WriteStallEnd = stalls.end
	db, err := pebble.Open(dir, popts)
	if err != nil {
		_ = lock.Close()
		return nil, openError(dir, st, err)
	}
	s := &Store{
		db: db, lock: lock, dir: dir, node: o.node, mem: mem, stalls: stalls, fs: fs, cacheSize: o.cacheSize,
		tables: map[string]*schema.Table{}, byID: map[uint32]*schema.Table{}, stats: map[uint32]*tableStats{},
		offsets: map[offKey]int64{}, lwms: map[lwmK]int64{}, sources: map[string]uint32{},
		nextID: 1, nextSrc: 1, applyMus: map[uint32]*tableLock{},
		space: NewSpace(dir, o.minFree), stopSpace: make(chan struct{}), openedUs: time.Now().UnixMicro(),
		sealShare: o.sealShare,
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
		// An older version is converted in place: its rows are sealed
		// like new ones, and from then on an older build must not open it.
		if ver < FormatVersion && !s.readOnly {
			if err := s.db.Set(formatKey, binary.BigEndian.AppendUint32(nil, FormatVersion), pebble.Sync); err != nil {
				return fmt.Errorf("writing the format version: %w", err)
			}
		}
	}
	if err := s.loadBlocks(); err != nil {
		return err
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

// OpenMem opens an empty store held in memory, for a snapshot answered
// with the SQL engine (lakenode.partitions); Close frees it.
func OpenMem(opts ...Option) (*Store, error) {
	return Open("mem", append([]Option{WithFS(vfs.NewMem()), WithCacheSize(1 << 20)}, opts...)...)
}
