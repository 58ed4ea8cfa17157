package actors

import (
	"testing"
	"unicode/utf8"

	"github.com/lakenode/lakenode/kafka/spec"
)

// A message stored with invalid UTF-8 replaced is counted in its
// partition's stats; a rejected one is not, and the error table keeps its
// raw bytes.
func TestInvalidUTF8IsCounted(t *testing.T) {
	c := newTestCore(t, spec.ErrorPolicy{Kind: spec.ErrorsTable})
	bad := "{\"t\":\"a\",\"v\":\"\xff\"}"
	out, _ := c.process(recs(0, "{\"t\":\"b\xff\",\"v\":1}", `{"t":"a","v":2}`, bad, "{\"t\":\"c\xfe\",\"v\":3}"))
	st := c.stats.Snapshot()
	if st.UTF8Repaired != 2 || st.Rows != 3 || st.ErrorsBy["type_mismatch"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	var errRows int
	for _, b := range out {
		if !utf8.ValidString(b.target.key) {
			t.Errorf("table %q", b.target.key)
		}
		if b.target.key == "lakenode.kafka_errors" {
			errRows++
			if v := b.batch.Feed.Records[0].Values; v[6].S != bad || !utf8.ValidString(v[4].S) {
				t.Errorf("error row %q %q", v[4].S, v[6].S)
			}
		}
	}
	if errRows != 1 {
		t.Errorf("%d error batches", errRows)
	}
}
