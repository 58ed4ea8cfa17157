package tables

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// offKey names a table's next offset for one partition of a source.
type offKey struct {
	table, src uint32
	partition  int32
}

// lwmK names a partition's low-water mark.
type lwmK struct {
	src       uint32
	partition int32
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
