package tables

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

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
			u, n := uvarint(b)
			if n <= 0 {
				return s, errors.New("tables: corrupt table stats")
			}
			s.seq, b = u, b[n:]
			continue
		}
		v, n := varint(b)
		if n <= 0 {
			return s, errors.New("tables: corrupt table stats")
		}
		vals[i], b = v, b[n:]
	}
	s.rows, s.minTime, s.maxTime, s.hasTime, s.nextRowID, s.lastCommit = vals[0], vals[1], vals[2], vals[3] == 1, vals[4], vals[6]
	return s, nil
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
	for _, p := range []byte{prefixHeader, prefixBody} {
		lo, hi := tableRange(p, t.ID)
		if n, err := s.db.EstimateDiskUsage(lo, hi); err == nil {
			out.DiskBytes += n
		}
	}
	out.DiskBytes += s.mem.unflushed(t.ID)
	return out
}

// SealedRows counts t's rows held in sealed blocks, and the blocks, from
// the block headers (one small key per block).
func (s *Store) SealedRows(t *schema.Table) (rows int64, blocks int, err error) {
	err = s.eachHeader(t, func(_ []byte, h *BlockHeader) error {
		rows += int64(h.Rows)
		blocks++
		return nil
	})
	return rows, blocks, err
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
