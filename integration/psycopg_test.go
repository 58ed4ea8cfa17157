package integration

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// psycopgPackages: psycopg 3 with its binary build (libpq inside), so the
// test needs no system libpq.
var psycopgPackages = []string{"psycopg==3.3.9", "psycopg-binary==3.3.9"}

// TestPsycopg: Python's psycopg (v3) against a node with a token: a wrong
// password is refused (28P01), a parametrised query and a server-side
// prepared statement answer as sql does, binary results come typed, and a
// cancel stops a long query (57014) and its query actor.
func TestPsycopg(t *testing.T) {
	py := pythonWith(t, psycopgPackages...)
	dir := t.TempDir()
	writeRows(t, dir, 10_000, 0, 10_000, time.Now())
	writeSlowRows(t, dir, slowRows/4, 100)
	token, file := newToken(t)
	pg := freeAddr(t)
	n := startNode(t, "psycopg", dir, "", "--auth-token-file", file, "--pg", pg)
	host, port, _ := strings.Cut(pg, ":")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	slow := strings.TrimSuffix(strings.TrimPrefix(slowQuery(slowDepth), `sql slow "`), `"`)
	out, err := exec.CommandContext(ctx, py, filepath.Join("testdata", "psycopg_client.py"), host, port, token, slow).CombinedOutput()
	if err != nil {
		t.Fatalf("psycopg client: %v\n%s\n%s", err, out, n.logTail())
	}
	var got struct {
		WrongPassword  string   `json:"wrong_password"`
		ParamCount     int64    `json:"param_count"`
		PreparedCounts []int64  `json:"prepared_counts"`
		BinaryTypes    []string `json:"binary_types"`
		BinaryFirst    []any    `json:"binary_first"`
		Cancel         struct {
			Outcome  string  `json:"outcome"`
			SQLState string  `json:"sqlstate"`
			Seconds  float64 `json:"seconds"`
		} `json:"cancel"`
	}
	t.Logf("psycopg: %s", out)
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(got.WrongPassword, "password authentication failed") || strings.Contains(got.WrongPassword, token) {
		t.Errorf("wrong password: %q", got.WrongPassword)
	}
	count := func(v int) int64 {
		body := n.authExec(token, `sql bench format = json and stat = false "select count(*) as c from ping_sensor where value >= `+strconv.Itoa(v)+`"`)
		var r struct{ Query []struct{ C int64 } }
		if err := json.Unmarshal([]byte(body), &r); err != nil || len(r.Query) != 1 {
			t.Fatalf("sql count: %v %s", err, body)
		}
		return r.Query[0].C
	}
	if want := count(500); got.ParamCount != want {
		t.Errorf("parametrised query counted %d, sql %d", got.ParamCount, want)
	}
	for i, v := range []int{100, 500, 900} {
		if i >= len(got.PreparedCounts) || got.PreparedCounts[i] != count(v) {
			t.Errorf("prepared statement counts %v, sql %d for value >= %d", got.PreparedCounts, count(v), v)
		}
	}
	if strings.Join(got.BinaryTypes, ",") != "str,datetime,int" || len(got.BinaryFirst) != 3 || got.BinaryFirst[0] != "device-0" {
		t.Errorf("binary results: types %v, first row %v", got.BinaryTypes, got.BinaryFirst)
	}
	if got.Cancel.Outcome != "canceled" || got.Cancel.SQLState != "57014" || got.Cancel.Seconds > stopWithin.Seconds() {
		t.Errorf("cancel: %+v", got.Cancel)
	}
	waitFor(t, 30*time.Second, func() bool {
		return !strings.Contains(n.authExec(token, "get queries"), "postgres:")
	}, "the canceled query's actor to stop\n%s", n.authExec(token, "get queries"))
}
