// Package mapping compiles the mapping instructions of a `run kafka
// consumer` topic (EdgeLake's `bring` language) and evaluates them on JSON
// messages into typed rows.
//
// A mapping is compiled once per topic. Messages are read with a path-access
// JSON parser (valyala/fastjson), never decoded into maps. Every message is
// either mapped whole into rows or rejected whole with one reason; values are
// converted to the declared column types, and a value that does not fit is a
// rejection, never a silent truncation.
package mapping

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables/schema"
)

// Reason classifies a rejected message; String is a stable name for
// counters.
type Reason uint8

// Rejection reasons.
const (
	NotJSON Reason = iota + 1
	NotObject
	MissingColumn
	TypeMismatch
	MissingDBMS
	MissingTable
)

func (r Reason) String() string {
	switch r {
	case NotJSON:
		return "not_json"
	case NotObject:
		return "not_object"
	case MissingColumn:
		return "missing_column"
	case TypeMismatch:
		return "type_mismatch"
	case MissingDBMS:
		return "missing_dbms"
	case MissingTable:
		return "missing_table"
	}
	return "unknown"
}

// Reject says why a message was not mapped.
type Reject struct {
	Reason Reason
	Detail string // for people, e.g. `column "value": 44.7 does not fit int`
	Column string // the column concerned, if any
}

func (r *Reject) Error() string { return r.Reason.String() + ": " + r.Detail }

// MaxReasonBytes caps a rejection's text, Reject.Error(): the raw message is
// kept beside it for detail, so the reason stays short enough to read in
// counters, logs and `get msg client`.
const MaxReasonBytes = 300

// clip cuts r.Detail so that r.Error() is at most MaxReasonBytes, on a
// UTF-8 boundary, ending in "...".
func (r *Reject) clip() {
	r.Detail = ClipText(r.Detail, MaxReasonBytes-len(r.Reason.String())-2)
}

// ClipText cuts s to at most limit bytes on a UTF-8 boundary; a cut text ends
// in "...".
func ClipText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	dots := "..."
	if limit < len(dots) {
		dots = ""
	}
	n := max(limit-len(dots), 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + dots
}

// Row is one mapped row.
type Row struct {
	DBMS, Table string
	Values      []schema.Value // aligned with Mapping.Columns(); NULL for a missing optional column
	Elem        int            // index of the row within its message
}

type stepKind uint8

const (
	stepKey stepKind = iota
	stepIndex
	stepEach
)

type step struct {
	kind  stepKind
	key   string
	index int
}

type part struct {
	literal string
	alts    [][]step // empty for a literal
}

// expr is a compiled instruction.
type expr struct {
	kind    spec.ExprKind
	literal schema.Value // columns: the converted literal
	name    string       // dbms/table: the normalised literal
	parts   []part
	text    string
}

type column struct {
	name     string
	typ      schema.Type
	optional bool
	e        expr
}

// Mapping is a compiled topic mapping.
type Mapping struct {
	topic   string
	cols    []column
	columns []schema.Column
	dbms    expr
	table   expr
	// each is the path of the list that `[]` explodes (the steps before
	// `[]`), or nil when no path explodes a list.
	each     []step
	eachText string
}

// Compile checks and compiles a topic's mapping.
func Compile(t spec.TopicSpec) (*Mapping, error) {
	m := &Mapping{topic: t.Name}
	var err error
	if m.dbms, err = m.compileName(t.DBMS, "dbms"); err != nil {
		return nil, err
	}
	if m.table, err = m.compileName(t.Table, "table"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range t.Columns {
		if c.TypeExpr != nil {
			return nil, fmt.Errorf("column %s: a type brought from the message (%s) is not supported by lakenode; declare the type", c.Name, c.TypeExpr.Text)
		}
		if c.Name == "" {
			return nil, errors.New("a column needs a name")
		}
		for _, sc := range schema.SystemColumns {
			if sc.Name == c.Name {
				return nil, fmt.Errorf("column %s is a system column of every table; map the value to another name", c.Name)
			}
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("column %s is declared twice", c.Name)
		}
		seen[c.Name] = true
		if c.Type == schema.TypeInvalid {
			return nil, fmt.Errorf("column %s has no type", c.Name)
		}
		col := column{name: c.Name, typ: c.Type, optional: c.Optional}
		switch c.Value.Kind {
		case spec.ExprNow:
			if c.Type != schema.TypeTimestamp && c.Type != schema.TypeString {
				return nil, fmt.Errorf("column %s: now is a timestamp, not %s", c.Name, c.Type)
			}
			col.e = expr{kind: spec.ExprNow, text: c.Value.Text}
		case spec.ExprLiteral:
			v, err := convertText(c.Value.Literal, c.Type)
			if err != nil {
				return nil, fmt.Errorf("column %s: the constant %q %v", c.Name, c.Value.Literal, err)
			}
			col.e = expr{kind: spec.ExprLiteral, literal: v, text: c.Value.Text}
		case spec.ExprBring:
			e, err := m.compileBring(c.Value, c.Name)
			if err != nil {
				return nil, err
			}
			col.e = e
		}
		m.cols = append(m.cols, col)
		m.columns = append(m.columns, schema.Column{Name: c.Name, Type: c.Type})
	}
	if len(m.cols) == 0 {
		return nil, fmt.Errorf("Missing mapping instructions for message in topic: %s", t.Name)
	}
	return m, nil
}

func (m *Mapping) compileName(e spec.Expr, what string) (expr, error) {
	switch e.Kind {
	case spec.ExprLiteral:
		n := schema.NormalizeName(strings.TrimSpace(e.Literal))
		if n == "" {
			return expr{}, fmt.Errorf("empty %s name", what)
		}
		return expr{kind: spec.ExprLiteral, name: n, text: e.Text}, nil
	case spec.ExprBring:
		return m.compileBring(e, what)
	}
	return expr{}, fmt.Errorf("%s cannot be %s", what, e.Text)
}

func (m *Mapping) compileBring(e spec.Expr, what string) (expr, error) {
	out := expr{kind: spec.ExprBring, text: e.Text}
	for _, p := range e.Parts {
		cp := part{literal: p.Literal}
		for _, path := range p.Paths {
			var steps []step
			for i, s := range path {
				switch {
				case s.Each:
					prefix := steps
					if len(prefix) == 0 {
						return expr{}, fmt.Errorf("%s: `[]` needs the key of a list before it, as in [readings][][value]", what)
					}
					text := pathText(prefix)
					if m.each == nil {
						m.each, m.eachText = append([]step(nil), prefix...), text
					} else if m.eachText != text {
						return expr{}, fmt.Errorf("%s: `[]` explodes %s but another instruction explodes %s; one list per topic", what, text, m.eachText)
					}
					if slicesHasEach(path[i+1:]) {
						return expr{}, fmt.Errorf("%s: only one `[]` per path", what)
					}
					steps = append(steps, step{kind: stepEach})
				case s.IsIndex:
					steps = append(steps, step{kind: stepIndex, index: s.Index})
				default:
					steps = append(steps, step{kind: stepKey, key: s.Key})
				}
			}
			cp.alts = append(cp.alts, steps)
		}
		out.parts = append(out.parts, cp)
	}
	return out, nil
}

func slicesHasEach(p []spec.PathStep) bool {
	for _, s := range p {
		if s.Each {
			return true
		}
	}
	return false
}

func pathText(steps []step) string {
	var b strings.Builder
	for _, s := range steps {
		switch s.kind {
		case stepKey:
			b.WriteString("[" + s.key + "]")
		case stepIndex:
			fmt.Fprintf(&b, "[%d]", s.index)
		case stepEach:
			b.WriteString("[]")
		}
	}
	return b.String()
}

// Columns are the mapped columns, in declaration order.
func (m *Mapping) Columns() []schema.Column { return m.columns }

// Evaluator maps messages; it reuses its parser and is not safe for
// concurrent use (one per partition).
type Evaluator struct {
	m   *Mapping
	p   fastjson.Parser
	buf []byte
	// fixed holds a message whose invalid UTF-8 was replaced; repaired
	// counts the bytes replaced in the last Map.
	fixed    []byte
	repaired int
}

// Repaired is how many bytes of invalid UTF-8 the last Map replaced with
// U+FFFD (0 when the message was valid UTF-8).
func (e *Evaluator) Repaired() int { return e.repaired }

// NewEvaluator returns an evaluator of m.
func (m *Mapping) NewEvaluator() *Evaluator { return &Evaluator{m: m} }

// Map maps one message, appending its rows to out. A top-level JSON array
// maps each element as a message of its own; if any element is rejected the
// whole message is (nothing of it is appended). Invalid UTF-8 is replaced
// with U+FFFD, one per bad byte (see Repaired), so every stored string is
// valid UTF-8. A rejection's text is at most MaxReasonBytes.
func (e *Evaluator) Map(value []byte, now time.Time, out []Row) ([]Row, *Reject) {
	out, rej := e.mapMessage(value, now, out)
	if rej != nil {
		rej.clip()
	}
	return out, rej
}

func (e *Evaluator) mapMessage(value []byte, now time.Time, out []Row) ([]Row, *Reject) {
	raw := value
	e.repaired = 0
	if !utf8.Valid(value) {
		e.fixed, e.repaired = appendValidUTF8(e.fixed[:0], value)
		value = e.fixed
	}
	v, err := e.p.ParseBytes(value)
	if err != nil {
		return out, &Reject{Reason: NotJSON, Detail: "not JSON: " + jsonProblem(raw, err)}
	}
	start := len(out)
	elem := 0
	switch v.Type() {
	case fastjson.TypeObject:
		out, rej := e.mapOne(v, now, out, &elem)
		if rej != nil {
			return out[:start], rej
		}
		return out, nil
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for i, el := range arr {
			if el.Type() != fastjson.TypeObject {
				return out[:start], &Reject{Reason: NotObject, Detail: fmt.Sprintf("element %d of the message is %s, not a JSON object", i, el.Type())}
			}
			var rej *Reject
			if out, rej = e.mapOne(el, now, out, &elem); rej != nil {
				rej.Detail = fmt.Sprintf("element %d: %s", i, rej.Detail)
				return out[:start], rej
			}
		}
		return out, nil
	}
	return out, &Reject{Reason: NotObject, Detail: fmt.Sprintf("the message is a JSON %s, not an object or a list of objects", v.Type())}
}

func (e *Evaluator) mapOne(v *fastjson.Value, now time.Time, out []Row, elem *int) ([]Row, *Reject) {
	m := e.m
	n, idx := 1, -1
	if m.each != nil {
		lst := lookup(v, m.each, -1)
		if lst == nil || lst.Type() == fastjson.TypeNull {
			return out, &Reject{Reason: MissingColumn, Detail: fmt.Sprintf("missing list %s", m.eachText)}
		}
		if lst.Type() != fastjson.TypeArray {
			return out, &Reject{Reason: TypeMismatch, Detail: fmt.Sprintf("%s is a JSON %s, not a list", m.eachText, lst.Type())}
		}
		arr, _ := lst.Array()
		n, idx = len(arr), 0
	}
	for i := range n {
		if idx >= 0 {
			idx = i
		}
		row := Row{Elem: *elem, Values: make([]schema.Value, len(m.cols))}
		var rej *Reject
		if row.DBMS, rej = e.name(v, m.dbms, idx, MissingDBMS, "dbms"); rej != nil {
			return out, rej
		}
		if row.Table, rej = e.name(v, m.table, idx, MissingTable, "table"); rej != nil {
			return out, rej
		}
		for ci := range m.cols {
			c := &m.cols[ci]
			val, rej := e.column(v, c, idx, now)
			if rej != nil {
				return out, rej
			}
			row.Values[ci] = val
		}
		out = append(out, row)
		*elem++
	}
	return out, nil
}

// lack says why a brought value is not there.
type lack uint8

const (
	present lack = iota
	absent       // the key is not in the message, or no alternative has a value
	isNull       // JSON null
	isEmpty      // "" where the type needs a value
)

func (e *Evaluator) name(v *fastjson.Value, x expr, idx int, reason Reason, what string) (string, *Reject) {
	if x.kind == spec.ExprLiteral {
		return x.name, nil
	}
	text, l, at := e.text(v, x, idx)
	switch l {
	case absent:
		return "", &Reject{Reason: reason, Detail: fmt.Sprintf("the %s name (%s) is missing from the message", what, x.text)}
	case isNull:
		return "", &Reject{Reason: reason, Detail: fmt.Sprintf("the %s name (%s) is null: %s is null", what, x.text, at)}
	}
	// EdgeLake trims a brought name before normalising it: " c14_beta "
	// is c14_beta, not _c14_beta_.
	n := schema.NormalizeName(strings.TrimSpace(text))
	if n == "" {
		return "", &Reject{Reason: reason, Detail: fmt.Sprintf("the %s name (%s) is empty", what, x.text)}
	}
	return n, nil
}

func (e *Evaluator) column(v *fastjson.Value, c *column, idx int, now time.Time) (schema.Value, *Reject) {
	switch c.e.kind {
	case spec.ExprLiteral:
		return c.e.literal, nil
	case spec.ExprNow:
		if c.typ == schema.TypeString {
			return schema.Str(now.UTC().Format("2006-01-02T15:04:05.000000Z")), nil
		}
		return schema.Timestamp(now), nil
	}
	if len(c.e.parts) == 1 && c.e.parts[0].literal == "" {
		alts := c.e.parts[0].alts
		jv := e.first(v, alts, idx)
		switch {
		case jv == nil:
			return c.missing(absent, len(alts) > 1, "")
		case jv.Type() == fastjson.TypeNull:
			return c.missing(isNull, false, "")
		case c.typ != schema.TypeString && jv.Type() == fastjson.TypeString && len(jv.GetStringBytes()) == 0:
			return c.missing(isEmpty, false, "")
		}
		val, err := convertJSON(jv, c.typ)
		if err != nil {
			return schema.Null, &Reject{Reason: TypeMismatch, Column: c.name, Detail: fmt.Sprintf("column %q: %s %v", c.name, shortJSON(jv), err)}
		}
		return val, nil
	}
	text, l, at := e.text(v, c.e, idx)
	if l == present && text == "" && c.typ != schema.TypeString {
		l = isEmpty
	}
	if l != present {
		return c.missing(l, false, at)
	}
	val, err := convertText(text, c.typ)
	if err != nil {
		return schema.Null, &Reject{Reason: TypeMismatch, Column: c.name, Detail: fmt.Sprintf("column %q: %q %v", c.name, text, err)}
	}
	return val, nil
}

// missing is the value of a column that has none: NULL when the column is
// optional, a rejection saying what was found otherwise. alts says the
// column's alternatives all lacked a value; at names the part of a
// concatenation concerned.
func (c *column) missing(l lack, alts bool, at string) (schema.Value, *Reject) {
	if c.optional {
		return schema.Null, nil
	}
	const hint = "declare it optional = true to store NULL"
	var d string
	switch {
	case l == absent && alts:
		d = fmt.Sprintf("column %q: no alternative of %s has a value (each is absent, null or \"\"); %s", c.name, c.e.text, hint)
	case l == absent:
		d = fmt.Sprintf("column %q: %s is missing from the message; %s", c.name, c.e.text, hint)
	case l == isNull && at != "":
		d = fmt.Sprintf("column %q: %s is null; %s", c.name, at, hint)
	case l == isNull:
		d = fmt.Sprintf("column %q is null; %s", c.name, hint)
	default:
		d = fmt.Sprintf("column %q is \"\", which is no %s; %s", c.name, c.typ, hint)
	}
	return schema.Null, &Reject{Reason: MissingColumn, Column: c.name, Detail: d}
}

// text concatenates the parts of a bring. When a part has no value it
// returns why, and at names that part's path.
func (e *Evaluator) text(v *fastjson.Value, x expr, idx int) (string, lack, string) {
	b := e.buf[:0]
	for _, p := range x.parts {
		if len(p.alts) == 0 {
			b = append(b, p.literal...)
			continue
		}
		jv := e.first(v, p.alts, idx)
		if jv == nil {
			return "", absent, ""
		}
		if jv.Type() == fastjson.TypeNull {
			return "", isNull, pathText(p.alts[0])
		}
		b = appendText(b, jv)
	}
	e.buf = b
	return string(b), present, ""
}

// first is the value of the first alternative that has one: an
// alternative whose value is absent, null or "" passes to the next, as in
// EdgeLake, and when none has a value the result is nil. A single path's
// value is returned as it is (nil when absent).
func (e *Evaluator) first(v *fastjson.Value, alts [][]step, idx int) *fastjson.Value {
	if len(alts) == 1 {
		return lookup(v, alts[0], idx)
	}
	for _, a := range alts {
		jv := lookup(v, a, idx)
		if jv == nil {
			continue
		}
		switch jv.Type() {
		case fastjson.TypeNull:
			continue
		case fastjson.TypeString:
			if len(jv.GetStringBytes()) == 0 {
				continue
			}
		}
		return jv
	}
	return nil
}

// lookup follows a path; `[]` takes element idx of the list.
func lookup(v *fastjson.Value, path []step, idx int) *fastjson.Value {
	for _, s := range path {
		if v == nil {
			return nil
		}
		switch s.kind {
		case stepKey:
			if v.Type() != fastjson.TypeObject {
				return nil
			}
			v = v.Get(s.key)
		case stepIndex, stepEach:
			i := s.index
			if s.kind == stepEach {
				i = idx
			}
			if v.Type() != fastjson.TypeArray || i < 0 {
				return nil
			}
			arr, _ := v.Array()
			if i >= len(arr) {
				return nil
			}
			v = arr[i]
		}
	}
	return v
}

// appendText appends a JSON value as text: strings raw, numbers as written,
// true/false, objects and lists as compact JSON.
func appendText(b []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeString:
		return append(b, v.GetStringBytes()...)
	case fastjson.TypeTrue:
		return append(b, "true"...)
	case fastjson.TypeFalse:
		return append(b, "false"...)
	}
	return v.MarshalTo(b)
}

func shortJSON(v *fastjson.Value) string {
	s := string(v.MarshalTo(nil))
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
