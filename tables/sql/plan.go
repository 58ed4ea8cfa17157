package sql

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"vitess.io/vitess/go/mysql/datetime"
	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// ectx is what an expression is evaluated against: a stored row, or in an
// aggregate query a group's first row and its aggregate values.
type ectx struct {
	row  schema.Row
	aggs []schema.Value
}

type evalFn func(c *ectx) schema.Value

type aggKind uint8

const (
	aggCountStar aggKind = iota
	aggCount
	aggCountDistinct
	aggSum
	aggMin
	aggMax
	aggAvg
	aggRange
)

type aggSpec struct {
	kind aggKind
	arg  evalFn
	// col is the table column the argument is, -1 for count(*), -2 for
	// an argument that is not a bare column (the vectorised path needs
	// a column).
	col int
}

type aggState struct {
	n        int64
	sumI     int64
	sumF     float64
	isFloat  bool
	min, max schema.Value
	distinct map[string]struct{}
}

func (s *aggState) add(k aggKind, v schema.Value) {
	if k == aggCountStar {
		s.n++
		return
	}
	if v.IsNull() {
		return
	}
	s.n++
	switch k {
	case aggCountDistinct:
		if s.distinct == nil {
			s.distinct = make(map[string]struct{})
		}
		s.distinct[string(appendKey(nil, v))] = struct{}{}
	case aggSum, aggAvg:
		if v.Type == schema.TypeString {
			v = numFromString(v.S)
		}
		if v.Type == schema.TypeFloat {
			s.isFloat = true
			s.sumF += v.F
		} else {
			s.sumI += v.I
			s.sumF += float64(v.I)
		}
	case aggMin, aggMax, aggRange:
		if s.n == 1 || compare(v, s.min) < 0 {
			s.min = v
		}
		if s.n == 1 || compare(v, s.max) > 0 {
			s.max = v
		}
	}
}

func (s *aggState) result(k aggKind) schema.Value {
	switch k {
	case aggCountStar, aggCount:
		return schema.Int(s.n)
	case aggCountDistinct:
		return schema.Int(int64(len(s.distinct)))
	case aggSum:
		if s.n == 0 {
			return schema.Null
		}
		if s.isFloat {
			return schema.Float(s.sumF)
		}
		return schema.Int(s.sumI)
	case aggAvg:
		if s.n == 0 {
			return schema.Null
		}
		return schema.Float(s.sumF / float64(s.n))
	case aggMin:
		if s.n == 0 {
			return schema.Null
		}
		return s.min
	case aggMax:
		if s.n == 0 {
			return schema.Null
		}
		return s.max
	case aggRange:
		if s.n == 0 {
			return schema.Null
		}
		return arith('-', s.max, s.min)
	}
	return schema.Null
}

// appendKey encodes a value for grouping and DISTINCT.
func appendKey(b []byte, v schema.Value) []byte {
	b = append(b, byte(v.Type))
	switch v.Type {
	case schema.TypeString:
		b = binary.AppendUvarint(b, uint64(len(v.S)))
		b = append(b, v.S...)
	case schema.TypeFloat:
		if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1<<53 {
			b[len(b)-1] = byte(schema.TypeInt)
			b = binary.AppendVarint(b, int64(v.F))
		} else {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.F))
		}
	case schema.TypeInvalid:
	default:
		b = binary.AppendVarint(b, v.I)
	}
	return b
}

type orderKey struct {
	out  int    // index of an output column, or -1
	fn   evalFn // otherwise an expression
	desc bool
}

type queryPlan struct {
	query   string
	table   *schema.Table
	tr      tables.TimeRange
	where   evalFn
	columns []string
	types   []schema.Type // of each column's values (TypeInvalid: unknown)
	proj    []evalFn
	agg     bool
	groupBy []evalFn
	// groupCols is, for each groupBy term, the table column it is, or -1.
	groupCols []int
	// bare are the columns read outside aggregates and WHERE.
	bare []bool
	// vec is the vectorised form of an aggregate query, or nil.
	vec     *vecPlan
	aggs    []aggSpec
	having  evalFn
	order   []orderKey
	dist    bool
	limit   int64
	offset  int64
	used    []bool
	buckets bool // increments(): groups come out in bucket order
	commits *CommitRange
	// timeKeys: plain rows without ORDER BY carry their time as their
	// only key (partials of several nodes, merged in time order).
	timeKeys bool
	// maxRows > 0 stops a plain query's scan once it holds more rows than
	// its answer may have (Options.MaxRows).
	maxRows int64
	// byLabel is the first output column of each label (outputIndex).
	byLabel map[string]int
	// visits counts the AST nodes the planner's passes visited.
	visits int
}

// compiler turns AST expressions into evalFns for one table.
type compiler struct {
	q      string
	t      *schema.Table
	now    time.Time
	aggs   *[]aggSpec
	inAgg  bool // compiling an aggregate's argument
	allow  bool // aggregates allowed here
	hasAgg bool
	// aliases are the output columns by alias, for HAVING and ORDER BY;
	// aggAliases are those that aggregate (not allowed in GROUP BY).
	aliases    map[string]evalFn
	aggAliases map[string]bool
	// used marks the table columns the query reads; bare, when not nil,
	// those read outside aggregates (the select list, GROUP BY, HAVING and
	// ORDER BY, not WHERE).
	used, bare []bool
	// cols counts the column (or alias) references compiled so far: an
	// expression that adds none is a constant.
	cols int
	// visits counts the AST nodes compiled (shared with sub-compilers).
	visits *int
}

func (c *compiler) errf(near string, format string, args ...any) error {
	return &Error{Query: c.q, Pos: findWord(c.q, near), Msg: fmt.Sprintf(format, args...)}
}

func (c *compiler) columnNames() []string {
	out := make([]string, len(c.t.Columns))
	for i, col := range c.t.Columns {
		out[i] = col.Name
	}
	return out
}

// compile compiles an expression; one that reads no column and holds no
// aggregate is evaluated once here (now() - 1 day costs nothing per row).
//
// Whether it reads a column is counted while compiling (c.cols), not found
// by walking the subtree again: a walk per node would make compiling
// quadratic in the nesting depth.
func (c *compiler) compile(e sqlparser.Expr) (evalFn, error) {
	before := c.hasAgg
	nAggs, nCols := len(*c.aggs), c.cols
	f, err := c.compileNode(e)
	if err != nil {
		return nil, err
	}
	if len(*c.aggs) == nAggs && c.hasAgg == before && c.cols == nCols {
		v := f(&ectx{})
		return func(*ectx) schema.Value { return v }, nil
	}
	return f, nil
}

// compileNode compiles one node of an expression: one method per node
// kind, aggregates and functions in their own files' methods.
func (c *compiler) compileNode(e sqlparser.Expr) (evalFn, error) {
	if c.visits != nil {
		*c.visits++
	}
	switch x := e.(type) {
	case *sqlparser.ColName:
		return c.column(x)
	case *sqlparser.Literal:
		v, err := literal(x)
		if err != nil {
			return nil, c.errf(x.Val, "%v", err)
		}
		return constFn(v), nil
	case *sqlparser.NullVal:
		return constFn(schema.Null), nil
	case sqlparser.BoolVal:
		return constFn(boolVal(bool(x))), nil
	case *sqlparser.AndExpr:
		return c.and(x)
	case *sqlparser.OrExpr:
		return c.or(x)
	case *sqlparser.NotExpr:
		return c.not(x)
	case *sqlparser.ComparisonExpr:
		return c.comparison(x)
	case *sqlparser.BetweenExpr:
		return c.between(x)
	case *sqlparser.IsExpr:
		return c.is(x)
	case *sqlparser.BinaryExpr:
		return c.binary(x)
	case *sqlparser.UnaryExpr:
		return c.unary(x)
	case *sqlparser.IntervalDateExpr:
		return c.intervalDate(x)
	case *sqlparser.CurTimeFuncExpr:
		return constFn(schema.Timestamp(c.now)), nil
	case *sqlparser.ExtractFuncExpr:
		return c.extract(x)
	case *sqlparser.CastExpr:
		return c.cast(x.Expr, x.Type)
	case *sqlparser.ConvertExpr:
		return c.cast(x.Expr, x.Type)
	case *sqlparser.CountStar:
		return c.aggregate(aggCountStar, nil, "count(*)")
	case *sqlparser.Count:
		return c.count(x)
	case *sqlparser.Sum:
		return c.aggregate(aggSum, x.Arg, "sum")
	case *sqlparser.Min:
		return c.aggregate(aggMin, x.Arg, "min")
	case *sqlparser.Max:
		return c.aggregate(aggMax, x.Arg, "max")
	case *sqlparser.Avg:
		return c.aggregate(aggAvg, x.Arg, "avg")
	case *sqlparser.FuncExpr:
		return c.function(x)
	}
	return nil, &Error{Query: c.q, Pos: -1, Msg: fmt.Sprintf("not supported in lakenode's SQL: %s", sqlparser.String(e))}
}

// constFn is an expression of one value.
func constFn(v schema.Value) evalFn {
	return func(*ectx) schema.Value { return v }
}

// column reads a column of the row, or stands for a select alias.
func (c *compiler) column(x *sqlparser.ColName) (evalFn, error) {
	c.cols++
	name := x.Name.Lowered()
	idx := c.t.ColumnIndex(name)
	if idx < 0 {
		if f, ok := c.aliases[name]; ok && !c.inAgg {
			if c.aggAliases[name] && !c.allow {
				return nil, c.errf(x.Name.String(), "%s names an aggregate; group by a column or an expression", x.Name.String())
			}
			return f, nil
		}
		return nil, nameError(c.q, "column", x.Name.String(), c.columnNames())
	}
	if c.used != nil {
		c.used[idx] = true
	}
	if c.bare != nil && !c.inAgg {
		c.bare[idx] = true
	}
	return func(e *ectx) schema.Value {
		if idx < len(e.row) {
			return e.row[idx]
		}
		return schema.Null
	}, nil
}

func (c *compiler) and(x *sqlparser.AndExpr) (evalFn, error) {
	l, r, err := c.pair(x.Left, x.Right)
	if err != nil {
		return nil, err
	}
	return func(e *ectx) schema.Value { return boolVal(truth(l(e)) && truth(r(e))) }, nil
}

func (c *compiler) or(x *sqlparser.OrExpr) (evalFn, error) {
	l, r, err := c.pair(x.Left, x.Right)
	if err != nil {
		return nil, err
	}
	return func(e *ectx) schema.Value { return boolVal(truth(l(e)) || truth(r(e))) }, nil
}

func (c *compiler) not(x *sqlparser.NotExpr) (evalFn, error) {
	f, err := c.compile(x.Expr)
	if err != nil {
		return nil, err
	}
	return func(e *ectx) schema.Value {
		v := f(e)
		if v.IsNull() {
			return schema.Null
		}
		return boolVal(!truth(v))
	}, nil
}

func (c *compiler) between(x *sqlparser.BetweenExpr) (evalFn, error) {
	v, err := c.compile(x.Left)
	if err != nil {
		return nil, err
	}
	lo, hi, err := c.pair(x.From, x.To)
	if err != nil {
		return nil, err
	}
	neg := !x.IsBetween
	return func(e *ectx) schema.Value {
		a, l, h := v(e), lo(e), hi(e)
		if a.IsNull() || l.IsNull() || h.IsNull() {
			return schema.Null
		}
		in := compareAffinity(a, l) >= 0 && compareAffinity(a, h) <= 0
		return boolVal(in != neg)
	}, nil
}

func (c *compiler) is(x *sqlparser.IsExpr) (evalFn, error) {
	f, err := c.compile(x.Left)
	if err != nil {
		return nil, err
	}
	switch x.Right {
	case sqlparser.IsNullOp:
		return func(e *ectx) schema.Value { return boolVal(f(e).IsNull()) }, nil
	case sqlparser.IsNotNullOp:
		return func(e *ectx) schema.Value { return boolVal(!f(e).IsNull()) }, nil
	case sqlparser.IsTrueOp:
		return func(e *ectx) schema.Value { return boolVal(truth(f(e))) }, nil
	case sqlparser.IsFalseOp:
		return func(e *ectx) schema.Value { v := f(e); return boolVal(!v.IsNull() && !truth(v)) }, nil
	}
	return nil, c.errf("is", "unsupported IS form")
}

func (c *compiler) binary(x *sqlparser.BinaryExpr) (evalFn, error) {
	l, r, err := c.pair(x.Left, x.Right)
	if err != nil {
		return nil, err
	}
	var op byte
	switch x.Operator {
	case sqlparser.PlusOp:
		op = '+'
	case sqlparser.MinusOp:
		op = '-'
	case sqlparser.MultOp:
		op = '*'
	case sqlparser.DivOp, sqlparser.IntDivOp:
		op = '/'
	case sqlparser.ModOp:
		op = '%'
	default:
		return nil, c.errf("", "operator %s is not supported", x.Operator.ToString())
	}
	return func(e *ectx) schema.Value { return arith(op, l(e), r(e)) }, nil
}

func (c *compiler) unary(x *sqlparser.UnaryExpr) (evalFn, error) {
	f, err := c.compile(x.Expr)
	if err != nil {
		return nil, err
	}
	if x.Operator == sqlparser.UMinusOp {
		return func(e *ectx) schema.Value { return arith('-', schema.Int(0), f(e)) }, nil
	}
	return f, nil
}

func (c *compiler) intervalDate(x *sqlparser.IntervalDateExpr) (evalFn, error) {
	d, err := c.compile(x.Date)
	if err != nil {
		return nil, err
	}
	n, err := c.compile(x.Interval)
	if err != nil {
		return nil, err
	}
	unit, mult := x.Unit.ToString(), int64(1)
	if x.Unit == datetime.IntervalWeek {
		unit = "week"
	}
	switch x.Syntax {
	case sqlparser.IntervalDateExprBinarySub, sqlparser.IntervalDateExprDateSub, sqlparser.IntervalDateExprSubdate:
		mult = -1
	}
	return func(e *ectx) schema.Value {
		k := n(e)
		if k.IsNull() {
			return schema.Null
		}
		return addInterval(d(e), mult*int64(asFloat(k)), unit)
	}, nil
}

func (c *compiler) extract(x *sqlparser.ExtractFuncExpr) (evalFn, error) {
	f, err := c.compile(x.Expr)
	if err != nil {
		return nil, err
	}
	unit := x.IntervalType.ToString()
	return func(e *ectx) schema.Value { return extract(f(e), unit) }, nil
}

func (c *compiler) count(x *sqlparser.Count) (evalFn, error) {
	if len(x.Args) != 1 {
		return nil, c.errf("count", "count takes one argument")
	}
	k := aggCount
	if x.Distinct {
		k = aggCountDistinct
	}
	return c.aggregate(k, x.Args[0], "count")
}

func (c *compiler) pair(a, b sqlparser.Expr) (evalFn, evalFn, error) {
	l, err := c.compile(a)
	if err != nil {
		return nil, nil, err
	}
	r, err := c.compile(b)
	return l, r, err
}

func (c *compiler) comparison(x *sqlparser.ComparisonExpr) (evalFn, error) {
	l, err := c.compile(x.Left)
	if err != nil {
		return nil, err
	}
	switch x.Operator {
	case sqlparser.InOp, sqlparser.NotInOp:
		tuple, ok := x.Right.(sqlparser.ValTuple)
		if !ok {
			return nil, c.errf("in", "IN takes a list of values")
		}
		var fns []evalFn
		for _, el := range tuple {
			f, err := c.compile(el)
			if err != nil {
				return nil, err
			}
			fns = append(fns, f)
		}
		neg := x.Operator == sqlparser.NotInOp
		return func(e *ectx) schema.Value {
			v := l(e)
			if v.IsNull() {
				return schema.Null
			}
			for _, f := range fns {
				if w := f(e); !w.IsNull() && compareAffinity(v, w) == 0 {
					return boolVal(!neg)
				}
			}
			return boolVal(neg)
		}, nil
	}
	r, err := c.compile(x.Right)
	if err != nil {
		return nil, err
	}
	l, r = c.timeConstant(x.Left, x.Right, l, r)
	op := x.Operator
	return func(e *ectx) schema.Value {
		a, b := l(e), r(e)
		if a.IsNull() || b.IsNull() {
			if op == sqlparser.NullSafeEqualOp {
				return boolVal(a.IsNull() && b.IsNull())
			}
			return schema.Null
		}
		switch op {
		case sqlparser.LikeOp, sqlparser.NotLikeOp:
			m := likeMatch(a.String(), b.String())
			return boolVal(m == (op == sqlparser.LikeOp))
		}
		d := compareAffinity(a, b)
		switch op {
		case sqlparser.EqualOp, sqlparser.NullSafeEqualOp:
			return boolVal(d == 0)
		case sqlparser.NotEqualOp:
			return boolVal(d != 0)
		case sqlparser.LessThanOp:
			return boolVal(d < 0)
		case sqlparser.LessEqualOp:
			return boolVal(d <= 0)
		case sqlparser.GreaterThanOp:
			return boolVal(d > 0)
		case sqlparser.GreaterEqualOp:
			return boolVal(d >= 0)
		}
		return schema.Null
	}, nil
}

func (c *compiler) aggregate(k aggKind, arg sqlparser.Expr, name string) (evalFn, error) {
	if !c.allow || c.inAgg {
		return nil, c.errf(name, "aggregate %s is not allowed here", name)
	}
	spec := aggSpec{kind: k, col: -1}
	if arg != nil {
		spec.col = -2
		if cn, ok := arg.(*sqlparser.ColName); ok && cn.Qualifier.IsEmpty() {
			if idx := c.t.ColumnIndex(cn.Name.Lowered()); idx >= 0 {
				spec.col = idx
			}
		}
		c.inAgg = true
		f, err := c.compile(arg)
		c.inAgg = false
		if err != nil {
			return nil, err
		}
		spec.arg = f
	}
	c.hasAgg = true
	slot := len(*c.aggs)
	*c.aggs = append(*c.aggs, spec)
	return func(e *ectx) schema.Value { return e.aggs[slot] }, nil
}

func (c *compiler) cast(x sqlparser.Expr, t *sqlparser.ConvertType) (evalFn, error) {
	f, err := c.compile(x)
	if err != nil {
		return nil, err
	}
	typ := strings.ToLower(t.Type)
	switch {
	case strings.Contains(typ, "int") || typ == "signed" || typ == "unsigned":
		return castFn(f, "int"), nil
	case typ == "double" || typ == "float" || typ == "decimal" || typ == "real":
		return castFn(f, "float"), nil
	case strings.Contains(typ, "char") || typ == "text":
		return castFn(f, "str"), nil
	case typ == "datetime" || typ == "timestamp":
		return castFn(f, "timestamp"), nil
	}
	return nil, c.errf(t.Type, "cast to %s is not supported", t.Type)
}

func castFn(f evalFn, to string) evalFn {
	return func(e *ectx) schema.Value {
		v := f(e)
		if v.IsNull() {
			return v
		}
		switch to {
		case "int":
			if v.Type == schema.TypeString {
				v = numFromString(v.S)
			}
			if v.Type == schema.TypeFloat {
				return schema.Int(int64(v.F))
			}
			return schema.Int(v.I)
		case "float":
			return schema.Float(asFloat(v))
		case "str":
			return schema.Str(v.String())
		case "timestamp":
			if t, ok := coerceTime(v); ok {
				return t
			}
			return schema.Null
		}
		return v
	}
}

func (c *compiler) function(x *sqlparser.FuncExpr) (evalFn, error) {
	name := x.Name.Lowered()
	args := make([]evalFn, len(x.Exprs))
	if name == "__range" {
		if len(x.Exprs) != 1 {
			return nil, c.errf("range", "range takes one argument")
		}
		return c.aggregate(aggRange, x.Exprs[0], "range")
	}
	for i, a := range x.Exprs {
		f, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		args[i] = f
	}
	want := func(n int) error {
		if len(args) != n {
			return c.errf(x.Name.String(), "%s takes %d argument(s)", x.Name.String(), n)
		}
		return nil
	}
	switch name {
	case "now", "current_timestamp", "localtimestamp", "sysdate":
		return constFn(schema.Timestamp(c.now)), nil
	case "__cast_int", "__cast_float", "__cast_str", "__cast_timestamp":
		if err := want(1); err != nil {
			return nil, err
		}
		return castFn(args[0], strings.TrimPrefix(name, "__cast_")), nil
	case "date_trunc":
		if err := want(2); err != nil {
			return nil, err
		}
		return dateTruncFn(args[0], args[1]), nil
	case "floor", "ceil", "ceiling":
		if err := want(1); err != nil {
			return nil, err
		}
		return floorCeilFn(name, args[0]), nil
	case "__epoch":
		// extract(epoch from x), rewritten by the pre-pass.
		if err := want(1); err != nil {
			return nil, err
		}
		return epochFn(args[0]), nil
	case "abs":
		if err := want(1); err != nil {
			return nil, err
		}
		return absFn(args[0]), nil
	case "round":
		if len(args) != 1 && len(args) != 2 {
			return nil, c.errf("round", "round takes 1 or 2 arguments")
		}
		return roundFn(args), nil
	case "lower", "upper", "length":
		if err := want(1); err != nil {
			return nil, err
		}
		return textFn(name, args[0]), nil
	case "coalesce", "ifnull":
		return coalesceFn(args), nil
	}
	return nil, c.errf(x.Name.String(), "function %s is not supported", x.Name.String())
}

// dateTruncFn is date_trunc(unit, v).
func dateTruncFn(unit, arg evalFn) evalFn {
	return func(e *ectx) schema.Value {
		u, v := unit(e), arg(e)
		t, ok := coerceTime(v)
		if !ok || v.IsNull() {
			return schema.Null
		}
		tt, ok := truncTime(t.Time(), strings.ToLower(u.String()))
		if !ok {
			return schema.Null
		}
		return schema.Timestamp(tt)
	}
}

// floorCeilFn is floor(v), or ceil(v) / ceiling(v): of a float or of
// numeric text; other values pass unchanged.
func floorCeilFn(name string, arg evalFn) evalFn {
	round := math.Floor
	if name != "floor" {
		round = math.Ceil
	}
	return func(e *ectx) schema.Value {
		v := arg(e)
		switch v.Type {
		case schema.TypeFloat:
			return schema.Float(round(v.F))
		case schema.TypeString:
			return schema.Float(round(asFloat(v)))
		}
		return v
	}
}

// epochFn is extract(epoch from x): seconds since the Unix epoch, with the
// microseconds as a fraction.
func epochFn(arg evalFn) evalFn {
	return func(e *ectx) schema.Value {
		t, ok := coerceTime(arg(e))
		if !ok || t.IsNull() {
			return schema.Null
		}
		return schema.Float(float64(t.I) / 1e6)
	}
}

// absFn is abs(v) of a number; other values pass unchanged.
func absFn(arg evalFn) evalFn {
	return func(e *ectx) schema.Value {
		v := arg(e)
		switch v.Type {
		case schema.TypeInt:
			if v.I < 0 {
				return schema.Int(-v.I)
			}
		case schema.TypeFloat:
			return schema.Float(math.Abs(v.F))
		}
		return v
	}
}

// roundFn is round(v) or round(v, digits); integers pass unchanged.
func roundFn(args []evalFn) evalFn {
	return func(e *ectx) schema.Value {
		v := args[0](e)
		if v.IsNull() || v.Type == schema.TypeInt {
			return v
		}
		d := 0.0
		if len(args) == 2 {
			d = asFloat(args[1](e))
		}
		p := math.Pow(10, d)
		return schema.Float(math.Round(asFloat(v)*p) / p)
	}
}

// textFn is lower(v), upper(v) or length(v) (in characters).
func textFn(name string, arg evalFn) evalFn {
	return func(e *ectx) schema.Value {
		v := arg(e)
		if v.IsNull() {
			return v
		}
		switch name {
		case "lower":
			return schema.Str(strings.ToLower(v.String()))
		case "upper":
			return schema.Str(strings.ToUpper(v.String()))
		}
		return schema.Int(int64(len([]rune(v.String()))))
	}
}

// coalesceFn is coalesce(a, b, ...): the first value that is not null.
func coalesceFn(args []evalFn) evalFn {
	return func(e *ectx) schema.Value {
		for _, a := range args {
			if v := a(e); !v.IsNull() {
				return v
			}
		}
		return schema.Null
	}
}

func extract(v schema.Value, unit string) schema.Value {
	t, ok := coerceTime(v)
	if !ok || v.IsNull() {
		return schema.Null
	}
	tm := t.Time()
	switch unit {
	case "year":
		return schema.Int(int64(tm.Year()))
	case "month":
		return schema.Int(int64(tm.Month()))
	case "day":
		return schema.Int(int64(tm.Day()))
	case "hour":
		return schema.Int(int64(tm.Hour()))
	case "minute":
		return schema.Int(int64(tm.Minute()))
	case "second":
		return schema.Int(int64(tm.Second()))
	case "week":
		_, w := tm.ISOWeek()
		return schema.Int(int64(w))
	}
	return schema.Null
}

func literal(x *sqlparser.Literal) (schema.Value, error) {
	switch x.Type {
	case sqlparser.StrVal:
		return schema.Str(x.Val), nil
	case sqlparser.IntVal:
		i, err := strconv.ParseInt(x.Val, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(x.Val, 64)
			if ferr != nil {
				return schema.Null, fmt.Errorf("number %s is out of range", x.Val)
			}
			return schema.Float(f), nil
		}
		return schema.Int(i), nil
	case sqlparser.FloatVal, sqlparser.DecimalVal:
		f, err := strconv.ParseFloat(x.Val, 64)
		if err != nil {
			return schema.Null, fmt.Errorf("number %s is not valid", x.Val)
		}
		return schema.Float(f), nil
	}
	return schema.Null, fmt.Errorf("literal %s is not supported", x.Val)
}

// increments compiles increments(unit, N, column) into a bucket key: the
// start of the N-unit bucket holding the column's time (units second,
// minute, hour, day, week, month, year).
func (c *compiler) increments(fe *sqlparser.FuncExpr) (evalFn, error) {
	if len(fe.Exprs) != 3 {
		return nil, c.errf("increments", "use increments(unit, N, column), e.g. increments(minute, 5, timestamp)")
	}
	var unit string
	switch u := fe.Exprs[0].(type) {
	case *sqlparser.ColName:
		unit = u.Name.Lowered()
	case *sqlparser.Literal:
		unit = strings.ToLower(u.Val)
	}
	unit = strings.TrimSuffix(unit, "s")
	lit, ok := fe.Exprs[1].(*sqlparser.Literal)
	if !ok || lit.Type != sqlparser.IntVal {
		return nil, c.errf("increments", "increments: N must be a whole number")
	}
	n, _ := strconv.ParseInt(lit.Val, 10, 64)
	if n < 1 {
		return nil, c.errf("increments", "increments: N must be at least 1")
	}
	col, err := c.compile(fe.Exprs[2])
	if err != nil {
		return nil, err
	}
	var step time.Duration
	switch unit {
	case "second":
		step = time.Second
	case "minute":
		step = time.Minute
	case "hour":
		step = time.Hour
	case "day":
		step = 24 * time.Hour
	case "week":
		step = 7 * 24 * time.Hour
	case "month", "year":
	default:
		return nil, c.errf("increments", "increments: unit %q is not one of second, minute, hour, day, week, month, year", unit)
	}
	return func(e *ectx) schema.Value {
		v, ok := coerceTime(col(e))
		if !ok || v.IsNull() {
			return schema.Null
		}
		t := v.Time()
		switch unit {
		case "month":
			m := (int(t.Month()) - 1) / int(n) * int(n)
			return schema.Timestamp(time.Date(t.Year(), time.Month(m+1), 1, 0, 0, 0, 0, time.UTC))
		case "year":
			return schema.Timestamp(time.Date(t.Year()/int(n)*int(n), 1, 1, 0, 0, 0, 0, time.UTC))
		}
		w := int64(step/time.Microsecond) * n
		us := v.I - ((v.I%w)+w)%w
		return schema.TimestampMicros(us)
	}, nil
}

// timeBounds pushes comparisons of the time column with constants into the
// scan's range; the WHERE filter still applies to every row.
// It reports whether the range captures the expression entirely, so that
// the filter can be dropped.
func (c *compiler) timeBounds(e sqlparser.Expr, tr *tables.TimeRange) bool {
	tc := c.t.Columns[c.t.TimeColumn].Name
	isTime := func(x sqlparser.Expr) bool {
		col, ok := x.(*sqlparser.ColName)
		return ok && col.Name.Lowered() == tc
	}
	constant := func(x sqlparser.Expr) (int64, bool) {
		sub := &compiler{q: c.q, t: c.t, now: c.now, aggs: &[]aggSpec{}, visits: c.visits}
		f, err := sub.compile(x)
		if err != nil || sub.hasAgg || sub.cols > 0 {
			return 0, false
		}
		v, ok := coerceTime(f(&ectx{}))
		if !ok || v.IsNull() {
			return 0, false
		}
		return v.I, true
	}
	lower := func(v int64) {
		if !tr.HasFrom || v > tr.From {
			tr.From, tr.HasFrom = v, true
		}
	}
	upper := func(v int64) {
		if !tr.HasTo || v < tr.To {
			tr.To, tr.HasTo = v, true
		}
	}
	if c.visits != nil {
		*c.visits++
	}
	switch x := e.(type) {
	case *sqlparser.AndExpr:
		l := c.timeBounds(x.Left, tr)
		r := c.timeBounds(x.Right, tr)
		return l && r
	case *sqlparser.BetweenExpr:
		if x.IsBetween && isTime(x.Left) {
			lo, lok := constant(x.From)
			hi, hok := constant(x.To)
			if lok {
				lower(lo)
			}
			if hok {
				upper(hi + 1)
			}
			return lok && hok
		}
	case *sqlparser.ComparisonExpr:
		op, l, r := x.Operator, x.Left, x.Right
		if isTime(r) && !isTime(l) {
			l, r = r, l
			switch op {
			case sqlparser.LessThanOp:
				op = sqlparser.GreaterThanOp
			case sqlparser.LessEqualOp:
				op = sqlparser.GreaterEqualOp
			case sqlparser.GreaterThanOp:
				op = sqlparser.LessThanOp
			case sqlparser.GreaterEqualOp:
				op = sqlparser.LessEqualOp
			}
		}
		if !isTime(l) {
			return false
		}
		v, ok := constant(r)
		if !ok {
			return false
		}
		switch op {
		case sqlparser.GreaterThanOp:
			lower(v + 1)
		case sqlparser.GreaterEqualOp:
			lower(v)
		case sqlparser.LessThanOp:
			upper(v)
		case sqlparser.LessEqualOp:
			upper(v + 1)
		case sqlparser.EqualOp:
			lower(v)
			upper(v + 1)
		default:
			return false
		}
		return true
	}
	return false
}

func plan(ctx context.Context, store *tables.Store, dbms, query string, rw rewritten, sel *sqlparser.Select, opt Options) (*queryPlan, error) {
	t, err := planTable(store, dbms, query, sel)
	if err != nil {
		return nil, err
	}
	p := &queryPlan{query: query, table: t, dist: sel.Distinct, limit: -1}
	c := &compiler{q: query, t: t, now: opt.Now, aggs: &p.aggs, used: make([]bool, len(t.Columns)), visits: opt.visits}
	if sel.Where != nil {
		if err := p.planWhere(ctx, store, c, sel.Where, opt); err != nil {
			return nil, err
		}
	}
	c.bare = make([]bool, len(t.Columns))
	sp := &selectPlan{p: p, c: c}
	if err := sp.selectList(sel); err != nil {
		return nil, err
	}
	if sel.GroupBy != nil {
		if err := sp.groupBy(sel.GroupBy.Exprs); err != nil {
			return nil, err
		}
	}
	if err := p.planOrder(c, sel); err != nil {
		return nil, err
	}
	p.agg = c.hasAgg || sel.GroupBy != nil || p.buckets
	p.used, p.bare = c.used, c.bare
	if err := p.planLimit(sel.Limit, opt); err != nil {
		return nil, err
	}
	p.visits = *opt.visits
	if sel.Where != nil {
		p.vec = p.vectorize(sel.Where.Expr, c)
	} else {
		p.vec = p.vectorize(nil, c)
	}
	return p, nil
}

// planTable resolves the one table a query reads, or says which names
// were meant.
func planTable(store *tables.Store, dbms, query string, sel *sqlparser.Select) (*schema.Table, error) {
	if len(sel.From) != 1 {
		return nil, &Error{Query: query, Pos: findWord(query, "from"), Msg: "a query reads exactly one table (no joins)"}
	}
	ate, ok := sel.From[0].(*sqlparser.AliasedTableExpr)
	if !ok {
		return nil, &Error{Query: query, Pos: findWord(query, "from"), Msg: "a query reads one table by name"}
	}
	tn, ok := ate.Expr.(sqlparser.TableName)
	if !ok {
		return nil, &Error{Query: query, Pos: findWord(query, "from"), Msg: "subqueries are not supported"}
	}
	name := strings.ToLower(tn.Name.String())
	dbms = qualified(dbms, tn)
	if t, ok := store.Table(dbms, name); ok {
		return t, nil
	}
	var cands []string
	for _, x := range store.Tables() {
		if x.DBMS == dbms {
			cands = append(cands, x.Name)
		}
	}
	if len(cands) == 0 {
		msg := fmt.Sprintf("unknown table '%s': dbms %s has no tables", tn.Name.String(), dbms)
		if c := schema.Closest(dbms, store.DBMSs()); c != "" {
			msg += fmt.Sprintf("; did you mean %s?", c)
		}
		return nil, &Error{Query: query, Pos: findWord(query, tn.Name.String()), Msg: msg}
	}
	return nil, nameError(query, "table", tn.Name.String(), cands)
}

// planWhere compiles the filter and pushes its time range into the scan.
func (p *queryPlan) planWhere(ctx context.Context, store *tables.Store, c *compiler, where *sqlparser.Where, opt Options) error {
	w, err := expandPeriod(ctx, store, p.query, p.table, where.Expr, opt)
	if err != nil {
		return err
	}
	where.Expr = w
	f, err := c.compile(where.Expr)
	if err != nil {
		return err
	}
	p.where = f
	// Rows whose time is NULL sort at time 0: a range that starts after
	// 0 leaves them out, as the comparison would.
	if c.timeBounds(where.Expr, &p.tr) && p.tr.HasFrom && p.tr.From > 0 {
		// The scan's range is the whole filter (time values are
		// whole microseconds, so the bounds are exact).
		p.where = nil
	}
	return nil
}

// selectPlan builds a plan's output columns and groups.
type selectPlan struct {
	p *queryPlan
	c *compiler
	// items maps each select position (1-based, * counting as its
	// columns) to its output column, or -1 for increments(), which groups
	// but is not a column; aggOut says which output columns aggregate.
	items     []int
	aggOut    []bool
	incrTexts []string // the select list's increments(), lower case
	// projCols is, for each output column, the table column it is, or -1.
	projCols []int
}

// selectList compiles the select list into output columns.
func (sp *selectPlan) selectList(sel *sqlparser.Select) error {
	p, c := sp.p, sp.c
	texts := selectTexts(p.query)
	c.allow = true
	var selExprs []sqlparser.SelectExpr
	if sel.SelectExprs != nil {
		selExprs = sel.SelectExprs.Exprs
	}
	c.aliases, c.aggAliases = map[string]evalFn{}, map[string]bool{}
	for ti, se := range selExprs {
		switch x := se.(type) {
		case *sqlparser.StarExpr:
			sp.star()
		case *sqlparser.AliasedExpr:
			text, written := "", ti < len(texts)
			if written {
				text = texts[ti]
			}
			if err := sp.aliased(x, text, written); err != nil {
				return err
			}
		default:
			return &Error{Query: p.query, Pos: -1, Msg: "unsupported select expression"}
		}
	}
	return nil
}

// star adds every column of the table.
func (sp *selectPlan) star() {
	p := sp.p
	for i := range sp.c.used {
		sp.c.used[i] = true
		sp.c.bare[i] = true
	}
	for i, col := range p.table.Columns {
		idx := i
		sp.items = append(sp.items, len(p.columns))
		sp.aggOut = append(sp.aggOut, false)
		p.columns = append(p.columns, col.Name)
		p.types = append(p.types, col.Type)
		p.proj = append(p.proj, func(e *ectx) schema.Value { return e.row[idx] })
		sp.projCols = append(sp.projCols, idx)
	}
}

// aliased adds one select item; text is how the query wrote it, when
// written.
func (sp *selectPlan) aliased(x *sqlparser.AliasedExpr, text string, written bool) error {
	p, c := sp.p, sp.c
	if fe, ok := x.Expr.(*sqlparser.FuncExpr); ok && fe.Name.Lowered() == "increments" {
		// EdgeLake's increments(unit, N, column): group by time
		// buckets of N units; the bucket itself is not a column.
		g, err := c.increments(fe)
		if err != nil {
			return err
		}
		p.groupBy = append(p.groupBy, g)
		p.groupCols = append(p.groupCols, -1)
		p.buckets = true
		sp.items = append(sp.items, -1)
		sp.incrTexts = append(sp.incrTexts, strings.ToLower(sqlparser.String(fe)))
		return nil
	}
	nAggs := len(p.aggs)
	f, err := c.compile(x.Expr)
	if err != nil {
		return err
	}
	sp.items = append(sp.items, len(p.columns))
	sp.aggOut = append(sp.aggOut, len(p.aggs) > nAggs)
	label := x.As.String()
	if label == "" {
		if col, ok := x.Expr.(*sqlparser.ColName); ok && col.Qualifier.IsEmpty() {
			// A column keeps its name, quoted or not.
			label = col.Name.Lowered()
		} else if written {
			label = strings.ToLower(text)
		} else {
			label = strings.ToLower(sqlparser.String(x.Expr))
		}
	}
	p.columns = append(p.columns, label)
	p.types = append(p.types, c.typeOf(x.Expr))
	p.proj = append(p.proj, f)
	sp.projCols = append(sp.projCols, columnOf(c.t, x.Expr))
	if !x.As.IsEmpty() {
		c.aliases[x.As.Lowered()] = f
		c.aggAliases[x.As.Lowered()] = sp.aggOut[len(sp.aggOut)-1]
	}
	return nil
}

// groupBy compiles the GROUP BY terms: positions, increments(), output
// columns and expressions.
func (sp *selectPlan) groupBy(exprs []sqlparser.Expr) error {
	p, c := sp.p, sp.c
	c.allow = false
	for _, g := range exprs {
		if l, ok := g.(*sqlparser.Literal); ok && l.Type == sqlparser.IntVal {
			if err := sp.groupByPosition(l); err != nil {
				return err
			}
			continue
		}
		if fe, ok := g.(*sqlparser.FuncExpr); ok && fe.Name.Lowered() == "increments" {
			if slices.Contains(sp.incrTexts, strings.ToLower(sqlparser.String(fe))) {
				continue // the select list's increments() groups already
			}
			b, err := c.increments(fe)
			if err != nil {
				return err
			}
			// Buckets come first: groups come out in bucket order.
			p.groupBy = append([]evalFn{b}, p.groupBy...)
			p.groupCols = append([]int{-1}, p.groupCols...)
			p.buckets = true
			continue
		}
		if out, ok := p.byOutput(g, c); ok {
			if sp.aggOut[out] {
				return &Error{Query: p.query, Pos: findWord(p.query, p.columns[out]), Msg: fmt.Sprintf("GROUP BY %s names an aggregate; group by a column or an expression", p.columns[out])}
			}
			p.groupBy = append(p.groupBy, p.proj[out])
			p.groupCols = append(p.groupCols, sp.projCols[out])
			continue
		}
		f, err := c.compile(g)
		if err != nil {
			return err
		}
		p.groupBy = append(p.groupBy, f)
		p.groupCols = append(p.groupCols, columnOf(c.t, g))
	}
	c.allow = true
	return nil
}

// groupByPosition is GROUP BY N: the Nth select item.
func (sp *selectPlan) groupByPosition(l *sqlparser.Literal) error {
	p := sp.p
	n, err := strconv.Atoi(l.Val)
	if err != nil || n < 1 || n > len(sp.items) {
		return &Error{Query: p.query, Pos: -1, Msg: fmt.Sprintf("GROUP BY %s: the select list has %d items", l.Val, len(sp.items))}
	}
	switch out := sp.items[n-1]; {
	case out < 0:
		// increments() already groups by its buckets.
	case sp.aggOut[out]:
		return &Error{Query: p.query, Pos: -1, Msg: fmt.Sprintf("GROUP BY %d names an aggregate (%s); group by a column or an expression", n, p.columns[out])}
	default:
		p.groupBy = append(p.groupBy, p.proj[out])
		p.groupCols = append(p.groupCols, sp.projCols[out])
	}
	return nil
}

// planOrder compiles HAVING and ORDER BY.
func (p *queryPlan) planOrder(c *compiler, sel *sqlparser.Select) error {
	if sel.Having != nil {
		f, err := c.compile(sel.Having.Expr)
		if err != nil {
			return err
		}
		p.having = f
	}
	for _, o := range sel.OrderBy {
		k := orderKey{out: -1, desc: o.Direction == sqlparser.DescOrder}
		if i, ok := p.outputIndex(o.Expr); ok {
			k.out = i
		} else {
			f, err := c.compile(o.Expr)
			if err != nil {
				return err
			}
			k.fn = f
		}
		p.order = append(p.order, k)
	}
	return nil
}

// planLimit reads LIMIT and OFFSET, and since = last's commit vector.
func (p *queryPlan) planLimit(limit *sqlparser.Limit, opt Options) error {
	query := p.query
	if opt.Commits != nil {
		if limit != nil {
			// The run covers every commit up to the vector: rows past the
			// limit would never be sent.
			return &Error{Query: query, Pos: findWord(query, "limit"), Msg: "since = last sends every new row: LIMIT and OFFSET are not allowed"}
		}
		p.commits = opt.Commits
		p.used[schema.NumSystemColumns-1] = true // tsd_id
	}
	if limit == nil {
		return nil
	}
	if limit.Rowcount != nil {
		n, err := constInt(limit.Rowcount)
		if err != nil {
			return &Error{Query: query, Pos: findWord(query, "limit"), Msg: "LIMIT takes a number"}
		}
		p.limit = n
	}
	if limit.Offset != nil {
		n, err := constInt(limit.Offset)
		if err != nil {
			return &Error{Query: query, Pos: findWord(query, "offset"), Msg: "OFFSET takes a number"}
		}
		p.offset = n
	}
	return nil
}

func constInt(e sqlparser.Expr) (int64, error) {
	l, ok := e.(*sqlparser.Literal)
	if !ok || l.Type != sqlparser.IntVal {
		return 0, fmt.Errorf("not a number")
	}
	return strconv.ParseInt(l.Val, 10, 64)
}

// outputIndex resolves an ORDER BY term that names an output column: a
// position (1-based), an alias, or the same text as a select item.
func (p *queryPlan) outputIndex(e sqlparser.Expr) (int, bool) {
	if l, ok := e.(*sqlparser.Literal); ok && l.Type == sqlparser.IntVal {
		n, err := strconv.Atoi(l.Val)
		if err == nil && n >= 1 && n <= len(p.columns) {
			return n - 1, true
		}
	}
	if p.byLabel == nil {
		// One map for every term: a loop over the columns per term would
		// be quadratic in a long select list with a long ORDER BY.
		p.byLabel = make(map[string]int, len(p.columns))
		for i := len(p.columns) - 1; i >= 0; i-- {
			p.byLabel[p.columns[i]] = i
		}
	}
	text := strings.ToLower(sqlparser.String(e))
	plain := strings.Trim(text, "`")
	i, ok := p.byLabel[plain]
	if j, ok2 := p.byLabel[text]; ok2 && (!ok || j < i) {
		i, ok = j, true
	}
	return i, ok
}

// byOutput resolves a GROUP BY term that names an output column (position
// or alias) to that column's index; the caller refuses an aggregate.
func (p *queryPlan) byOutput(e sqlparser.Expr, c *compiler) (int, bool) {
	if col, ok := e.(*sqlparser.ColName); ok && c.t.ColumnIndex(col.Name.Lowered()) >= 0 {
		return 0, false
	}
	return p.outputIndex(e)
}

// compareKeys orders encoded group keys whose first part is a bucket
// timestamp (NULL first).
func compareKeys(a, b string) int {
	x, y := decodeFirstKey(a), decodeFirstKey(b)
	if d := compareNullsFirst(x, y); d != 0 {
		return d
	}
	return strings.Compare(a, b)
}

func decodeFirstKey(k string) schema.Value {
	if k == "" || schema.Type(k[0]) == schema.TypeInvalid {
		return schema.Null
	}
	v, _ := binary.Varint([]byte(k[1:]))
	return schema.Value{Type: schema.Type(k[0]), I: v}
}

// expandPeriod replaces EdgeLake's period(unit, N, date, column) in a WHERE
// (as a conjunct) with `column > M - N unit and column <= M`, where M is the
// latest time at or before date: the data of the N units up to the last
// row. M comes from one seek on the time column.
func expandPeriod(ctx context.Context, store *tables.Store, query string, t *schema.Table, e sqlparser.Expr, opt Options) (sqlparser.Expr, error) {
	now := opt.Now
	if opt.visits != nil {
		*opt.visits++
	}
	switch x := e.(type) {
	case *sqlparser.AndExpr:
		l, err := expandPeriod(ctx, store, query, t, x.Left, opt)
		if err != nil {
			return nil, err
		}
		r, err := expandPeriod(ctx, store, query, t, x.Right, opt)
		if err != nil {
			return nil, err
		}
		return &sqlparser.AndExpr{Left: l, Right: r}, nil
	case *sqlparser.FuncExpr:
		if x.Name.Lowered() != "period" {
			return e, nil
		}
		perr := func(msg string) error { return &Error{Query: query, Pos: findWord(query, "period"), Msg: msg} }
		if len(x.Exprs) != 4 {
			return nil, perr("use period(unit, N, now() or a date, time column)")
		}
		var unit string
		switch u := x.Exprs[0].(type) {
		case *sqlparser.ColName:
			unit = u.Name.Lowered()
		case *sqlparser.Literal:
			unit = strings.ToLower(u.Val)
		}
		unit = strings.TrimSuffix(unit, "s")
		if _, ok := map[string]bool{"second": true, "minute": true, "hour": true, "day": true, "week": true, "month": true, "year": true}[unit]; !ok {
			return nil, perr(fmt.Sprintf("period: unit %q is not one of second, minute, hour, day, week, month, year", unit))
		}
		lit, ok := x.Exprs[1].(*sqlparser.Literal)
		if !ok || lit.Type != sqlparser.IntVal {
			return nil, perr("period: N must be a whole number")
		}
		n, _ := strconv.ParseInt(lit.Val, 10, 64)
		col, ok := x.Exprs[3].(*sqlparser.ColName)
		if !ok || col.Name.Lowered() != t.Columns[t.TimeColumn].Name {
			return nil, perr(fmt.Sprintf("period: the column must be the table's time column, %s", t.Columns[t.TimeColumn].Name))
		}
		c := &compiler{q: query, t: t, now: now, aggs: &[]aggSpec{}, visits: opt.visits}
		df, err := c.compile(x.Exprs[2])
		if err != nil {
			return nil, err
		}
		date, ok := coerceTime(df(&ectx{}))
		if !ok || date.IsNull() || c.cols > 0 {
			return nil, perr("period: the date must be now() or a date")
		}
		var last int64
		var found bool
		if a := opt.PeriodAnchor; a != nil {
			// The latest time over every node, found by the asking node.
			last, found = a.Last, a.Found
		} else if last, found, err = store.LastTime(ctx, t, date.I+1); err != nil {
			return nil, err
		}
		if opt.probe != nil {
			opt.probe.has = true
			if found && (!opt.probe.Found || last > opt.probe.Last) {
				opt.probe.Found, opt.probe.Last = true, last
			}
		}
		if !found {
			// No row at or before the date: nothing matches.
			return &sqlparser.ComparisonExpr{Operator: sqlparser.EqualOp, Left: sqlparser.NewIntLiteral("1"), Right: sqlparser.NewIntLiteral("0")}, nil
		}
		from := addInterval(schema.TimestampMicros(last), -n, unit)
		lit2 := func(us int64) sqlparser.Expr {
			return sqlparser.NewStrLiteral(time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z"))
		}
		return &sqlparser.AndExpr{
			Left:  &sqlparser.ComparisonExpr{Operator: sqlparser.GreaterThanOp, Left: col, Right: lit2(from.I)},
			Right: &sqlparser.ComparisonExpr{Operator: sqlparser.LessEqualOp, Left: col, Right: lit2(last)},
		}, nil
	}
	return e, nil
}

// columnOf is the table column e is (an unqualified column name), or -1.
func columnOf(t *schema.Table, e sqlparser.Expr) int {
	if cn, ok := e.(*sqlparser.ColName); ok && cn.Qualifier.IsEmpty() {
		return t.ColumnIndex(cn.Name.Lowered())
	}
	return -1
}

// timeConstant reads, once, a string constant compared with a timestamp
// column as the time compare would read it on every row.
func (c *compiler) timeConstant(le, re sqlparser.Expr, l, r evalFn) (evalFn, evalFn) {
	fold := func(col sqlparser.Expr, k evalFn, kx sqlparser.Expr) evalFn {
		if i := columnOf(c.t, col); i < 0 || c.t.Columns[i].Type != schema.TypeTimestamp {
			return k
		}
		v, ok := c.constant(kx)
		if !ok || v.Type != schema.TypeString {
			return k
		}
		if tv, ok := coerceTime(v); ok {
			return constFn(tv)
		}
		return k
	}
	return fold(re, l, le), fold(le, r, re)
}
