package tables

import (
	"log/slog"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// writeStalls counts Pebble's write stalls — every write of the store
// waits while too many memtables wait for a flush or L0 has too many
// sublevels — so that a stall shows in /metrics and in the log instead of
// only as lag.
type writeStalls struct {
	logger *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	count   int64
	total   time.Duration
	began   time.Time // zero when no stall runs
	reason  string
	logged  time.Time // the last log line, at most one a minute
	unlog   int64     // stalls since that line
	longest time.Duration
}

func newWriteStalls(l *slog.Logger, now func() time.Time) *writeStalls {
	return &writeStalls{logger: l, now: now}
}

func (w *writeStalls) begin(info pebble.WriteStallBeginInfo) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count++
	w.unlog++
	w.began = w.now()
	w.reason = info.Reason
}

func (w *writeStalls) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.began.IsZero() {
		return
	}
	now := w.now()
	d := now.Sub(w.began)
	w.total += d
	w.longest = max(w.longest, d)
	w.began = time.Time{}
	if now.Sub(w.logged) < time.Minute {
		return
	}
	w.logger.Warn("the store stalled writes (ingest waits while Pebble flushes or compacts; disk or CPU too slow for the ingest rate)",
		"stalls", w.unlog, "last_reason", w.reason, "last", d.Round(time.Millisecond), "longest", w.longest.Round(time.Millisecond))
	w.logged, w.unlog, w.longest = now, 0, 0
}

// WriteStallStats are the store's write stalls since it opened.
type WriteStallStats struct {
	Count int64
	Time  time.Duration // including a stall still running
}

func (w *writeStalls) stats() WriteStallStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := WriteStallStats{Count: w.count, Time: w.total}
	if !w.began.IsZero() {
		st.Time += w.now().Sub(w.began)
	}
	return st
}

// WriteStalls returns the store's write stalls since it opened.
func (s *Store) WriteStalls() WriteStallStats { return s.stalls.stats() }

// LSMStats are the figures of Pebble's tree that predict a write stall
// (L0's sublevels and files, and the bytes compactions still owe) and
// what the tree has written since the store opened.
type LSMStats struct {
	L0Sublevels    int32
	L0Files        int64
	CompactionDebt uint64
	// FlushedBytes are the sstable bytes memtable flushes wrote;
	// CompactedBytes those compactions wrote (moves not counted).
	FlushedBytes, CompactedBytes uint64
}

// LSM returns the store's LSM figures.
func (s *Store) LSM() LSMStats {
	m := s.db.Metrics()
	st := LSMStats{L0Sublevels: m.Levels[0].Sublevels, L0Files: m.Levels[0].TablesCount, CompactionDebt: m.Compact.EstimatedDebt}
	for i := range m.Levels {
		st.FlushedBytes += m.Levels[i].TableBytesFlushed
		st.CompactedBytes += m.Levels[i].TableBytesCompacted
	}
	return st
}
