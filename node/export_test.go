package node

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/node/output"
	"github.com/lakenode/lakenode/tables/schema"
)

func TestExportRecords(t *testing.T) {
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rows := output.QueryResult{
		Columns: []string{"device", "timestamp", "value"},
		Rows: []schema.Row{
			{schema.Str("d1"), schema.Timestamp(ts), schema.Int(7)},
			{{}, schema.Timestamp(ts), schema.Float(1.5)},
		},
		Stats: output.QueryStats{Count: 2},
	}
	empty := output.QueryResult{Columns: []string{"device"}, Stats: output.QueryStats{Count: 0}}
	row0 := `{"device": "d1", "timestamp": "2026-03-01 12:00:00.000000", "value": 7}`
	row1 := `{"device": null, "timestamp": "2026-03-01 12:00:00.000000", "value": 1.5}`
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		qr          output.QueryResult
		key         string
		stat, since bool
		loc         *time.Location
		keys        []string // "<nil>" for no key; nil for no keys at all
		values      []string // prefixes
		err         string
	}{
		{name: "rows, no key", qr: rows, values: []string{row0, row1}},
		{name: "key column, NULL is no key", qr: rows, key: "DEVICE", keys: []string{"d1", "<nil>"}, values: []string{row0, row1}},
		{name: "int key", qr: rows, key: "value", keys: []string{"7", "1.5"}, values: []string{row0, row1}},
		{name: "timestamp key in the query's zone", qr: rows, key: "timestamp", loc: paris, keys: []string{"2026-03-01 13:00:00.000000", "2026-03-01 13:00:00.000000"},
			values: []string{`{"device": "d1", "timestamp": "2026-03-01 13:00:00.000000"`, `{"device": null`}},
		{name: "stat adds the statistics message, without a key", qr: rows, key: "device", stat: true, keys: []string{"d1", "<nil>", "<nil>"}, values: []string{row0, row1, "\n{\"Statistics\":[{\"Count\": 2,"}},
		{name: "since = last with rows is the same", qr: rows, since: true, values: []string{row0, row1}},
		{name: "no rows: EdgeLake's empty-set reply", qr: empty, values: []string{output.EmptyReply}},
		{name: "no rows with stat: the statistics", qr: empty, stat: true, values: []string{"\n{\"Statistics\":[{\"Count\": 0,"}},
		{name: "since = last with no rows writes nothing", qr: empty, since: true},
		{name: "since = last with no rows and stat writes nothing", qr: empty, since: true, stat: true},
		{name: "unknown key column", qr: rows, key: "devices", err: "key = devices: the query's result has no column devices (its columns: device, timestamp, value)"},
		{name: "unknown key column, no rows", qr: empty, key: "x", since: true, err: "has no column x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			loc := c.loc
			if loc == nil {
				loc = time.UTC
			}
			keys, values, err := exportRecords(c.qr, c.key, c.stat, c.since, loc)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var gotKeys []string
			if keys != nil {
				gotKeys = []string{}
				for _, k := range keys {
					if k == nil {
						gotKeys = append(gotKeys, "<nil>")
					} else {
						gotKeys = append(gotKeys, string(k))
					}
				}
			}
			if !reflect.DeepEqual(gotKeys, c.keys) {
				t.Fatalf("keys %q, want %q", gotKeys, c.keys)
			}
			if len(values) != len(c.values) {
				t.Fatalf("%d values %q, want %d", len(values), values, len(c.values))
			}
			for i, v := range values {
				if !strings.HasPrefix(string(v), c.values[i]) {
					t.Fatalf("value %d: %q, want prefix %q", i, v, c.values[i])
				}
			}
		})
	}
}
