package node

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

const fuzzToken = "fuzz-token-6f1c9a"

// fuzzNode is a node serving the REST port on 127.0.0.1 with the table
// lsl_demo.ping_sensor, and the handler its port serves (guard and
// commands, as Start composes them) with a count of the requests that got
// past the guard.
type fuzzNode struct {
	n       *Node
	handler http.Handler
	inner   atomic.Int64
	bound   string
	backups string
}

func newFuzzNode(f *testing.F, token string, metricsOpen bool) *fuzzNode {
	f.Helper()
	dir := f.TempDir()
	cfg := DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.BackupDir = filepath.Join(dir, "backups")
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.MetricsOpen = metricsOpen
	if token != "" {
		cfg.Auth.Token = []byte(token)
	}
	n, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = n.Stop(context.Background()) })
	fn := &fuzzNode{n: n, bound: n.httpLn.Addr().String(), backups: cfg.BackupDir}
	inner := n.httpHandler()
	fn.handler = n.guardHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn.inner.Add(1)
		inner.ServeHTTP(w, r)
	}))
	fn.loadTable(f)
	return fn
}

// loadTable (re)creates lsl_demo.ping_sensor when a command dropped it.
func (fn *fuzzNode) loadTable(tb testing.TB) {
	if _, ok := fn.n.Store().Table("lsl_demo", "ping_sensor"); ok {
		return
	}
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	t0 := time.Now().Add(-time.Hour)
	rows := make([][]schema.Value, 30)
	for i := range rows {
		rows[i] = []schema.Value{schema.Str(string(rune('a' + i%3))), schema.Timestamp(t0.Add(time.Duration(i) * time.Minute)), schema.Int(int64(i))}
	}
	tablestest.Load(tb, fn.n.Store(), "lsl_demo", "ping_sensor", cols, rows)
}

// reachesOut reports whether a request would connect out of the process
// to an address taken from the command: a consumer, an export to Kafka, a
// run client to named nodes, or a scheduled task doing one of these. The
// fuzzer does not run those (FuzzParse covers their parsing).
func reachesOut(req command.Request, vars map[string]string, depth int) bool {
	switch r := req.(type) {
	case *command.RunKafkaConsumer:
		return true
	case *command.SQL:
		return strings.HasPrefix(strings.ToLower(r.Options.Dest), "kafka")
	case *command.RunClient:
		return len(r.Dests) > 0 || reachesOut(r.Inner, vars, depth+1)
	case *command.Schedule:
		inner, err := command.Parse(r.Task, vars)
		return err == nil && (depth > 4 || reachesOut(inner, vars, depth+1))
	}
	return false
}

var fuzzCommandRE = regexp.MustCompile(`^(get|sql|run|set|drop|backup|help|schedule|task|exit|connect|flush|reset|[a-z_]+ = )`)

// fuzzCommands are the commands of help and of the README's examples.
func fuzzCommands(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, c := range command.Commands() {
		out = append(out, c.Example, c.Usage)
	}
	b, err := os.ReadFile("../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if fuzzCommandRE.MatchString(line) && len(line) < 2000 {
			out = append(out, line)
		}
	}
	if len(out) < 60 {
		tb.Fatalf("only %d seed commands", len(out))
	}
	return append(out, `sql lsl_demo format = json:output "select * from ping_sensor"`, `sql lsl_demo format = table "select device_name, count(*) from ping_sensor group by device_name"`,
		`sql lsl_demo dest = file and file = out.json "select value from ping_sensor"`, `sql lsl_demo "select device_name % sum(value) total from ping_sensor group by total"`,
		`get msg client where detailed = true and format = json`, "run scheduler 1", `schedule time = 1 second and name = "q" task get version`, "exit scheduler",
		"drop table ping_sensor where dbms = lsl_demo", "set retention where dbms = lsl_demo and table = ping_sensor and keep = 1 days",
		"backup where dir = b1", "backup where dir = ../escape", "x = 1", "get !x", "sql lsl_demo \"select \xff\"", "get processes\x00")
}

// FuzzREST sends arbitrary requests — method, path, Host, Origin, the
// command header, a token and one more header — to the REST port's
// handler of an in-process node, one with a token and one without. It
// never panics; it answers only the statuses the README documents and no
// 5xx (a command's fault is 400; the node is healthy); without the right
// token nothing but /healthz (and /metrics when it is open) gets past the
// guard of the node with a token; a 403 of the open node never ran
// anything; no reply header carries a line break.
func FuzzREST(f *testing.F) {
	cmds := fuzzCommands(f)
	paths := []string{"/", "/", "/metrics", "/healthz", "/x", "//", "/./", "/%2e%2e/", "/healthz/", "/metrics?x=1", "/?command=get+version"}
	for i, c := range cmds {
		// Each command as a client sends it, to either node; every
		// seventh also with odd methods, paths, tokens, hosts, origins.
		f.Add([]string{"GET", "POST"}[i%2], "/", c, "Bearer "+fuzzToken, "$BOUND", "", "", "", uint8(i%2))
		if i%7 == 0 {
			j := i / 7
			method := []string{"GET", "POST", "PUT", "get"}[j%4]
			authz := []string{"Bearer " + fuzzToken, "", "bearer  " + fuzzToken + " ", "Bearer wrong", "Basic " + fuzzToken}[j%5]
			host := []string{"$BOUND", "localhost:$PORT", "evil.example:$PORT", "127.0.0.1:1"}[j%4]
			origin := []string{"", "http://$BOUND", "http://evil.example"}[j%3]
			f.Add(method, paths[j%len(paths)], c, authz, host, origin, "Destination", []string{"", "network"}[j%2], uint8(j))
		}
	}
	open := newFuzzNode(f, "", false)
	guarded := newFuzzNode(f, fuzzToken, true)
	f.Fuzz(func(t *testing.T, method, path, cmd, authz, host, origin, hname, hval string, flags uint8) {
		fn, metricsOpen := open, false
		if flags&1 != 0 {
			fn, metricsOpen = guarded, true
		}
		_, port, _ := strings.Cut(fn.bound, ":")
		expand := func(s string) string {
			return strings.ReplaceAll(strings.ReplaceAll(s, "$BOUND", fn.bound), "$PORT", port)
		}
		host, origin = expand(host), expand(origin)
		// The request as it comes off the wire: whatever the server's
		// parser refuses never reaches the handler.
		var raw strings.Builder
		raw.WriteString(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n")
		for _, h := range [][2]string{{"command", cmd}, {"Authorization", authz}, {"Origin", origin}, {hname, hval}} {
			if h[0] != "" && h[1] != "" {
				raw.WriteString(h[0] + ": " + h[1] + "\r\n")
			}
		}
		if flags&2 != 0 {
			raw.WriteString("Sec-Fetch-Site: cross-site\r\n")
		}
		raw.WriteString("\r\n")
		if raw.Len() > MaxRESTHeaderBytes {
			return // answered 431 by the server
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw.String())))
		if err != nil {
			return
		}
		req.RemoteAddr = "127.0.0.1:40000"
		line := strings.TrimSpace(req.Header.Get("command"))
		if strings.EqualFold(strings.TrimSpace(req.Header.Get("destination")), "network") && !strings.HasPrefix(strings.ToLower(line), "run client") {
			line = "run client () " + line
		}
		fn.n.mu.Lock()
		vars := make(map[string]string, len(fn.n.vars))
		for k, v := range fn.n.vars {
			vars[k] = v
		}
		fn.n.mu.Unlock()
		parsed, perr := command.Parse(line, vars)
		if perr == nil && reachesOut(parsed, vars, 0) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req = req.WithContext(ctx)
		rec := httptest.NewRecorder()
		before := fn.inner.Load()
		fn.handler.ServeHTTP(rec, req)
		passed := fn.inner.Load() > before
		res := rec.Result()
		body := rec.Body.String()
		defer func() {
			// Undo what would pile up over many inputs: schedulers
			// running tasks, backups, a dropped table.
			switch parsed.(type) {
			case *command.RunScheduler, *command.Schedule, *command.TaskControl:
				fn.n.Execute(context.Background(), "exit scheduler", ExecOptions{})
			case *command.Backup:
				_ = os.RemoveAll(fn.backups)
			case *command.DropTable, *command.SetRetention:
				fn.loadTable(t)
			}
		}()

		switch res.StatusCode {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
			http.StatusMethodNotAllowed, http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			t.Fatalf("%s %q command %q: status %d:\n%.2000s", req.Method, path, line, res.StatusCode, body)
		}
		if fn == guarded {
			tokenOK := false
			if a := req.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") && strings.TrimSpace(a[7:]) == fuzzToken {
				tokenOK = true
			}
			free := req.URL.Path == "/healthz" || req.URL.Path == "/metrics" && metricsOpen
			if !tokenOK && !free && (passed || res.StatusCode != http.StatusUnauthorized) {
				t.Fatalf("%s %q with Authorization %q: status %d, past the guard %v", req.Method, path, req.Header.Get("Authorization"), res.StatusCode, passed)
			}
		}
		if res.StatusCode == http.StatusForbidden && passed {
			t.Fatalf("%s %q: 403 after the guard let it through", req.Method, path)
		}
		if fn == open && req.Host == fn.bound && req.Header.Get("Origin") == "" && req.Header.Get("Sec-Fetch-Site") == "" && !passed {
			t.Fatalf("%s %q from the node's own Host: refused with %d: %s", req.Method, path, res.StatusCode, body)
		}
		for _, hs := range []http.Header{res.Header, res.Trailer} {
			for k, vs := range hs {
				for _, v := range vs {
					if strings.ContainsAny(v, "\r\n") {
						t.Fatalf("reply header %s: %q", k, v)
					}
				}
			}
		}
		if passed && req.URL.Path == "/" && (req.Method == "GET" || req.Method == "POST") && line != "" &&
			res.StatusCode == http.StatusOK && res.Header.Get("Content-Type") == "" {
			t.Fatalf("%q: 200 without a Content-Type", line)
		}
	})
}
