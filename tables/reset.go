package tables

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// Rewound is what a reset took back from one table: its rows of the reset
// partitions at or after their new offsets, which are read again.
type Rewound struct {
	Table string // dbms.table
	Rows  int64
}

// ResetPositions sets the low-water marks of src's partitions to next, for
// `reset offsets`. A table that holds records of such a partition at or
// after its new offset loses those rows and its stored offset moves back to
// it, so that the re-read stores each record of the log from there exactly
// once: nothing doubled (the rows are gone) and nothing skipped (a table
// skips only records below its stored offset, which it holds). Rows before
// the new offset stay. Everything goes in one synced batch: unlike the marks
// ingest writes, which only ever lag the data, a reset may move a mark back,
// and a crash must not bring the old one back. No consumer of src may run.
func (s *Store) ResetPositions(src uint32, next map[int32]int64) ([]Rewound, error) {
	for p, off := range next {
		if off < 0 {
			return nil, fmt.Errorf("resetting partition %d: offset %d is negative", p, off)
		}
	}
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	// The tables with stored offsets beyond a new one.
	s.mu.RLock()
	affected := map[uint32]map[int32]int64{}
	for k, v := range s.offsets {
		if n, ok := next[k.partition]; ok && k.src == src && v > n {
			if affected[k.table] == nil {
				affected[k.table] = map[int32]int64{}
			}
			affected[k.table][k.partition] = n
		}
	}
	s.mu.RUnlock()
	ids := make([]uint32, 0, len(affected))
	for id := range affected {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	var out []Rewound
	newStats := map[uint32]tableStats{}
	for _, id := range ids {
		mu := s.applyMutex(id)
		mu.Lock()
		defer mu.Unlock()
		mu.maint.Lock()
		defer mu.maint.Unlock()
		s.mu.RLock()
		t := s.byID[id]
		var st tableStats
		if p := s.stats[id]; p != nil {
			st = *p
		}
		s.mu.RUnlock()
		if t == nil {
			continue
		}
		n, err := s.deleteRows(b, id, func(k rowKey) bool {
			from, ok := affected[id][k.partition]
			return ok && k.src == src && k.offset >= from
		})
		if err != nil {
			return nil, fmt.Errorf("resetting %s: %w", t.FullName(), err)
		}
		for p, off := range affected[id] {
			if err := b.Set(offsetKey(id, src, p), binary.BigEndian.AppendUint64(nil, uint64(off)), nil); err != nil {
				return nil, err
			}
		}
		st.rows -= n
		if st.rows <= 0 {
			st.rows, st.hasTime = 0, false
		}
		if err := b.Set(statsKey(id), st.encode(), nil); err != nil {
			return nil, err
		}
		newStats[id] = st
		out = append(out, Rewound{Table: t.FullName(), Rows: n})
	}
	for p, off := range next {
		if err := b.Set(lwmKey(src, p), binary.BigEndian.AppendUint64(nil, uint64(off)), nil); err != nil {
			return nil, fmt.Errorf("resetting partition %d: %w", p, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, fmt.Errorf("storing the reset positions: %w", err)
	}
	s.mu.Lock()
	for id, st := range newStats {
		if _, live := s.byID[id]; live {
			s.stats[id] = &st
		}
		for p, off := range affected[id] {
			s.offsets[offKey{id, src, p}] = off
		}
	}
	for p, off := range next {
		s.lwms[lwmK{src, p}] = off
	}
	s.mu.Unlock()
	return out, nil
}
