package node

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// format = csv: streamed to the shell and REST (text/csv), built whole
// for run client-style replies, and streamed to dest = file past the
// reply cap; the same rows each way.
func TestFormatCSV(t *testing.T) {
	n := streamNode(t) // 20 rows in d.t, replies built whole capped at 5
	ctx := context.Background()
	const q = `sql d format = csv "select timestamp, value from t order by value"`
	var cp capture
	res := n.Execute(ctx, q, ExecOptions{Stream: cp.stream})
	if res.Err != nil || !res.Streamed || cp.begun != 1 {
		t.Fatalf("shell: %v streamed %v begun %d", res.Err, res.Streamed, cp.begun)
	}
	recs, err := csv.NewReader(&cp.buf).ReadAll()
	if err != nil || len(recs) != 21 || recs[0][0] != "timestamp" || recs[0][1] != "value" || recs[1][1] != "0" || recs[20][1] != "19" || recs[1][0] != "2026-11-25 00:00:00.000000" {
		t.Fatalf("shell csv: %v %q", err, recs)
	}

	// No row: the header alone, not streamed.
	var cp2 capture
	res = n.Execute(ctx, `sql d format = csv and stat = true "select value from t where value > 100"`, ExecOptions{Stream: cp2.stream})
	if res.Err != nil || res.Streamed || res.Text != "value\r\n" || !res.CSV || res.JSON {
		t.Fatalf("empty: %v %v %q csv %v", res.Err, res.Streamed, res.Text, res.CSV)
	}

	// Built whole (no stream): capped like the other whole replies.
	res = n.Execute(ctx, `sql d format = csv "select value from t limit 3"`, ExecOptions{})
	if res.Err != nil || res.Text != "value\r\n0\r\n1\r\n2\r\n" || !res.CSV {
		t.Fatalf("whole: %v %q", res.Err, res.Text)
	}

	srv := httptest.NewServer(n.httpHandler())
	defer srv.Close()
	for _, cmd := range []string{q, `sql d format = csv "select value from t limit 2"`} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		req.Header.Set("command", cmd)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !bytes.HasSuffix(body, []byte("\r\n")) {
			t.Fatalf("REST %s: %d %q\n%s", cmd, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}

	// dest = file streams: 20 rows pass the cap of 5.
	res = n.Execute(ctx, `sql d format = csv and dest = file and file = out.csv "select value from t order by value"`, ExecOptions{})
	if res.Err != nil || !strings.Contains(res.Text, "20 rows written to") {
		t.Fatalf("dest = file: %v %q", res.ErrorText(), res.Text)
	}
	data, err := os.ReadFile(filepath.Join(n.cfg.DataDir, "files", "out.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err = csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) != 21 || recs[20][0] != "19" {
		t.Fatalf("file: %v %q", err, recs)
	}
	// A failing query leaves the file as it was.
	res = n.Execute(ctx, `sql d format = csv and dest = file and file = out.csv "select nosuch from t"`, ExecOptions{})
	if res.Err == nil {
		t.Fatal("a bad query to a file succeeded")
	}
	if again, _ := os.ReadFile(filepath.Join(n.cfg.DataDir, "files", "out.csv")); !bytes.Equal(again, data) {
		t.Fatalf("a failed query changed the file: %q", again)
	}
}
