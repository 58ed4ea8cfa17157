package mapping

import (
	"testing"
	"unicode/utf8"

	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables/schema"
)

func FuzzMap(f *testing.F) {
	for _, s := range []string{
		`{"timestamp":"2026-01-01T10:00:00Z","value":42}`, `[{"value":1},{"value":"2"}]`, `{"readings":[{"value":1}]}`,
		`{"meta":{"company":"x","machine":"y","sn":1},"readings":[]}`, `null`, `[]`, `{"value":1e400}`, `{"timestamp":-1e30}`,
		`{'value': 1}`, "{\"value\":\"\xff\",\"readings\":[{\"value\":\"a\xc3\"}]}", `{"readings":[{"value":null}],"value":""}`,
	} {
		f.Add([]byte(s))
	}
	maps := []*Mapping{}
	for _, ts := range []spec.TopicSpec{
		seedTopic(),
		{Name: "t", DBMS: bring("[meta][company]"), Table: bring("[meta][machine]", "'_", "[meta][sn]"), Columns: []spec.ColumnSpec{
			{Name: "v", Type: schema.TypeFloat, Optional: true, Value: bring("[readings][][value]")},
			col("s", schema.TypeString, bring("[readings][][value]|[value]")),
		}},
	} {
		m, err := Compile(ts)
		if err != nil {
			f.Fatal(err)
		}
		maps = append(maps, m)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, m := range maps {
			rows, rej := m.NewEvaluator().Map(msg, testNow, nil)
			if rej != nil && len(rows) != 0 {
				t.Fatalf("rows and a reject for %q", msg)
			}
			if rej != nil && (len(rej.Error()) > MaxReasonBytes || !utf8.ValidString(rej.Error())) {
				t.Fatalf("reason %q for %q", rej.Error(), msg)
			}
			for _, r := range rows {
				if len(r.Values) != len(m.Columns()) || r.DBMS == "" || r.Table == "" || !utf8.ValidString(r.DBMS) || !utf8.ValidString(r.Table) {
					t.Fatalf("bad row %+v for %q", r, msg)
				}
				for i, v := range r.Values {
					if !v.IsNull() && v.Type != m.Columns()[i].Type {
						t.Fatalf("column %d has type %v, declared %v", i, v.Type, m.Columns()[i].Type)
					}
					if v.Type == schema.TypeString && !utf8.ValidString(v.S) {
						t.Fatalf("column %d is not UTF-8: %q", i, v.S)
					}
				}
			}
		}
	})
}
