package mapping

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables/schema"
)

// The benchmark workload (anchors §6): a ~150-byte message, 8 mapped columns
// including a parsed timestamp, a literal and now, dbms and table brought
// from the message.
var benchMsg = []byte(`{"dbms":"edgelake","table":"ping_sensor","device_name":"device-456","ip":"127.0.0.1","unit":"ms","timestamp":"2026-11-24T18:00:00.223456Z","value":493.7143}`)

func benchTopic() spec.TopicSpec {
	return spec.TopicSpec{Name: "t", DBMS: bring("[dbms]"), Table: bring("[table]"), Columns: []spec.ColumnSpec{
		col("device_name", schema.TypeString, bring("[device_name]")),
		col("ip", schema.TypeString, bring("[ip]")),
		col("unit", schema.TypeString, bring("[unit]")),
		col("timestamp", schema.TypeTimestamp, bring("[timestamp]")),
		col("value", schema.TypeFloat, bring("[value]")),
		col("site", schema.TypeString, lit("plant 7")),
		{Name: "ingested", Type: schema.TypeTimestamp, Value: spec.Expr{Kind: spec.ExprNow, Text: "now"}},
		col("reading", schema.TypeFloat, bring("[value]")),
	}}
}

// BenchmarkMapFastjson is the evaluator as shipped (valyala/fastjson).
func BenchmarkMapFastjson(b *testing.B) {
	ev := mustCompile(b, benchTopic()).NewEvaluator()
	var rows []Row
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	for b.Loop() {
		var rej *Reject
		rows, rej = ev.Map(benchMsg, testNow, rows[:0])
		if rej != nil || len(rows) != 1 {
			b.Fatal(rej)
		}
	}
}

// BenchmarkMapGjson does the same work with tidwall/gjson: one GetManyBytes
// for the 7 brought paths, then the same conversions.
func BenchmarkMapGjson(b *testing.B) {
	paths := []string{"dbms", "table", "device_name", "ip", "unit", "timestamp", "value"}
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	vals := make([]schema.Value, 8)
	for b.Loop() {
		if !gjson.ValidBytes(benchMsg) {
			b.Fatal("invalid")
		}
		res := gjson.GetManyBytes(benchMsg, paths...)
		dbms, table := schema.NormalizeName(res[0].String()), schema.NormalizeName(res[1].String())
		vals[0] = schema.Str(res[2].String())
		vals[1] = schema.Str(res[3].String())
		vals[2] = schema.Str(res[4].String())
		us, err := schema.ParseTimestamp(res[5].String())
		if err != nil {
			b.Fatal(err)
		}
		vals[3] = schema.TimestampMicros(us)
		f, err := parseFloat(res[6].Raw)
		if err != nil {
			b.Fatal(err)
		}
		vals[4] = schema.Float(f)
		vals[5] = schema.Str("plant 7")
		vals[6] = schema.Timestamp(testNow)
		vals[7] = schema.Float(f)
		if dbms == "" || table == "" {
			b.Fatal("names")
		}
	}
}
