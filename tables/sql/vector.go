package sql

import (
	"context"
	"fmt"
	"math"
	"slices"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// An aggregate query whose groups are columns, whose aggregates read
// columns (or count rows) and whose other columns are group columns runs
// vectorised over sealed blocks: a block whose header decides the filter
// is skipped or answered from its header; otherwise the filter makes a
// selection vector from the block's columns and the aggregates run as
// loops over typed slices. The rows not sealed yet go through the row
// path. Groups and their states are the row path's, so partials merge as
// before.

// vecPlan is a query's vectorised form.
type vecPlan struct {
	// filters are WHERE as a conjunction of column-constant comparisons;
	// rowWhere instead evaluates WHERE on rows made from the block's
	// columns (a filter of another shape).
	filters  []vecFilter
	rowWhere bool
	groups   []int // the group-by columns
}

type vecFilter struct {
	col int
	op  sqlparser.ComparisonExprOperator
	c   schema.Value
}

// vectorize returns p's vectorised form, or nil when p has another shape.
func (p *queryPlan) vectorize(where sqlparser.Expr, c *compiler) *vecPlan {
	if !p.agg || p.buckets || p.commits != nil || len(p.groupCols) != len(p.groupBy) {
		return nil
	}
	for _, a := range p.aggs {
		if a.kind == aggCountDistinct || a.col == -2 {
			return nil
		}
	}
	for _, g := range p.groupCols {
		if g < 0 {
			return nil
		}
	}
	for i, b := range p.bare {
		if b && !slices.Contains(p.groupCols, i) {
			return nil
		}
	}
	v := &vecPlan{groups: p.groupCols}
	if p.where != nil {
		if !c.filters(where, &v.filters) {
			v.filters, v.rowWhere = nil, true
		}
	}
	return v
}

// filters adds e's conjuncts as column-constant comparisons to fs; false
// when one has another shape.
func (c *compiler) filters(e sqlparser.Expr, fs *[]vecFilter) bool {
	switch x := e.(type) {
	case *sqlparser.AndExpr:
		return c.filters(x.Left, fs) && c.filters(x.Right, fs)
	case *sqlparser.BetweenExpr:
		col := columnOf(c.t, x.Left)
		lo, lok := c.constant(x.From)
		hi, hok := c.constant(x.To)
		if !x.IsBetween || col < 0 || !lok || !hok {
			return false
		}
		*fs = append(*fs, c.filter(col, sqlparser.GreaterEqualOp, lo), c.filter(col, sqlparser.LessEqualOp, hi))
		return true
	case *sqlparser.ComparisonExpr:
		op := x.Operator
		switch op {
		case sqlparser.EqualOp, sqlparser.NotEqualOp, sqlparser.LessThanOp, sqlparser.LessEqualOp, sqlparser.GreaterThanOp, sqlparser.GreaterEqualOp:
		default:
			return false
		}
		l, r := x.Left, x.Right
		if columnOf(c.t, l) < 0 {
			l, r = r, l
			op = flipOp(op)
		}
		col := columnOf(c.t, l)
		k, ok := c.constant(r)
		if col < 0 || !ok {
			return false
		}
		*fs = append(*fs, c.filter(col, op, k))
		return true
	}
	return false
}

// filter builds a filter; a timestamp column's constant is read as a time
// once here, as compare would read it for every row (an integer as µs).
func (c *compiler) filter(col int, op sqlparser.ComparisonExprOperator, k schema.Value) vecFilter {
	if c.t.Columns[col].Type == schema.TypeTimestamp {
		if tk, ok := coerceTime(k); ok {
			k = tk
		} else if k.Type == schema.TypeInt {
			// compare reads a timestamp against an integer as µs.
			k = schema.TimestampMicros(k.I)
		}
	}
	return vecFilter{col: col, op: op, c: k}
}

func flipOp(op sqlparser.ComparisonExprOperator) sqlparser.ComparisonExprOperator {
	switch op {
	case sqlparser.LessThanOp:
		return sqlparser.GreaterThanOp
	case sqlparser.LessEqualOp:
		return sqlparser.GreaterEqualOp
	case sqlparser.GreaterThanOp:
		return sqlparser.LessThanOp
	case sqlparser.GreaterEqualOp:
		return sqlparser.LessEqualOp
	}
	return op
}

// constant evaluates an expression without columns or aggregates; false
// for any other, and for NULL.
func (c *compiler) constant(e sqlparser.Expr) (schema.Value, bool) {
	sub := &compiler{q: c.q, t: c.t, now: c.now, aggs: &[]aggSpec{}}
	f, err := sub.compile(e)
	if err != nil || sub.hasAgg || sub.cols > 0 {
		return schema.Null, false
	}
	v := f(&ectx{})
	return v, !v.IsNull()
}

// holds says whether a comparison result d satisfies op.
func holds(op sqlparser.ComparisonExprOperator, d int) bool {
	switch op {
	case sqlparser.EqualOp:
		return d == 0
	case sqlparser.NotEqualOp:
		return d != 0
	case sqlparser.LessThanOp:
		return d < 0
	case sqlparser.LessEqualOp:
		return d <= 0
	case sqlparser.GreaterThanOp:
		return d > 0
	case sqlparser.GreaterEqualOp:
		return d >= 0
	}
	return false
}

type decision uint8

const (
	decodeBlock decision = iota // the header does not decide
	noRow                       // no row of the block passes
	everyRow                    // every row passes
)

// monotone says whether comparing a column of min's type with k orders
// like the column's own order, so that its min and max bound the results.
func monotone(min, k schema.Value) bool {
	num := func(t schema.Type) bool { return t == schema.TypeInt || t == schema.TypeFloat }
	return min.Type == k.Type || (num(min.Type) && num(k.Type))
}

// decide reads what f does to a block from the column's header stats.
func (f vecFilter) decide(h *tables.BlockHeader) decision {
	if f.col >= len(h.Cols) || h.Cols[f.col].Nulls == h.Rows {
		return noRow // every value NULL: no comparison holds
	}
	cs := h.Cols[f.col]
	if !cs.HasMinMax || !monotone(cs.Min, f.c) {
		return decodeBlock
	}
	lo, hi := compareAffinity(cs.Min, f.c), compareAffinity(cs.Max, f.c)
	var none, all bool
	switch f.op {
	case sqlparser.GreaterThanOp:
		none, all = hi <= 0, lo > 0
	case sqlparser.GreaterEqualOp:
		none, all = hi < 0, lo >= 0
	case sqlparser.LessThanOp:
		none, all = lo >= 0, hi < 0
	case sqlparser.LessEqualOp:
		none, all = lo > 0, hi <= 0
	case sqlparser.EqualOp:
		none, all = lo > 0 || hi < 0, lo == 0 && hi == 0
	case sqlparser.NotEqualOp:
		none, all = lo == 0 && hi == 0, lo > 0 || hi < 0
	}
	switch {
	case none:
		return noRow
	case all && cs.Nulls == 0:
		return everyRow
	}
	return decodeBlock
}

// apply keeps in sel the rows whose value passes f.
func (f vecFilter) apply(v *tables.Vector, sel []int32) []int32 {
	out := sel[:0]
	null := func(i int32) bool { return v.Nulls != nil && v.Nulls[i] }
	switch {
	case (v.Type == schema.TypeInt || v.Type == schema.TypeTimestamp) && f.c.Type == v.Type:
		return filterInts(v.Ints, v.Nulls, sel, f.op, f.c.I)
	case (v.Type == schema.TypeInt && f.c.Type == schema.TypeFloat) || (v.Type == schema.TypeFloat && (f.c.Type == schema.TypeFloat || f.c.Type == schema.TypeInt)):
		k := asFloat(f.c)
		for _, i := range sel {
			if null(i) {
				continue
			}
			var x float64
			if v.Type == schema.TypeInt {
				x = float64(v.Ints[i])
			} else {
				x = v.Floats[i]
			}
			if holds(f.op, cmpFloat(x, k)) {
				out = append(out, i)
			}
		}
	case v.Type == schema.TypeString:
		match := make([]bool, len(v.Dict))
		for j, s := range v.Dict {
			match[j] = holds(f.op, compareAffinity(schema.Str(s), f.c))
		}
		for _, i := range sel {
			if !null(i) && match[v.Codes[i]] {
				out = append(out, i)
			}
		}
	default:
		for _, i := range sel {
			if x := v.Value(int(i)); !x.IsNull() && holds(f.op, compareAffinity(x, f.c)) {
				out = append(out, i)
			}
		}
	}
	return out
}

// filterInts keeps the rows of sel whose integer passes op k: the
// comparison as an interval [lo, hi] (or its complement for !=), one loop.
func filterInts(vals []int64, nulls []bool, sel []int32, op sqlparser.ComparisonExprOperator, k int64) []int32 {
	lo, hi, neg := int64(math.MinInt64), int64(math.MaxInt64), false
	switch op {
	case sqlparser.EqualOp:
		lo, hi = k, k
	case sqlparser.NotEqualOp:
		lo, hi, neg = k, k, true
	case sqlparser.LessThanOp:
		if k == math.MinInt64 {
			return sel[:0]
		}
		hi = k - 1
	case sqlparser.LessEqualOp:
		hi = k
	case sqlparser.GreaterThanOp:
		if k == math.MaxInt64 {
			return sel[:0]
		}
		lo = k + 1
	case sqlparser.GreaterEqualOp:
		lo = k
	}
	out := sel[:0]
	switch {
	case nulls == nil && !neg:
		// Branch-free: each row is written, and kept by counting it.
		out = sel
		n, span := 0, uint64(hi)-uint64(lo)
		for _, i := range sel {
			out[n] = i
			keep := 0
			if uint64(vals[i])-uint64(lo) <= span {
				keep = 1
			}
			n += keep
		}
		out = out[:n]
	default:
		for _, i := range sel {
			if nulls != nil && nulls[i] {
				continue
			}
			if x := vals[i]; (x >= lo && x <= hi) != neg {
				out = append(out, i)
			}
		}
	}
	return out
}

// cmpFloat orders as compare does: NaN is neither less nor greater
// (cmp.Compare would put it first).
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// vecExec aggregates blocks into a partial's groups.
type vecExec struct {
	p      *queryPlan
	v      *vecPlan
	groups map[string]*PartialGroup
	sel    []int32
	gidx   []int32
	local  []*PartialGroup // the block's groups, by gidx
	key    []byte
	accs   []aggState
}

// partialVector is partial for a vectorised plan.
func (p *queryPlan) partialVector(ctx context.Context, store *tables.Store) (*Partial, error) {
	view := store.View()
	defer func() { _ = view.Close() }()
	hs, err := view.Blocks(ctx, p.table, p.tr)
	if err != nil {
		return nil, err
	}
	x := &vecExec{p: p, v: p.vec, groups: map[string]*PartialGroup{}}
	out := &Partial{}
	hook := tables.ScanHook(ctx)
	for _, h := range hs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w: %w", errCanceled, err)
		}
		n, err := x.block(view, h)
		if err != nil {
			return nil, err
		}
		out.Scanned += int64(n)
		if hook != nil && n > 0 {
			if err := hook(n); err != nil {
				return nil, err
			}
		}
	}
	it, err := view.Rows(ctx, p.table, p.tr)
	if err != nil {
		return nil, err
	}
	defer func() { _ = it.Close() }()
	it.Only(p.used)
	e := &ectx{}
	for it.Next() {
		row := it.Row()
		e.row = row
		if p.where != nil && !truth(p.where(e)) {
			continue
		}
		p.addRow(e, x.groups, &x.key)
	}
	if err := it.Err(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", errCanceled, ctx.Err())
		}
		return nil, err
	}
	out.Scanned += it.Scanned()
	for _, g := range x.groups {
		out.Groups = append(out.Groups, *g)
	}
	return out, nil
}

// addRow adds a row (e.row) to its group in groups.
func (p *queryPlan) addRow(e *ectx, groups map[string]*PartialGroup, key *[]byte) {
	*key = (*key)[:0]
	for _, g := range p.groupBy {
		*key = appendKey(*key, g(e))
	}
	gr := groups[string(*key)]
	if gr == nil {
		gr = &PartialGroup{Key: string(*key), First: slices.Clone(e.row), States: make([]AggState, len(p.aggs))}
		groups[gr.Key] = gr
	}
	for i, a := range p.aggs {
		var v schema.Value
		if a.arg != nil {
			v = a.arg(e)
		}
		gr.States[i].add(a.kind, v)
	}
}

// block aggregates one block and returns the rows it covered.
func (x *vecExec) block(view *tables.View, h *tables.BlockHeader) (int, error) {
	p, tr := x.p, x.p.tr
	inRange := (!tr.HasFrom || h.MinTime >= tr.From) && (!tr.HasTo || h.MaxTime < tr.To)
	var filters []vecFilter
	for _, f := range x.v.filters {
		switch f.decide(h) {
		case noRow:
			return 0, nil
		case decodeBlock:
			filters = append(filters, f)
		}
	}
	if inRange && len(filters) == 0 && !x.v.rowWhere && len(x.v.groups) == 0 && x.fromHeader(h) {
		return h.Rows, nil
	}
	b, err := view.Block(p.table, h)
	if err != nil {
		return 0, err
	}
	sel := x.sel[:0]
	if inRange {
		for i := range h.Rows {
			sel = append(sel, int32(i))
		}
	} else {
		times, err := b.Times()
		if err != nil {
			return 0, err
		}
		for i, t := range times {
			if (!tr.HasFrom || t >= tr.From) && (!tr.HasTo || t < tr.To) {
				sel = append(sel, int32(i))
			}
		}
	}
	covered := len(sel)
	for _, f := range filters {
		v, err := b.Column(f.col)
		if err != nil {
			return 0, err
		}
		sel = f.apply(v, sel)
	}
	if x.v.rowWhere {
		if sel, err = x.rowFilter(b, sel); err != nil {
			return 0, err
		}
	}
	x.sel = sel
	if len(sel) == 0 {
		return covered, nil
	}
	if err := x.group(b); err != nil {
		return 0, err
	}
	return covered, x.aggregate(b)
}

// rowFilter evaluates WHERE on rows made of the block's used columns.
func (x *vecExec) rowFilter(b *tables.Block, sel []int32) ([]int32, error) {
	p := x.p
	vecs := make([]*tables.Vector, len(p.table.Columns))
	for i, u := range p.used {
		if u {
			v, err := b.Column(i)
			if err != nil {
				return nil, err
			}
			vecs[i] = v
		}
	}
	row := make(schema.Row, len(p.table.Columns))
	e := &ectx{row: row}
	out := sel[:0]
	for _, i := range sel {
		for c, v := range vecs {
			if v != nil {
				row[c] = v.Value(int(i))
			}
		}
		if truth(p.where(e)) {
			out = append(out, i)
		}
	}
	return out, nil
}

// fromHeader answers every aggregate of a block wholly in range, with no
// filter and no groups, from its header; false when one needs the rows.
func (x *vecExec) fromHeader(h *tables.BlockHeader) bool {
	p := x.p
	states := make([]AggState, len(p.aggs))
	for i, a := range p.aggs {
		if a.col < 0 {
			states[i].N = int64(h.Rows)
			continue
		}
		if a.col >= len(h.Cols) || h.Cols[a.col].Nulls == h.Rows {
			continue // every value NULL: the aggregate sees nothing
		}
		cs := h.Cols[a.col]
		st := AggState{N: int64(h.Rows - cs.Nulls)}
		switch a.kind {
		case aggCount:
		case aggSum, aggAvg:
			if !cs.HasSum {
				return false
			}
			st.SumI, st.SumF, st.IsFloat = cs.SumI, cs.SumF, cs.IsFloat
		case aggMin, aggMax, aggRange:
			if !cs.HasMinMax {
				return false
			}
			st.Min, st.Max = cs.Min, cs.Max
		default:
			return false
		}
		states[i] = st
	}
	g := x.groupFor("", nil)
	for i, a := range p.aggs {
		g.States[i].merge(a.kind, states[i])
	}
	return true
}

// groupFor is the partial's group of key, made with first (a row holding
// the group columns) when new.
func (x *vecExec) groupFor(key string, first schema.Row) *PartialGroup {
	g := x.groups[key]
	if g == nil {
		if first == nil {
			first = make(schema.Row, len(x.p.table.Columns))
		}
		g = &PartialGroup{Key: key, First: first, States: make([]AggState, len(x.p.aggs))}
		x.groups[key] = g
	}
	return g
}

// group gives each selected row its group's index in x.local (x.gidx).
func (x *vecExec) group(b *tables.Block) error {
	x.local = x.local[:0]
	if len(x.v.groups) == 0 {
		x.gidx = x.gidx[:0]
		x.local = append(x.local, x.groupFor("", nil))
		return nil
	}
	vecs := make([]*tables.Vector, len(x.v.groups))
	for i, c := range x.v.groups {
		v, err := b.Column(c)
		if err != nil {
			return err
		}
		vecs[i] = v
	}
	x.gidx = x.gidx[:0]
	newGroup := func(i int32) int32 {
		x.key = x.key[:0]
		first := make(schema.Row, len(x.p.table.Columns))
		for j, v := range vecs {
			val := v.Value(int(i))
			x.key = appendKey(x.key, val)
			first[x.v.groups[j]] = val
		}
		x.local = append(x.local, x.groupFor(string(x.key), first))
		return int32(len(x.local) - 1)
	}
	if v := vecs[0]; len(vecs) == 1 && v.Type == schema.TypeString {
		// By dictionary index: one lookup per distinct value.
		byCode := make([]int32, len(v.Dict)+1) // the last: NULL
		for i := range byCode {
			byCode[i] = -1
		}
		for _, i := range x.sel {
			c := int(v.Codes[i])
			if v.Nulls != nil && v.Nulls[i] {
				c = len(v.Dict)
			}
			if byCode[c] < 0 {
				byCode[c] = newGroup(i)
			}
			x.gidx = append(x.gidx, byCode[c])
		}
		return nil
	}
	local := map[string]int32{}
	for _, i := range x.sel {
		x.key = x.key[:0]
		for _, v := range vecs {
			x.key = appendKey(x.key, v.Value(int(i)))
		}
		g, ok := local[string(x.key)]
		if !ok {
			g = newGroup(i)
			local[string(x.key)] = g
		}
		x.gidx = append(x.gidx, g)
	}
	return nil
}

// aggregate runs each aggregate over the selected rows into the block's
// groups' states.
func (x *vecExec) aggregate(b *tables.Block) error {
	for a, spec := range x.p.aggs {
		x.accs = slices.Grow(x.accs[:0], len(x.local))[:len(x.local)]
		clear(x.accs)
		var v *tables.Vector
		if spec.col >= 0 {
			var err error
			if v, err = b.Column(spec.col); err != nil {
				return err
			}
		}
		x.accumulate(spec.kind, v)
		for g, st := range x.accs {
			x.local[g].States[a].merge(spec.kind, AggState{N: st.n, SumI: st.sumI, SumF: st.sumF, IsFloat: st.isFloat, Min: st.min, Max: st.max})
		}
	}
	return nil
}

// accumulate adds the selected rows' values of v (nil: count(*)) to the
// block's per-group accumulators, with aggState.add's semantics.
func (x *vecExec) accumulate(k aggKind, v *tables.Vector) {
	gid := func(j int) int32 {
		if len(x.gidx) == 0 {
			return 0
		}
		return x.gidx[j]
	}
	if v == nil {
		if len(x.gidx) == 0 {
			x.accs[0].n += int64(len(x.sel))
			return
		}
		for j := range x.sel {
			x.accs[gid(j)].n++
		}
		return
	}
	if v.Nulls == nil {
		if len(x.gidx) == 0 && accumulateOne(&x.accs[0], k, v, x.sel) {
			return
		}
		if len(x.gidx) > 0 && x.accumulateGroups(k, v) {
			return
		}
	}
	null := func(i int32) bool { return v.Nulls != nil && v.Nulls[i] }
	switch {
	case v.Type == schema.TypeInvalid && v.Raw == nil:
		return // every value NULL
	case k == aggCount:
		for j, i := range x.sel {
			if !null(i) && (v.Raw == nil || !v.Raw[i].IsNull()) {
				x.accs[gid(j)].n++
			}
		}
	case v.Type == schema.TypeInt && (k == aggSum || k == aggAvg):
		for j, i := range x.sel {
			if !null(i) {
				st := &x.accs[gid(j)]
				st.n++
				st.sumI += v.Ints[i]
				st.sumF += float64(v.Ints[i])
			}
		}
	case v.Type == schema.TypeFloat && (k == aggSum || k == aggAvg):
		for j, i := range x.sel {
			if !null(i) {
				st := &x.accs[gid(j)]
				st.n++
				st.sumF += v.Floats[i]
				st.isFloat = true
			}
		}
	case (v.Type == schema.TypeInt || v.Type == schema.TypeTimestamp) && (k == aggMin || k == aggMax || k == aggRange):
		for j, i := range x.sel {
			if null(i) {
				continue
			}
			st, val := &x.accs[gid(j)], v.Ints[i]
			st.n++
			if st.n == 1 || val < st.min.I {
				st.min = schema.Value{Type: v.Type, I: val}
			}
			if st.n == 1 || val > st.max.I {
				st.max = schema.Value{Type: v.Type, I: val}
			}
		}
	case v.Type == schema.TypeFloat && (k == aggMin || k == aggMax || k == aggRange):
		for j, i := range x.sel {
			if null(i) {
				continue
			}
			st, val := &x.accs[gid(j)], v.Floats[i]
			st.n++
			if st.n == 1 || val < st.min.F {
				st.min = schema.Float(val)
			}
			if st.n == 1 || val > st.max.F {
				st.max = schema.Float(val)
			}
		}
	default:
		for j, i := range x.sel {
			x.accs[gid(j)].add(k, v.Value(int(i)))
		}
	}
}

// accumulateOne is accumulate's loop for one group and a column without
// NULLs, on local variables; false for a column or aggregate it does not
// cover.
func accumulateOne(st *aggState, k aggKind, v *tables.Vector, sel []int32) bool {
	if len(sel) == 0 {
		return true
	}
	switch {
	case v.Type == schema.TypeInt && (k == aggSum || k == aggAvg):
		var sum int64
		var sf float64
		for _, i := range sel {
			x := v.Ints[i]
			sum += x
			sf += float64(x)
		}
		st.n += int64(len(sel))
		st.sumI += sum
		st.sumF += sf
	case v.Type == schema.TypeFloat && (k == aggSum || k == aggAvg):
		var sf float64
		for _, i := range sel {
			sf += v.Floats[i]
		}
		st.n += int64(len(sel))
		st.sumF += sf
		st.isFloat = true
	case (v.Type == schema.TypeInt || v.Type == schema.TypeTimestamp) && (k == aggMin || k == aggMax || k == aggRange):
		lo, hi := v.Ints[sel[0]], v.Ints[sel[0]]
		for _, i := range sel {
			x := v.Ints[i]
			lo, hi = min(lo, x), max(hi, x)
		}
		st.n += int64(len(sel))
		st.min, st.max = schema.Value{Type: v.Type, I: lo}, schema.Value{Type: v.Type, I: hi}
	case k == aggCount && v.Type != schema.TypeInvalid:
		st.n += int64(len(sel))
	default:
		return false
	}
	return true
}

// accumulateGroups is accumulate's loop over groups for a column without
// NULLs, for the common aggregates of an integer or float column; false
// for others.
func (x *vecExec) accumulateGroups(k aggKind, v *tables.Vector) bool {
	accs, gidx := x.accs, x.gidx
	switch {
	case k == aggCount && v.Type != schema.TypeInvalid:
		for j := range x.sel {
			accs[gidx[j]].n++
		}
	case v.Type == schema.TypeInt && (k == aggSum || k == aggAvg):
		ints := v.Ints
		for j, i := range x.sel {
			st, val := &accs[gidx[j]], ints[i]
			st.n++
			st.sumI += val
			st.sumF += float64(val)
		}
	case v.Type == schema.TypeFloat && (k == aggSum || k == aggAvg):
		fs := v.Floats
		for j, i := range x.sel {
			st := &accs[gidx[j]]
			st.n++
			st.sumF += fs[i]
			st.isFloat = true
		}
	default:
		return false
	}
	return true
}
