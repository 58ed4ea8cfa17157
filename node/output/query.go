package output

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

// QueryStats is EdgeLake's Statistics block of a query.
type QueryStats struct {
	Count       int64
	Elapsed     time.Duration
	Nodes       int
	Target      int      // nodes asked, when some did not answer
	Missing     []string // the nodes that did not answer
	RowsScanned int64    // shown as "Rows Scanned" when ShowScanned
	ShowScanned bool
	// NodeTimes is the time each node spent on its share of a run client ()
	// query (lakenode's "Node ms", shown with more than one node).
	NodeTimes []NodeTime
}

// NodeTime is one node's time on its share of a query.
type NodeTime struct {
	Name    string
	Elapsed time.Duration
}

// QueryResult is a query's answer to render.
type QueryResult struct {
	Columns []string
	Rows    []schema.Row
	Stats   QueryStats
}

// QueryFormat says how to render a query result.
type QueryFormat struct {
	Kind   string // json, json:output, json:list, table, csv
	Pretty bool   // indent json (a terminal); compact otherwise (REST, pipes)
	Stat   bool   // add the Statistics block
	Loc    *time.Location
}

// JSON is the Statistics block as EdgeLake writes it.
func (s QueryStats) JSON() string { return s.json() }

func (s QueryStats) json() string {
	var b strings.Builder
	if len(s.Missing) > 0 {
		fmt.Fprintf(&b, `{"Statistics":[{"Count": %d, "Time":"%s", "Target Nodes": %d, "Participating Nodes": %d, "Missing Nodes": %s`,
			s.Count, hmsDur(s.Elapsed), s.Target, s.Nodes, AppendJSON(nil, s.Missing))
	} else {
		fmt.Fprintf(&b, `{"Statistics":[{"Count": %d, "Time":"%s", "Nodes": %d`, s.Count, hmsDur(s.Elapsed), s.Nodes)
	}
	if s.ShowScanned {
		fmt.Fprintf(&b, `, "Rows Scanned": %d`, s.RowsScanned)
	}
	if len(s.NodeTimes) > 1 {
		b.WriteString(`, "Node ms": {`)
		for i, nt := range s.NodeTimes {
			if i > 0 {
				b.WriteString(", ")
			}
			b.Write(AppendJSON(nil, nt.Name))
			fmt.Fprintf(&b, ": %.1f", float64(nt.Elapsed.Microseconds())/1000)
		}
		b.WriteString("}")
	}
	b.WriteString("}]}")
	return b.String()
}

func hmsDur(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// EmptyReply is EdgeLake's answer to a query with no rows and stat = false.
const EmptyReply = `{"reply" : "Empty data set"}`

// RenderQuery writes a query result in one of EdgeLake's formats.
func RenderQuery(w io.Writer, r QueryResult, f QueryFormat) error {
	loc := f.Loc
	if loc == nil {
		loc = time.UTC
	}
	var b []byte
	switch f.Kind {
	case "json:output":
		if len(r.Rows) == 0 && !f.Stat {
			b = append(b, EmptyReply...)
			b = append(b, '\n')
			break
		}
		for _, row := range r.Rows {
			b = RowJSON(b, r.Columns, row, loc)
			b = append(b, '\n')
		}
		if f.Stat {
			b = append(b, r.Stats.json()...)
			b = append(b, '\n')
		}
	case "json:list":
		if len(r.Rows) == 0 && !f.Stat {
			b = append(b, EmptyReply...)
			b = append(b, '\n')
			break
		}
		b = append(b, '[')
		for i, row := range r.Rows {
			if i > 0 {
				b = append(b, ",\n"...)
			}
			b = RowJSON(b, r.Columns, row, loc)
		}
		b = append(b, "]\n"...)
		if f.Stat {
			b = append(b, r.Stats.json()...)
			b = append(b, '\n')
		}
	case "csv":
		b = CSVHeader(b, r.Columns)
		for _, row := range r.Rows {
			b = CSVRow(b, len(r.Columns), row, loc)
		}
	case "table":
		t := Table{Header: [][]string{r.Columns}}
		for _, row := range r.Rows {
			cells := make([]string, len(r.Columns))
			for i := range cells {
				if i < len(row) {
					cells[i] = cellText(row[i], loc)
				}
			}
			t.Rows = append(t.Rows, cells)
		}
		b = append(b, t.String()...)
		if f.Stat {
			b = append(b, r.Stats.json()...)
			b = append(b, '\n')
		}
	default: // json
		if len(r.Rows) == 0 && !f.Stat {
			b = append(b, EmptyReply...)
			b = append(b, '\n')
			break
		}
		b = append(b, `{"Query": [`...)
		for i, row := range r.Rows {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = RowJSON(b, r.Columns, row, loc)
		}
		b = append(b, ']')
		if f.Stat {
			b = append(b, ",\n\""...)
			st := r.Stats.json()
			b = append(b, st[2:len(st)-1]...) // "Statistics":[...]
		}
		b = append(b, '}')
		if f.Pretty {
			b = []byte(Indent(b))
		}
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}

func cellText(v schema.Value, loc *time.Location) string {
	if v.Type == schema.TypeTimestamp {
		return time.UnixMicro(v.I).In(loc).Format(schema.TimestampLayout)
	}
	return v.String()
}
