package tables

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lakenode/lakenode/tables/schema"
)

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
		// Created in this run: every commit of its rows will have a
		// pending span, so its first seal pass need not read it whole.
		mu := s.applyMutex(nt.ID)
		mu.Lock()
		mu.sawAll = true
		mu.Unlock()
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
	mu.maint.Lock()
	defer mu.maint.Unlock()
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	_ = b.DeleteRange(tablePrefix(t.ID), tableEnd(t.ID), nil)
	for _, p := range []byte{prefixHeader, prefixBody} {
		lo, hi := tableRange(p, t.ID)
		_ = b.DeleteRange(lo, hi, nil)
	}
	mu.gen++ // a seal under way must not write a block of the dropped table
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
		emu.maint.Lock()
		defer emu.maint.Unlock()
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

// Expire deletes t's rows whose time is before cutoff (µs) — unsealed rows
// with one range delete, sealed blocks wholly before it deleted and those
// it cuts rewritten — and returns how many rows there were.
func (s *Store) Expire(ctx context.Context, t *schema.Table, cutoff int64) (int64, error) {
	mu := s.applyMutex(t.ID)
	mu.Lock()
	defer mu.Unlock()
	mu.maint.Lock()
	defer mu.maint.Unlock()
	n, err := s.CountKeys(ctx, t, TimeRange{To: cutoff, HasTo: true})
	if err != nil {
		return 0, err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	nb, err := s.expireBlocks(b, t, cutoff)
	if err != nil {
		return 0, err
	}
	if n += nb; n == 0 {
		return 0, nil
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
	if err := b.DeleteRange(tablePrefix(t.ID), rowTimeBound(t.ID, cutoff), nil); err != nil {
		return 0, err
	}
	if err := b.Set(statsKey(t.ID), st.encode(), nil); err != nil {
		return 0, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("expiring rows of %s: %w", t.FullName(), err)
	}
	mu.gen++ // a seal under way built on rows this removed
	s.mu.Lock()
	if _, live := s.byID[t.ID]; live {
		s.stats[t.ID] = &st
	}
	s.mu.Unlock()
	return n, nil
}

// deleteRows adds to b the deletion of every row of table id whose key
// match accepts, sealed or not, and returns how many there are. The
// caller holds the table's lock; a seal under way is abandoned.
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
	if err := it.Error(); err != nil {
		return n, err
	}
	s.mu.RLock()
	t := s.byID[id]
	lock := s.applyMus[id]
	s.mu.RUnlock()
	if t == nil {
		return n, nil
	}
	nb, err := s.deleteBlockRows(b, t, match)
	if lock != nil {
		lock.gen++ // the caller holds the lock and maint
	}
	return n + nb, err
}
