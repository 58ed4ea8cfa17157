package sql

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// A query runs in two steps so that it can be spread over nodes: each node
// computes a Partial over its rows (groups with aggregate states, or rows
// already ordered and cut to offset+limit), and the asking node merges the
// partials into the answer. On one node it is the same two steps.

// Partial is one node's share of a query.
type Partial struct {
	Groups  []PartialGroup // aggregate queries
	Rows    []PartialRow   // plain queries
	Scanned int64
}

// PartialGroup is one group: its key, its first row (for the group-by
// expressions and bare columns) and the state of each aggregate.
type PartialGroup struct {
	Key    string
	First  schema.Row
	States []AggState
}

// AggState is the mergeable state of one aggregate: count, sums, extremes
// and, for count(distinct), the set of values (avg travels as sum + count).
type AggState struct {
	N        int64
	SumI     int64
	SumF     float64
	IsFloat  bool
	Min, Max schema.Value
	Distinct map[string]struct{}
}

// PartialRow is a projected row of a plain query, with its sort keys.
type PartialRow struct {
	Vals schema.Row
	Keys []schema.Value
}

func (s *AggState) add(k aggKind, v schema.Value) {
	st := aggState{n: s.N, sumI: s.SumI, sumF: s.SumF, isFloat: s.IsFloat, min: s.Min, max: s.Max, distinct: s.Distinct}
	st.add(k, v)
	*s = AggState{N: st.n, SumI: st.sumI, SumF: st.sumF, IsFloat: st.isFloat, Min: st.min, Max: st.max, Distinct: st.distinct}
}

// merge folds another node's state of the same aggregate into s.
func (s *AggState) merge(k aggKind, o AggState) {
	if o.N == 0 {
		return
	}
	switch k {
	case aggMin, aggMax, aggRange:
		if s.N == 0 || compare(o.Min, s.Min) < 0 {
			s.Min = o.Min
		}
		if s.N == 0 || compare(o.Max, s.Max) > 0 {
			s.Max = o.Max
		}
	case aggCountDistinct:
		if s.Distinct == nil {
			s.Distinct = make(map[string]struct{}, len(o.Distinct))
		}
		for v := range o.Distinct {
			s.Distinct[v] = struct{}{}
		}
	}
	s.N += o.N
	s.SumI += o.SumI
	s.SumF += o.SumF
	s.IsFloat = s.IsFloat || o.IsFloat
}

func (s *AggState) result(k aggKind) schema.Value {
	st := aggState{n: s.N, sumI: s.SumI, sumF: s.SumF, isFloat: s.IsFloat, min: s.Min, max: s.Max, distinct: s.Distinct}
	return st.result(k)
}

// partial scans this node's rows.
func (p *queryPlan) partial(ctx context.Context, store *tables.Store) (*Partial, error) {
	if p.vec != nil {
		return p.partialVector(ctx, store)
	}
	it, err := p.scan(ctx, store)
	if err != nil {
		return nil, err
	}
	defer func() { _ = it.Close() }()
	out := &Partial{}
	e := &ectx{}
	// A plain query keeps at most offset+limit rows when it can tell which
	// (no ORDER BY: the first ones; ORDER BY: a top-K after sorting).
	keep := int64(-1)
	if !p.agg && !p.dist && p.limit >= 0 {
		keep = p.offset + p.limit
	}
	// A reply capped at maxRows fails as soon as it holds more rows than
	// its answer may have (distinct rows and groups are counted at the end).
	capped := p.maxRows > 0 && !p.agg && !p.dist && (p.limit < 0 || p.limit > p.maxRows)
	groups := map[string]*PartialGroup{}
	var key []byte
	for it.Next() {
		row := it.Row()
		e.row = row
		if p.commits != nil {
			if seq := uint64(row[schema.NumSystemColumns-1].I); seq <= p.commits.After || seq > p.commits.UpTo {
				continue
			}
		}
		if p.where != nil && !truth(p.where(e)) {
			continue
		}
		if !p.agg {
			e.row = slices.Clone(row)
			out.Rows = append(out.Rows, p.project(e))
			if capped && int64(len(out.Rows)) > p.maxRows {
				return nil, &TooManyRowsError{Max: p.maxRows}
			}
			if keep >= 0 && len(p.order) == 0 && int64(len(out.Rows)) >= keep {
				break
			}
			continue
		}
		key = key[:0]
		for _, g := range p.groupBy {
			key = appendKey(key, g(e))
		}
		gr := groups[string(key)]
		if gr == nil {
			gr = &PartialGroup{Key: string(key), First: slices.Clone(row), States: make([]AggState, len(p.aggs))}
			groups[string(key)] = gr
			out.Groups = append(out.Groups, PartialGroup{}) // placeholder, filled below
		}
		for i, a := range p.aggs {
			var v schema.Value
			if a.arg != nil {
				v = a.arg(e)
			}
			gr.States[i].add(a.kind, v)
		}
	}
	if err := it.Err(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", errCanceled, ctx.Err())
		}
		return nil, err
	}
	out.Scanned = it.Scanned()
	if p.agg {
		out.Groups = out.Groups[:0]
		for _, g := range groups {
			out.Groups = append(out.Groups, *g)
		}
		return out, nil
	}
	if len(p.order) > 0 {
		if err := p.sortRows(ctx, out.Rows); err != nil {
			return nil, err
		}
		if keep >= 0 && int64(len(out.Rows)) > keep {
			out.Rows = out.Rows[:keep]
		}
	}
	return out, nil
}

func (p *queryPlan) project(e *ectx) PartialRow {
	r := PartialRow{Vals: make(schema.Row, len(p.proj))}
	for i, f := range p.proj {
		r.Vals[i] = f(e)
	}
	for _, k := range p.order {
		if k.out < 0 {
			r.Keys = append(r.Keys, k.fn(e))
		}
	}
	if p.timeKeys {
		r.Keys = append(r.Keys, e.row[p.table.TimeColumn])
	}
	return r
}

// checkEvery is how many rows (or comparisons) the executor handles
// between two looks at the query's context: often enough to stop within
// milliseconds of max_time, rarely enough to cost nothing measurable.
const checkEvery = 4096

// stopped is the panic a sort's comparison raises to abandon the sort once
// the query's context is done; sortFunc recovers it.
type stopped struct{ err error }

// sortFunc sorts s stably by cmp, giving up with the context's error when
// ctx is done (the sort of millions of rows can take seconds).
func sortFunc[E any](ctx context.Context, s []E, cmp func(a, b E) int) (err error) {
	if ctx.Done() == nil {
		slices.SortStableFunc(s, cmp)
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			st, ok := r.(stopped)
			if !ok {
				panic(r)
			}
			err = st.err
		}
	}()
	n := 0
	slices.SortStableFunc(s, func(a, b E) int {
		if n++; n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				panic(stopped{fmt.Errorf("%w: %w", errCanceled, err)})
			}
		}
		return cmp(a, b)
	})
	return nil
}

// canceled returns the query's context error, wrapped, every checkEvery
// calls (i counts them).
func canceled(ctx context.Context, i int) error {
	if i%checkEvery != 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", errCanceled, err)
	}
	return nil
}

func (p *queryPlan) sortRows(ctx context.Context, rows []PartialRow) error {
	return sortFunc(ctx, rows, func(a, b PartialRow) int {
		ki := 0
		for _, k := range p.order {
			var x, y schema.Value
			if k.out >= 0 {
				x, y = a.Vals[k.out], b.Vals[k.out]
			} else {
				x, y = a.Keys[ki], b.Keys[ki]
				ki++
			}
			d := compareNullsFirst(x, y)
			if k.desc {
				d = -d
			}
			if d != 0 {
				return d
			}
		}
		return 0
	})
}

// merge combines the partials of every node into the answer; it stops with
// the context's error when ctx is done.
func (p *queryPlan) merge(ctx context.Context, parts []*Partial) (*Result, error) {
	res := &Result{Columns: p.columns}
	var rows []PartialRow
	for _, pt := range parts {
		res.Scanned += pt.Scanned
	}
	steps := 0
	var err error
	if p.agg {
		if rows, err = p.mergeGroups(ctx, parts, &steps); err != nil {
			return nil, err
		}
	} else {
		for _, pt := range parts {
			rows = append(rows, pt.Rows...)
		}
		if p.timeKeys && len(parts) > 1 {
			// Rows without ORDER BY come in the table's time order, as one
			// node's scan gives them.
			if err := sortFunc(ctx, rows, func(a, b PartialRow) int { return compareNullsFirst(a.Keys[0], b.Keys[0]) }); err != nil {
				return nil, err
			}
		}
	}
	if p.dist {
		if rows, err = distinctRows(ctx, rows, &steps); err != nil {
			return nil, err
		}
	}
	if len(p.order) > 0 {
		if err := p.sortRows(ctx, rows); err != nil {
			return nil, err
		}
	}
	if p.offset > 0 {
		if p.offset >= int64(len(rows)) {
			rows = nil
		} else {
			rows = rows[p.offset:]
		}
	}
	if p.limit >= 0 && int64(len(rows)) > p.limit {
		rows = rows[:p.limit]
	}
	res.Rows = make([]schema.Row, len(rows))
	for i, r := range rows {
		res.Rows[i] = r.Vals
	}
	return res, nil
}

// mergeGroups merges the nodes' groups, group by group, and projects those
// HAVING keeps; steps counts the work done, for canceled.
func (p *queryPlan) mergeGroups(ctx context.Context, parts []*Partial, steps *int) ([]PartialRow, error) {
	groups := map[string]*PartialGroup{}
	var order []string
	for _, pt := range parts {
		for _, g := range pt.Groups {
			*steps++
			if err := canceled(ctx, *steps); err != nil {
				return nil, err
			}
			cur := groups[g.Key]
			if cur == nil {
				c := PartialGroup{Key: g.Key, First: g.First, States: make([]AggState, len(p.aggs))}
				cur = &c
				groups[g.Key] = cur
				order = append(order, g.Key)
			}
			for i, a := range p.aggs {
				cur.States[i].merge(a.kind, g.States[i])
			}
		}
	}
	if len(groups) == 0 && len(p.groupBy) == 0 {
		// An aggregate over no rows still answers one row.
		groups[""] = &PartialGroup{First: make(schema.Row, len(p.table.Columns)), States: make([]AggState, len(p.aggs))}
		order = append(order, "")
	}
	// Groups come out in key order (buckets by time), the same
	// whichever node saw them first and whatever order a map gave;
	// ORDER BY then sorts stably, so groups it ties keep key order
	// (and LIMIT keeps the same ones every time).
	if err := sortFunc(ctx, order, compareKeys); err != nil {
		return nil, err
	}
	var rows []PartialRow
	e := &ectx{}
	for _, k := range order {
		*steps++
		if err := canceled(ctx, *steps); err != nil {
			return nil, err
		}
		gr := groups[k]
		e.row = gr.First
		e.aggs = make([]schema.Value, len(p.aggs))
		for i, a := range p.aggs {
			e.aggs[i] = gr.States[i].result(a.kind)
		}
		if p.having != nil && !truth(p.having(e)) {
			continue
		}
		rows = append(rows, p.project(e))
	}
	return rows, nil
}

// distinctRows keeps the first of equal rows; steps counts the work done,
// for canceled.
func distinctRows(ctx context.Context, rows []PartialRow, steps *int) ([]PartialRow, error) {
	seen := map[string]bool{}
	kept := rows[:0]
	for _, r := range rows {
		*steps++
		if err := canceled(ctx, *steps); err != nil {
			return nil, err
		}
		var k []byte
		for _, v := range r.Vals {
			k = appendKey(k, v)
		}
		if !seen[string(k)] {
			seen[string(k)] = true
			kept = append(kept, r)
		}
	}
	return kept, nil
}

func (p *queryPlan) run(ctx context.Context, store *tables.Store) (*Result, error) {
	pt, err := p.partial(ctx, store)
	if err != nil {
		return nil, err
	}
	return p.merge(ctx, []*Partial{pt})
}

// stream hands each answer row to emit as it is produced. A plain query
// (no aggregate, ORDER BY or DISTINCT) emits straight from the scan and
// holds nothing; the others are computed whole, then emitted. emit must
// not keep the row it is given.
func (p *queryPlan) stream(ctx context.Context, store *tables.Store, emit func(schema.Row) error) (rows, scanned int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("%w: %w", errCanceled, err)
	}
	if p.agg || p.dist || len(p.order) > 0 {
		pt, err := p.partial(ctx, store)
		if err != nil {
			return 0, 0, err
		}
		res, err := p.merge(ctx, []*Partial{pt})
		if err != nil {
			return 0, pt.Scanned, err
		}
		for _, r := range res.Rows {
			if err := emit(r); err != nil {
				return rows, res.Scanned, err
			}
			rows++
		}
		return rows, res.Scanned, nil
	}
	it, err := p.scan(ctx, store)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = it.Close() }()
	e := &ectx{}
	vals := make(schema.Row, len(p.proj))
	var skipped int64
	for (p.limit < 0 || rows < p.limit) && it.Next() {
		row := it.Row()
		e.row = row
		if p.commits != nil {
			if seq := uint64(row[schema.NumSystemColumns-1].I); seq <= p.commits.After || seq > p.commits.UpTo {
				continue
			}
		}
		if p.where != nil && !truth(p.where(e)) {
			continue
		}
		if skipped < p.offset {
			skipped++
			continue
		}
		for i, f := range p.proj {
			vals[i] = f(e)
		}
		if err := emit(vals); err != nil {
			return rows, it.Scanned(), err
		}
		rows++
	}
	if err := it.Err(); err != nil {
		if ctx.Err() != nil {
			return rows, it.Scanned(), fmt.Errorf("%w: %w", errCanceled, ctx.Err())
		}
		return rows, it.Scanned(), err
	}
	return rows, it.Scanned(), nil
}

// Prepared is a parsed and planned query, ready to run as partials on
// several stores and be merged.
type Prepared struct {
	p       *queryPlan
	notices []string
}

// Prepare plans a query against the schema of store's table.
func Prepare(ctx context.Context, store *tables.Store, dbms, query string, opt Options) (*Prepared, error) {
	p, rw, err := prepare(ctx, store, dbms, query, opt)
	if err != nil {
		return nil, err
	}
	// Partials of several nodes carry each row's time, so that the merge
	// keeps a plain query's rows in time order.
	if p.timeKeys = !p.agg && len(p.order) == 0; p.timeKeys {
		p.used[p.table.TimeColumn] = true
	}
	return &Prepared{p: p, notices: rw.notices}, nil
}

// Partial runs the query's per-node step on store.
func (q *Prepared) Partial(ctx context.Context, store *tables.Store) (*Partial, error) {
	return q.p.partial(ctx, store)
}

// Stream runs the query on store alone and hands each answer row to emit as
// it is produced (see queryPlan.stream): a plain query's reply never sits
// whole in memory. It returns the rows emitted and scanned. Options.MaxRows
// does not apply.
func (q *Prepared) Stream(ctx context.Context, store *tables.Store, emit func(schema.Row) error) (rows, scanned int64, err error) {
	p := *q.p
	p.maxRows = 0
	return p.stream(ctx, store, emit)
}

// Notices are the pre-pass's notices (e.g. the stray comma removed).
func (q *Prepared) Notices() []string { return q.notices }

// ColumnNames are the names of the answer's columns.
func (q *Prepared) ColumnNames() []string { return q.p.columns }

// ColumnTypes are the types of the answer's columns: every non-NULL value
// of a column has its type; TypeInvalid where it cannot be told before the
// rows (a string that may read as a number, a mix in coalesce).
func (q *Prepared) ColumnTypes() []schema.Type { return q.p.types }

// Merge combines partials into the answer; it stops with an error when ctx
// is done.
func (q *Prepared) Merge(ctx context.Context, parts []*Partial) (*Result, error) {
	r, err := q.p.merge(ctx, parts)
	if err != nil {
		return nil, err
	}
	r.Notices = append(r.Notices, q.notices...)
	return r, nil
}

// TableOf returns the table a SELECT reads, without planning it.
func TableOf(query string) (string, error) {
	_, table, err := TableIn("", query)
	return table, err
}

// TableIn returns the dbms and table a SELECT reads, without planning it:
// the dbms is the table's qualifier (`from lakenode.kafka_errors`) when it
// has one other than public, else dbms.
func TableIn(dbms, query string) (string, string, error) {
	sel, _, err := parseSelect(query, new(int))
	if err != nil {
		return "", "", err
	}
	if len(sel.From) != 1 {
		return "", "", &Error{Query: query, Pos: 0, Msg: "a query reads exactly one table"}
	}
	if ate, ok := sel.From[0].(*sqlparser.AliasedTableExpr); ok {
		if tn, ok := ate.Expr.(sqlparser.TableName); ok {
			return qualified(dbms, tn), strings.ToLower(tn.Name.String()), nil
		}
	}
	return "", "", &Error{Query: query, Pos: 0, Msg: "a query reads one table by name"}
}

// qualified is the dbms of a table name: its qualifier, unless none or
// PostgreSQL's public schema.
func qualified(dbms string, tn sqlparser.TableName) string {
	if q := strings.ToLower(tn.Qualifier.String()); q != "" && q != "public" {
		return q
	}
	return dbms
}

// Columns is the number of output columns of a prepared query.
func (q *Prepared) Columns() int { return len(q.p.columns) }

// TableColumns is the number of columns of the prepared query's table.
func (q *Prepared) TableColumns() int { return len(q.p.table.Columns) }

// scan opens the plan's scan: the columns it uses, and for since = last
// only the blocks that can hold rows of its commits.
func (p *queryPlan) scan(ctx context.Context, store *tables.Store) (*tables.Iter, error) {
	it, err := store.Scan(ctx, p.table, p.tr)
	if err != nil {
		return nil, err
	}
	it.Only(p.used)
	if cr := p.commits; cr != nil {
		it.SkipBlocks(func(h *tables.BlockHeader) bool { return h.MaxSeq <= cr.After || h.MinSeq > cr.UpTo })
	}
	return it, nil
}
