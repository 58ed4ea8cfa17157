package output

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

func TestCSV(t *testing.T) {
	ts := time.Date(2026, 12, 6, 10, 0, 0, 5000, time.UTC)
	for _, tc := range []struct {
		name string
		row  schema.Row
		want string
	}{
		{"plain", schema.Row{schema.Str("alpha"), schema.Int(3), schema.Float(0.5)}, "alpha,3,0.5\r\n"},
		{"comma", schema.Row{schema.Str("a,b"), schema.Int(1), schema.Float(1)}, "\"a,b\",1,1.0\r\n"},
		{"quote", schema.Row{schema.Str(`say "hi"`), schema.Int(1), schema.Float(1)}, "\"say \"\"hi\"\"\",1,1.0\r\n"},
		{"newlines", schema.Row{schema.Str("a\nb\r\nc"), schema.Int(1), schema.Float(1)}, "\"a\nb\r\nc\",1,1.0\r\n"},
		{"unicode", schema.Row{schema.Str("café ☕"), schema.Int(-1), schema.Float(-2.5)}, "café ☕,-1,-2.5\r\n"},
		{"null", schema.Row{{}, schema.Int(1), {}}, ",1,\r\n"},
		{"short row", schema.Row{schema.Str("x")}, "x,,\r\n"},
		{"timestamp", schema.Row{schema.Timestamp(ts), schema.Bool(true), schema.Float(1)}, "2026-12-06 10:00:00.000005,true,1.0\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(CSVRow(nil, 3, tc.row, time.UTC))
			if got != tc.want {
				t.Fatalf("CSVRow = %q, want %q", got, tc.want)
			}
			// encoding/csv reads back the same fields.
			rec, err := csv.NewReader(bytes.NewReader([]byte(got))).Read()
			if err != nil || len(rec) != 3 {
				t.Fatalf("read back: %q %v", rec, err)
			}
		})
	}
	if h := string(CSVHeader(nil, []string{"device_name", "count(*)", "a,b"})); h != "device_name,count(*),\"a,b\"\r\n" {
		t.Fatalf("header %q", h)
	}
	var b bytes.Buffer
	if err := RenderQuery(&b, QueryResult{Columns: []string{"v"}}, QueryFormat{Kind: "csv", Stat: true}); err != nil || b.String() != "v\r\n" {
		t.Fatalf("an empty result is its header alone (never statistics): %q %v", b.String(), err)
	}
	b.Reset()
	if err := RenderQuery(&b, QueryResult{Columns: []string{"v", "w"}, Rows: []schema.Row{{schema.Int(1), schema.Str("x")}, {schema.Int(2), {}}}}, QueryFormat{Kind: "csv"}); err != nil || b.String() != "v,w\r\n1,x\r\n2,\r\n" {
		t.Fatalf("rows: %q %v", b.String(), err)
	}
}
