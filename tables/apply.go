package tables

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lakenode/lakenode/tables/schema"
)

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

// tableLock serialises what writes one table's rows: Apply, Seal's
// commits, Expire, drop and reset. Its fields are guarded by it.
type tableLock struct {
	sync.Mutex
	// maint serialises the commits that remove rows (a seal's block, an
	// expiry, a drop, a reset), taken after the lock itself; a seal whose
	// block deletes only rows its snapshot held commits under maint alone,
	// so that Apply does not wait for it. gen, guarded by maint, counts
	// them: a seal built from a snapshot of an older gen is abandoned.
	maint sync.Mutex
	gen   uint64
	// looked is gen+1 when MergeBlocks last found nothing more to merge
	// (0: never): until gen moves, another look would find nothing.
	looked uint64
	// pending are the commits since the store opened whose rows are not
	// sealed yet; until sawAll (a first seal pass over the whole table),
	// rows of earlier runs may be unsealed anywhere. A seal also reads in
	// them which rows were written after its snapshot.
	pending []commitSpan
	sawAll  bool
}

// commitSpan is one feed of one commit: the commit's sequence number and
// time (µs), and the lowest and highest row keys the feed wrote. A seal
// pass reads only the key ranges of the commits old enough, and deletes a
// run of sealed rows with one range delete only where no other commit's
// span lies.
type commitSpan struct {
	seq    uint64
	at     int64
	rows   int64
	lo, hi [rowKeyLen]byte
}

// feedID is the source and partition a span's rows came from (its low
// key's, after the time).
func (c *commitSpan) feedID() []byte { return c.lo[14:22] }

// merge widens c to cover o too, as old and as late as the newer of both.
func (c *commitSpan) merge(o *commitSpan) {
	c.seq, c.at, c.rows = max(c.seq, o.seq), max(c.at, o.at), c.rows+o.rows
	if bytes.Compare(o.lo[:], c.lo[:]) < 0 {
		c.lo = o.lo
	}
	if bytes.Compare(o.hi[:], c.hi[:]) > 0 {
		c.hi = o.hi
	}
}

// maxSpans bounds the pending spans of a table (sealing off, or far
// behind): past it, coarsen merges them to half as many.
const maxSpans = 4096

func appendSpan(spans []commitSpan, c commitSpan) []commitSpan {
	spans = append(spans, c)
	if len(spans) <= maxSpans {
		return spans
	}
	return coarsen(spans)
}

// coarsen merges, within each source partition, the consecutive spans
// whose commit times fall in one interval of a grid: the finest grid,
// doubling from an even split of their time range, that leaves at most
// maxSpans/2. A merged span counts as committed at its newest commit, so
// that is how much later than its oldest rows become due to seal: about
// one interval (0.23 s at most in TestPendingCommitsStayDueOnTime, where
// four partitions commit every 10 ms). Merging in pairs instead, oldest with oldest again at every overflow,
// made the oldest span cover half of all that was pending, its rows due
// only when half of that was --seal-after old: at 150,000 msgs/s and 60 s
// nothing sealed for minutes.
func coarsen(spans []commitSpan) []commitSpan {
	slices.SortStableFunc(spans, func(a, b commitSpan) int {
		if c := bytes.Compare(a.feedID(), b.feedID()); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	lo, hi := spans[0].at, spans[0].at
	feeds := 1
	for i := range spans {
		lo, hi = min(lo, spans[i].at), max(hi, spans[i].at)
		if i > 0 && !bytes.Equal(spans[i].feedID(), spans[i-1].feedID()) {
			feeds++
		}
	}
	want := maxSpans / 2
	w := max((hi-lo+1)*int64(feeds)/int64(want), 1)
	for {
		n := 0
		for i := range spans {
			if n > 0 && bytes.Equal(spans[n-1].feedID(), spans[i].feedID()) && gridCell(spans[n-1].at, w) == gridCell(spans[i].at, w) {
				spans[n-1].merge(&spans[i])
				continue
			}
			spans[n] = spans[i]
			n++
		}
		spans = spans[:n]
		// One span per partition is as coarse as it gets.
		if n <= want || w > hi-lo {
			return spans
		}
		w *= 2
	}
}

// gridCell is the interval of width w that holds time at.
func gridCell(at, w int64) int64 {
	if at < 0 {
		return (at+1)/w - 1
	}
	return at / w
}

func (s *Store) applyMutex(id uint32) *tableLock {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.applyMus[id]
	if m == nil {
		m = &tableLock{}
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
	cur, st, starts := s.applyStart(t.ID, feeds)
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
	st.seq++
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	w := &rowWriter{t: t, b: b, st: &st, node: s.node, nowUs: now.UnixMicro(), vals: make([]schema.Value, len(t.Columns))}
	w.res = ApplyResult{Seq: st.seq, CommitTime: now}
	newOffsets := make(map[offKey]int64, len(feeds))
	for i, f := range feeds {
		start := starts[i]
		ok := offKey{t.ID, f.Src, f.Partition}
		if prev, seen := newOffsets[ok]; seen {
			start = prev
		}
		if err := w.feed(f, start); err != nil {
			return ApplyResult{}, err
		}
		if f.Next > start {
			newOffsets[ok] = f.Next
			if err := b.Set(offsetKey(t.ID, f.Src, f.Partition), binary.BigEndian.AppendUint64(nil, uint64(f.Next)), nil); err != nil {
				return ApplyResult{}, err
			}
		}
	}
	st.lastCommit = w.nowUs
	if err := b.Set(statsKey(t.ID), st.encode(), nil); err != nil {
		return ApplyResult{}, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return ApplyResult{}, fmt.Errorf("committing %d rows to %s: %w", w.res.Rows, t.FullName(), err)
	}
	s.mem.add(t.ID, uint64(b.Len()))
	for _, sp := range w.spans {
		sp.seq, sp.at = st.seq, w.nowUs
		mu.pending = appendSpan(mu.pending, sp)
	}
	s.applied(t.ID, &st, newOffsets)
	return w.res, nil
}

// applyStart reads what an Apply to table id starts from: the table's
// current schema (nil once dropped), its stats, and each feed's stored
// offset (-1 for none).
func (s *Store) applyStart(id uint32, feeds []Feed) (*schema.Table, tableStats, []int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var st tableStats
	if p := s.stats[id]; p != nil {
		st = *p
	}
	starts := make([]int64, len(feeds))
	for i, f := range feeds {
		v, ok := s.offsets[offKey{id, f.Src, f.Partition}]
		if !ok {
			v = -1
		}
		starts[i] = v
	}
	return s.byID[id], st, starts
}

// applied makes a committed Apply's stats and offsets the in-memory ones
// (the stats only while the table lives).
func (s *Store) applied(id uint32, st *tableStats, offsets map[offKey]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, live := s.byID[id]; live {
		s.stats[id] = st
	}
	for k, v := range offsets {
		s.offsets[k] = v
	}
}

// rowWriter adds one Apply's rows to its batch, counting them in st and
// res.
type rowWriter struct {
	t        *schema.Table
	b        *pebble.Batch
	st       *tableStats
	res      ApplyResult
	node     string
	nowUs    int64
	vals     []schema.Value
	key, val []byte
	spans    []commitSpan // per feed with rows: its lowest and highest key
	feedRows int
}

// feed writes the records of f at or past start (the others are skipped:
// a replay).
func (w *rowWriter) feed(f Feed, start int64) error {
	ncols := len(w.t.Columns)
	w.feedRows = 0
	for _, r := range f.Records {
		if start >= 0 && r.Offset < start {
			w.res.Skipped++
			continue
		}
		if len(r.Values) > ncols-schema.NumSystemColumns {
			return fmt.Errorf("table %s: record at offset %d of partition %d has %d values, the table has %d user columns",
				w.t.FullName(), r.Offset, f.Partition, len(r.Values), ncols-schema.NumSystemColumns)
		}
		if err := w.record(f, r); err != nil {
			return err
		}
	}
	return nil
}

// record writes one row: the system columns, then r's values.
func (w *rowWriter) record(f Feed, r Record) error {
	st, vals, ncols := w.st, w.vals, len(w.t.Columns)
	vals[0] = schema.Int(st.nextRowID + 1)
	vals[1] = schema.TimestampMicros(w.nowUs)
	vals[2] = schema.Str(w.node)
	vals[3] = schema.Int(int64(st.seq))
	n := copy(vals[schema.NumSystemColumns:], r.Values)
	clear(vals[schema.NumSystemColumns+n:])
	var tm int64
	if tc := w.t.TimeColumn; tc >= 0 && tc < ncols && !vals[tc].IsNull() {
		tm = vals[tc].I
	}
	w.key = appendRowKey(w.key[:0], w.t.ID, tm, f.Src, f.Partition, r.Offset, r.Elem)
	w.val = appendRow(w.val[:0], vals)
	if err := w.b.Set(w.key, w.val, nil); err != nil {
		return err
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
	if w.feedRows == 0 {
		w.spans = append(w.spans, commitSpan{})
		sp := &w.spans[len(w.spans)-1]
		copy(sp.lo[:], w.key)
		copy(sp.hi[:], w.key)
	} else if sp := &w.spans[len(w.spans)-1]; bytes.Compare(w.key, sp.lo[:]) < 0 {
		copy(sp.lo[:], w.key)
	} else if bytes.Compare(w.key, sp.hi[:]) > 0 {
		copy(sp.hi[:], w.key)
	}
	w.spans[len(w.spans)-1].rows++
	w.feedRows++
	w.res.Rows++
	return nil
}
