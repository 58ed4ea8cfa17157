package node

import (
	"fmt"
	"strings"
	"time"

	"github.com/lakenode/lakenode/node/output"
	"github.com/lakenode/lakenode/tables/schema"
)

// exportRecords builds the records of a query's export to Kafka: one per
// row, its value the row's JSON exactly as json:output prints it; with
// stat, EdgeLake's statistics message after them; with no rows and no stat,
// EdgeLake's empty-set reply, except in a since = last run (since), which
// then writes nothing (a scheduled export would otherwise fill the topic
// with them). keyCol, when set, names the result column whose value keys
// each row's record (a NULL value is no key); keys is nil without it.
func exportRecords(qr output.QueryResult, keyCol string, stat, since bool, loc *time.Location) (keys, values [][]byte, err error) {
	ki := -1
	if keyCol != "" {
		for i, c := range qr.Columns {
			if strings.EqualFold(c, keyCol) {
				ki = i
				break
			}
		}
		if ki < 0 {
			return nil, nil, fmt.Errorf("key = %s: the query's result has no column %s (its columns: %s)", keyCol, keyCol, strings.Join(qr.Columns, ", "))
		}
	}
	if since && len(qr.Rows) == 0 {
		return nil, nil, nil
	}
	for _, row := range qr.Rows {
		values = append(values, output.RowJSON(nil, qr.Columns, row, loc))
		if ki >= 0 {
			var k []byte
			if ki < len(row) {
				k = keyBytes(row[ki], loc)
			}
			keys = append(keys, k)
		}
	}
	var extra []byte
	if stat {
		extra = []byte("\n" + qr.Stats.JSON())
	} else if len(qr.Rows) == 0 {
		extra = []byte(output.EmptyReply)
	}
	if extra != nil {
		values = append(values, extra)
		if ki >= 0 {
			keys = append(keys, nil)
		}
	}
	return keys, values, nil
}

// keyBytes is a record key from a column value: its text as a table cell
// shows it (a timestamp in loc), nil for NULL.
func keyBytes(v schema.Value, loc *time.Location) []byte {
	switch {
	case v.IsNull():
		return nil
	case v.Type == schema.TypeTimestamp:
		if loc == nil {
			loc = time.UTC
		}
		return time.UnixMicro(v.I).In(loc).AppendFormat(nil, schema.TimestampLayout)
	}
	return []byte(v.String())
}
