package tables

import (
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// BackupInfo says what Backup wrote.
type BackupInfo struct {
	Tables int
	Files  int
	Bytes  int64
	Took   time.Duration
}

// Backup writes a consistent copy of the store into dest, which must not
// exist: a Pebble checkpoint (hard links where the file system allows,
// copies otherwise) taken while writes go on, and the record (RecordFile)
// of the tables it holds. Every table's rows and stored offsets are of the
// same instant, since each Apply writes them in one batch; a node started
// on the copy resumes from the copy's own offsets.
func (s *Store) Backup(dest string) (BackupInfo, error) {
	start := time.Now()
	// The record is taken before the checkpoint, so the copy is never
	// behind it: tables and commits only grow between the two.
	rec := s.snapshotRecord("backup", 0)
	if err := s.db.Checkpoint(dest, pebble.WithFlushedWAL()); err != nil {
		return BackupInfo{}, fmt.Errorf("checkpoint of %s into %s: %w", s.dir, dest, err)
	}
	if err := writeRecord(s.fs, dest, rec); err != nil {
		return BackupInfo{}, fmt.Errorf("backup %s: %w", dest, err)
	}
	info := BackupInfo{Tables: len(rec.Tables)}
	ls, err := s.fs.List(dest)
	if err != nil {
		return info, fmt.Errorf("backup %s: %w", dest, err)
	}
	for _, name := range ls {
		if fi, err := s.fs.Stat(s.fs.PathJoin(dest, name)); err == nil && !fi.IsDir() {
			info.Files++
			info.Bytes += fi.Size()
		}
	}
	info.Took = time.Since(start)
	return info, nil
}
