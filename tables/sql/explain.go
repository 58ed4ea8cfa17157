package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// Explain describes how the query runs, without running it: the scan (its
// table, key range and time bounds, the columns it decodes, the filter
// left for each row), what each node computes (the partial) and how the
// partials merge into the answer. One line a step, stable text.
func (q *Prepared) Explain() []string {
	p := q.p
	t := p.table
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	lo, hi := tables.ScanBounds(t, p.tr)
	add("Scan %s (table id %d), in time order", t.FullName(), t.ID)
	add("  key range: [%x, %x)", lo, hi)
	add("  %s", sealedText(p))
	add("  time bounds: %s", timeBounds(t, p.tr))
	add("  columns decoded: %s", strings.Join(usedColumns(t, p.used), ", "))
	switch {
	case p.where != nil:
		add("  filter: evaluated on each row in the time bounds")
	case p.tr.HasFrom || p.tr.HasTo:
		add("  filter: none beyond the time bounds (they are the whole filter)")
	default:
		add("  filter: none")
	}
	if p.commits != nil {
		add("  commits: tsd_id in (%d, %d] (since = last)", p.commits.After, p.commits.UpTo)
	}
	q.explainPartial(add)
	q.explainMerge(add)
	add("Output columns: %s", strings.Join(p.columns, ", "))
	return out
}

func (q *Prepared) explainPartial(add func(string, ...any)) {
	p := q.p
	switch {
	case p.agg:
		aggs := make([]string, len(p.aggs))
		for i, a := range p.aggs {
			aggs[i] = a.kind.String()
		}
		if len(aggs) == 0 {
			aggs = []string{"the group's first row"}
		}
		add("Partial (each node): %s, keeping per group %s", groupsText(len(p.groupBy)), strings.Join(aggs, ", "))
	case p.dist:
		add("Partial (each node): the rows (distinct is applied at the merge)")
	case p.limit >= 0 && len(p.order) == 0:
		add("Partial (each node): the first %d rows in time order; the scan stops there", p.offset+p.limit)
	case p.limit >= 0:
		add("Partial (each node): the rows sorted by %d key(s), the first %d kept", len(p.order), p.offset+p.limit)
	case len(p.order) > 0:
		add("Partial (each node): the rows sorted by %d key(s)", len(p.order))
	default:
		add("Partial (each node): the rows in time order")
	}
}

func (q *Prepared) explainMerge(add func(string, ...any)) {
	p := q.p
	var steps []string
	switch {
	case p.agg:
		steps = append(steps, "combine the groups of every node (the aggregates' states merged)")
		if p.having != nil {
			steps = append(steps, "having")
		}
	case len(p.order) == 0:
		steps = append(steps, "the nodes' rows in time order")
	default:
		steps = append(steps, "the nodes' rows")
	}
	if p.dist {
		steps = append(steps, "distinct")
	}
	if len(p.order) > 0 {
		steps = append(steps, fmt.Sprintf("order by %d key(s)", len(p.order)))
	} else if p.buckets {
		steps = append(steps, "groups in bucket order")
	}
	if p.offset > 0 {
		steps = append(steps, fmt.Sprintf("offset %d", p.offset))
	}
	if p.limit >= 0 {
		steps = append(steps, fmt.Sprintf("limit %d", p.limit))
	}
	add("Merge: %s", strings.Join(steps, ", then "))
}

func groupsText(n int) string {
	if n == 0 {
		return "one group (all rows)"
	}
	return fmt.Sprintf("rows grouped by %d expression(s)", n)
}

func timeBounds(t *schema.Table, r tables.TimeRange) string {
	name := t.Columns[t.TimeColumn].Name
	ts := func(us int64) string {
		return "'" + time.UnixMicro(us).UTC().Format(schema.TimestampLayout) + "'"
	}
	switch {
	case r.HasFrom && r.HasTo:
		return fmt.Sprintf("%s >= %s and %s < %s", name, ts(r.From), name, ts(r.To))
	case r.HasFrom:
		return fmt.Sprintf("%s >= %s", name, ts(r.From))
	case r.HasTo:
		return fmt.Sprintf("%s < %s", name, ts(r.To))
	}
	return "none (every row of the table)"
}

func usedColumns(t *schema.Table, used []bool) []string {
	var out []string
	for i, u := range used {
		if u && i < len(t.Columns) {
			out = append(out, t.Columns[i].Name)
		}
	}
	if len(out) == 0 {
		return []string{"none (rows counted only)"}
	}
	return out
}

func (k aggKind) String() string {
	switch k {
	case aggCountStar:
		return "count(*)"
	case aggCount:
		return "count"
	case aggCountDistinct:
		return "count(distinct) (the set of values)"
	case aggSum:
		return "sum"
	case aggMin:
		return "min"
	case aggMax:
		return "max"
	case aggAvg:
		return "avg (as sum and count)"
	case aggRange:
		return "range (as min and max)"
	}
	return "?"
}

// sealedText says how the scan reads sealed column blocks.
func sealedText(p *queryPlan) string {
	switch v := p.vec; {
	case v == nil && p.commits != nil:
		return "sealed blocks: those holding commits of the run, decoded into rows and merged with the unsealed rows in key order"
	case v == nil:
		return "sealed blocks: decoded into rows and merged with the unsealed rows in key order"
	case v.rowWhere:
		return "sealed blocks: vectorised — the filter evaluated on rows made from each block's columns, the aggregates run column by column"
	case len(v.filters) > 0:
		return fmt.Sprintf("sealed blocks: vectorised — a block whose min/max decide the %d column filter(s) is skipped or taken whole, the others filtered and aggregated column by column", len(v.filters))
	}
	return "sealed blocks: vectorised — a block wholly in the time bounds is answered from its header where it can, the others aggregated column by column"
}
