package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// streamNode is a node with 20 rows in d.t and a reply cap of 5 rows.
func streamNode(t *testing.T) *Node {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.MaxResultRows = 5
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	loadMinuteRows(t, n)
	return n
}

// loadMinuteRows loads d.t: 20 rows a minute apart from 2026-11-25 00:00,
// value 0..19.
func loadMinuteRows(t *testing.T, n *Node) {
	t.Helper()
	cols := []schema.Column{{Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	var rows [][]schema.Value
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for i := range 20 {
		rows = append(rows, []schema.Value{schema.Timestamp(base.Add(time.Duration(i) * time.Minute)), schema.Int(int64(i))})
	}
	tablestest.Load(t, n.Store(), "d", "t", cols, rows)
}

// capture is an ExecOptions.Stream that records what it is given.
type capture struct {
	begun   int
	notices []string
	buf     bytes.Buffer
}

func (c *capture) stream(notices []string) io.Writer {
	c.begun++
	c.notices = notices
	return &c.buf
}

func TestStreamedAndCappedReplies(t *testing.T) {
	n := streamNode(t)
	ctx := context.Background()
	cases := []struct {
		cmd      string
		stream   bool
		streamed bool   // the reply went to the stream
		lines    int    // lines of the reply (streamed or not)
		err      string // part of the error
	}{
		{`sql d format = json:output and stat = false "select value, from t"`, true, true, 20, ""},
		{`sql d format = json:output "select value from t where value >= 10"`, true, true, 11, ""}, // rows + Statistics
		{`sql d format = json:output and stat = false "select value from t where value > 100"`, true, false, 1, ""},
		{`sql d format = json:output and stat = false "select value from t order by value desc"`, true, true, 20, ""},
		{`sql d format = table and stat = false "select value from t"`, true, false, 0, "--max-result-rows N"},
		{`sql d format = table and stat = false "select value from t limit 5"`, true, false, 7, ""},
		{`sql d format = json "select value from t"`, true, false, 0, "more than 5 rows"},
		{`sql d format = json:list "select value from t order by value"`, true, false, 0, "more than 5 rows"},
		{`sql d format = json "select count(*) from t"`, true, false, 2, ""},
		// No stream (--connect, run client to a node): built whole, so capped.
		{`sql d format = json:output and stat = false "select value from t"`, false, false, 0, "more than 5 rows"},
		{`run client () sql d format = json:output and stat = false "select value from t"`, true, true, 20, ""},
		{`run client () sql d format = table "select value from t"`, true, false, 0, "more than 5 rows"},
		{`run client (` + n.cfg.Name + `) sql d format = json:output and stat = false "select value from t"`, true, false, 0, "more than 5 rows"},
	}
	for _, c := range cases {
		t.Run(c.cmd, func(t *testing.T) {
			var cp capture
			opts := ExecOptions{}
			if c.stream {
				opts.Stream = cp.stream
			}
			res := n.Execute(ctx, c.cmd, opts)
			if c.err != "" {
				if res.Err == nil || !strings.Contains(res.ErrorText(), c.err) || res.Streamed {
					t.Fatalf("want error %q, got %v (streamed %v)", c.err, res.Err, res.Streamed)
				}
				return
			}
			if res.Err != nil {
				t.Fatal(res.ErrorText())
			}
			if res.Streamed != c.streamed || (cp.begun == 1) != c.streamed || cp.begun > 1 {
				t.Fatalf("streamed %v, begun %d times", res.Streamed, cp.begun)
			}
			text := res.Text
			if c.streamed {
				text = cp.buf.String()
				if res.Text != "" {
					t.Fatalf("a streamed reply also has text %q", res.Text)
				}
			}
			if got := strings.Count(text, "\n"); got != c.lines {
				t.Fatalf("%d lines, want %d:\n%s", got, c.lines, text)
			}
		})
	}
	// The stray comma's notice comes before the rows, once.
	var cp capture
	res := n.Execute(ctx, `sql d format = json:output and stat = false "select value, from t"`, ExecOptions{Stream: cp.stream})
	if len(cp.notices) != 1 || !strings.Contains(cp.notices[0], "comma") || len(res.Notices) != 0 {
		t.Fatalf("notices: at start %q, after %q", cp.notices, res.Notices)
	}
}

// An error after the first row comes back with Streamed set; before the
// first row, as an ordinary error.
func TestStreamErrorAfterRows(t *testing.T) {
	n := streamNode(t)
	q, err := command.Parse(`sql d format = json:output and stat = false "select value from t"`, nil)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	for _, before := range []int{0, 2} {
		var cp capture
		st := &rowStream{begin: cp.stream, notices: []string{"note"}}
		for i := range before {
			if err := st.write(output.RowJSON(nil, []string{"value"}, schema.Row{schema.Int(int64(i))}, time.UTC)); err != nil {
				t.Fatal(err)
			}
			if err := st.write([]byte("\n")); err != nil {
				t.Fatal(err)
			}
		}
		res := n.endStream(q.(*command.SQL), st, newRowEncoder("json:output", time.UTC), boom, output.QueryStats{Count: int64(before)})
		if res.Err == nil || res.Streamed != (before > 0) || strings.Count(cp.buf.String(), "\n") != before {
			t.Fatalf("error after %d rows: %v, streamed %v, wrote %q", before, res.Err, res.Streamed, cp.buf.String())
		}
		if before == 0 && (len(res.Notices) != 1 || cp.begun != 0) {
			t.Fatalf("error before the first row: notices %q, stream begun %d times", res.Notices, cp.begun)
		}
	}
}

// Over REST a json:output reply is chunked; an error after its first row
// ends the body with an Error line and sets the X-Lakenode-Error trailer.
func TestRESTStream(t *testing.T) {
	n := streamNode(t)
	srv := httptest.NewServer(n.httpHandler())
	defer srv.Close()
	get := func(cmd string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		req.Header.Set("command", cmd)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	resp, body := get(`sql d format = json:output and stat = false "select value, from t"`)
	if resp.StatusCode != 200 || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" ||
		strings.Count(body, "\n") != 20 || !strings.HasPrefix(body, `{"value": 0}`) || len(resp.Header.Values("X-Lakenode-Notice")) != 1 {
		t.Fatalf("streamed: %d %v %v\n%s", resp.StatusCode, resp.TransferEncoding, resp.Header, body)
	}
	if resp.Trailer.Get(errorTrailer) != "" {
		t.Fatalf("trailer on success: %q", resp.Trailer.Get(errorTrailer))
	}
	resp, body = get(`sql d format = table "select value from t"`)
	if resp.StatusCode != 400 || !strings.Contains(body, "--max-result-rows") {
		t.Fatalf("capped: %d %s", resp.StatusCode, body)
	}

	mid := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := startRESTStream(w, nil)
		_, _ = st.Write([]byte("{\"value\": 0}\n"))
		_ = st.Flush()
		st.fail("query stopped: it ran longer than max_time = 1s")
	}))
	defer mid.Close()
	r2, err := http.Get(mid.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	want := "{\"value\": 0}\n{\"Error\" : \"query stopped: it ran longer than max_time = 1s\"}\n"
	if string(b) != want || r2.StatusCode != 200 || r2.Trailer.Get(errorTrailer) != "query stopped: it ran longer than max_time = 1s" {
		t.Fatalf("mid-stream error: %d %q trailer %q", r2.StatusCode, b, r2.Trailer.Get(errorTrailer))
	}
}

// A command run under output.WithProgress counts the rows its query scans
// (the shell's progress line); explain scans none.
func TestProgressCounts(t *testing.T) {
	n := streamNode(t) // 20 rows in d.t
	rows := &atomic.Int64{}
	ctx := output.WithProgress(context.Background(), rows)
	if res := n.Execute(ctx, `sql d format = json "select count(*) from t where value >= 0"`, ExecOptions{}); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := rows.Load(); got != 20 {
		t.Fatalf("progress counted %d rows, want 20", got)
	}
	if res := n.Execute(ctx, `sql d "explain select count(*) from t"`, ExecOptions{}); res.Err != nil || rows.Load() != 20 {
		t.Fatalf("explain counted rows: %d %v", rows.Load(), res.Err)
	}
}
