package tables

import (
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// memBytes estimates, per table, the bytes written that no flush has
// reached yet: Pebble's disk-usage estimate covers only sstables, so a
// table whose rows are all in the memtable would show 0 bytes.
//
// Each Apply adds its batch size to the table's running total. When a
// flush picks its inputs (FlushBegin) the totals are marked; when it ends
// the marks become the flushed amounts. Writes that race a flush's start
// are counted as flushed a little early; rows replayed from the WAL at open
// are not counted until the next flush. It is an estimate for `get tables`,
// not an accounting.
type memBytes struct {
	mu      sync.Mutex
	written map[uint32]uint64
	mark    map[uint32]uint64
	flushed map[uint32]uint64
}

func newMemBytes() *memBytes {
	return &memBytes{written: map[uint32]uint64{}, flushed: map[uint32]uint64{}}
}

func (m *memBytes) add(table uint32, n uint64) {
	m.mu.Lock()
	m.written[table] += n
	m.mu.Unlock()
}

func (m *memBytes) unflushed(table uint32) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.written[table] - m.flushed[table]
}

func (m *memBytes) forget(table uint32) {
	m.mu.Lock()
	delete(m.written, table)
	delete(m.flushed, table)
	delete(m.mark, table)
	m.mu.Unlock()
}

func (m *memBytes) flushBegin() {
	m.mu.Lock()
	m.mark = make(map[uint32]uint64, len(m.written))
	for k, v := range m.written {
		m.mark[k] = v
	}
	m.mu.Unlock()
}

func (m *memBytes) flushEnd(ok bool) {
	m.mu.Lock()
	if ok {
		for k, v := range m.mark {
			if _, live := m.written[k]; live {
				m.flushed[k] = v
			}
		}
	}
	m.mark = nil
	m.mu.Unlock()
}

func (m *memBytes) listener() *pebble.EventListener {
	return &pebble.EventListener{
		FlushBegin: func(pebble.FlushInfo) { m.flushBegin() },
		FlushEnd:   func(info pebble.FlushInfo) { m.flushEnd(info.Err == nil) },
	}
}
