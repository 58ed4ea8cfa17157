package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/tables"
)

// TestNewUserMessages: what a new user's messages hit (issue 11), end to
// end. A null or "" alternative passes to the next, "" in an optional int
// is NULL, a padded database name lands in the trimmed database, invalid
// UTF-8 is stored as U+FFFD and comes out of format = json as strict JSON,
// and a Python dict is rejected with a plain reason.
func TestNewUserMessages(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "newuser"
	kafkatest.CreateTopic(t, b, topic, 1)
	kafkatest.Produce(t, b, topic,
		[]byte(`{"db":" c14_beta ","data":{"temp":null,"temperature":23.5},"name":"","host":"h4","note":"caf`+"\xff\xfe"+`","n":""}`),
		[]byte(`{'db': 'c14_beta', 'data': {'temp': 1}}`),
		[]byte(`{"db":"c14_beta","data":{"temp":null},"temp":"","host":"h5","note":"x"}`),
		[]byte(`{"db":"c14_beta","data":{"temp":""},"temp":7,"name":"n6","note":"","n":6}`),
	)
	host, port, _ := net.SplitHostPort(b.Addr())
	n := startNode(t, "newuser", t.TempDir(), fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = %s and dbms = "bring [db]" and table = t and `+
		`column.temp.float = "bring [data][temp]:[data][temperature]:[temp]" and column.host.str = "bring [name]:[host]" and column.note.str = "bring [note]" and `+
		`column.n = (type = int and value = "bring [n]" and optional = true))`, host, port, topic))
	waitFor(t, 60*time.Second, func() bool {
		cs := msgClients(t, n)
		return len(cs) == 1 && cs[0].Messages == 4
	}, "all 4 messages counted")
	waitFor(t, 10*time.Second, func() bool { return n.rowCount("c14_beta", "t") == 2 }, "2 rows in c14_beta.t")
	waitFor(t, 10*time.Second, func() bool { return n.rowCount(tables.ErrorsDBMS, tables.ErrorsTable) == 2 }, "2 rejected messages")
	if c := n.rowCount("_c14_beta_", "t"); c > 0 {
		t.Errorf("a padded name created _c14_beta_ with %d rows", c)
	}
	if body := n.mustExec("get msg client where format = json"); !strings.Contains(body, `"utf8_repaired": 1`) {
		t.Errorf("the repaired message is not counted:\n%s", body)
	}
	if body := n.mustExec("get msg client"); !strings.Contains(body, "Messages stored with invalid UTF-8 replaced by U+FFFD: 1") {
		t.Errorf("get msg client does not show the repaired message:\n%s", body)
	}

	for s, strict := range map[string]bool{`{"a":"\udcff"}`: false, `{"a":"\ud83c"}`: false, `{"a":"\ud83c\udf89 \\udcff"}`: true} {
		if err := strictJSON(s); (err == nil) != strict {
			t.Fatalf("strictJSON(%s): %v", s, err)
		}
	}
	body := n.mustExec(`sql c14_beta format = json and stat = false "select temp, host, note, n from t order by temp"`)
	if err := strictJSON(body); err != nil {
		t.Fatalf("format = json is not strict JSON: %v\n%s", err, body)
	}
	var got struct {
		Query []struct {
			Temp float64 `json:"temp"`
			Host string  `json:"host"`
			Note string  `json:"note"`
			N    *int64  `json:"n"`
		} `json:"Query"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Query) != 2 {
		t.Fatalf("reply %v:\n%s", err, body)
	}
	r0, r1 := got.Query[0], got.Query[1]
	if r0.Temp != 7 || r0.Host != "n6" || r0.Note != "" || r0.N == nil || *r0.N != 6 {
		t.Errorf("first row %+v", r0)
	}
	if r1.Temp != 23.5 || r1.Host != "h4" || r1.Note != "caf\uFFFD\uFFFD" || r1.N != nil {
		t.Errorf("second row %+v", r1)
	}

	reasons := n.mustExec(`sql lakenode format = json and stat = false "select reason from kafka_errors order by offset"`)
	for _, want := range []string{
		`not_json: not JSON: single quotes are not allowed (offset 1)`,
		`missing_column: column \"temp\": no alternative of bring [data][temp]:[data][temperature]:[temp] has a value`,
	} {
		if !strings.Contains(reasons, want) {
			t.Errorf("kafka_errors reasons lack %q:\n%s", want, reasons)
		}
	}
	n.stop()
}

var uEscape = regexp.MustCompile(`\\+u([0-9a-fA-F]{4})`)

// strictJSON checks what encoding/json lets pass: a \u escape of a UTF-16
// surrogate must be half of a pair, as strict parsers require.
func strictJSON(s string) error {
	if !json.Valid([]byte(s)) {
		return fmt.Errorf("invalid JSON")
	}
	ms := uEscape.FindAllStringSubmatchIndex(s, -1)
	for i := 0; i < len(ms); i++ {
		m := ms[i]
		if (m[2]-m[0]-1)%2 == 0 { // an even run of backslashes before u: text, not an escape
			continue
		}
		x, _ := strconv.ParseUint(s[m[2]:m[3]], 16, 16)
		switch {
		case x >= 0xDC00 && x <= 0xDFFF:
			return fmt.Errorf("a lone low surrogate %s at %d", s[m[0]:m[1]], m[0])
		case x >= 0xD800 && x <= 0xDBFF:
			if i+1 >= len(ms) || ms[i+1][0] != m[1] {
				return fmt.Errorf("a lone high surrogate %s at %d", s[m[0]:m[1]], m[0])
			}
			i++ // its low half
		}
	}
	return nil
}
