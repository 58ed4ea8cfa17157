package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBoundedWork has 50 REST clients send 200 mixed requests each to one
// node — a streamed json:output reply of a 200,000-row table, good queries,
// malformed commands, commands over the header limit, queries over the
// reply cap, get error log — and checks each answer and that the node's
// peak RSS stays under 300 MiB.
func TestBoundedWork(t *testing.T) {
	const (
		rows     = 200_000
		clients  = 50
		requests = 200
		rowCap   = 10_000
	)
	dir := t.TempDir()
	writeRows(t, dir, rows, 0, rows, time.Now())
	n := startNode(t, "bounded", dir, "", "--max-result-rows", fmt.Sprint(rowCap))

	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	type outcome struct {
		status int
		body   string
		lines  int
		err    error
	}
	do := func(cmd string, count bool) outcome {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+n.http+"/", nil)
		req.Header.Set("command", cmd)
		resp, err := cl.Do(req)
		if err != nil {
			return outcome{err: err}
		}
		defer resp.Body.Close()
		o := outcome{status: resp.StatusCode}
		if count {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				o.lines++
			}
			o.err = sc.Err()
			return o
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		o.body, o.err = string(b), err
		return o
	}
	huge := strings.Repeat("x", 1<<20)                                                                                    // over the 256 KiB header limit
	big := `sql bench "select value from ping_sensor where device_name = '` + strings.Repeat("d", 200<<10) + `' and and"` // under it, malformed
	kinds := []struct {
		name  string
		cmd   string
		check func(o outcome) error
	}{
		{"good query", `sql bench format = json and stat = false "select count(*) from ping_sensor where timestamp > now() - 10 minutes"`, func(o outcome) error {
			if o.status != 200 || !strings.Contains(o.body, `{"Query": [{"count(*)": `) {
				return fmt.Errorf("%d %.200s", o.status, o.body)
			}
			return nil
		}},
		{"malformed", `sql bench "select from where"`, func(o outcome) error {
			if o.status != 400 || !strings.Contains(o.body, "syntax error") {
				return fmt.Errorf("%d %.200s", o.status, o.body)
			}
			return nil
		}},
		{"unknown command", "frobnicate the node " + strings.Repeat("now ", 100), func(o outcome) error {
			if o.status != 400 {
				return fmt.Errorf("%d %.200s", o.status, o.body)
			}
			return nil
		}},
		{"row cap", `sql bench format = table "select * from ping_sensor"`, func(o outcome) error {
			if o.status != 400 || !strings.Contains(o.body, "--max-result-rows") {
				return fmt.Errorf("%d %.200s", o.status, o.body)
			}
			return nil
		}},
		{"large malformed command", big, func(o outcome) error {
			if o.status != 400 || len(o.body) > 4<<10 {
				return fmt.Errorf("%d, %d bytes: %.200s", o.status, len(o.body), o.body)
			}
			return nil
		}},
		{"get error log", "get error log", func(o outcome) error {
			// 200 entries of at most 1 KB each, plus their lines.
			if o.status != 200 || len(o.body) > 300<<10 {
				return fmt.Errorf("%d, %d bytes", o.status, len(o.body))
			}
			return nil
		}},
	}
	var mu sync.Mutex
	var failures []string
	refused, resets := 0, 0
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				if len(failures) < 20 {
					failures = append(failures, fmt.Sprintf("client %d: "+format, append([]any{c}, args...)...))
				}
			}
			for j := range requests {
				switch {
				case j == 0:
					// Every client starts with a streamed reply, half of
					// them with the whole table.
					cmd, want := `sql bench format = json:output and stat = false "select * from ping_sensor limit 20000"`, 20_000
					if c%2 == 0 {
						cmd, want = `sql bench format = json:output and stat = false "select * from ping_sensor"`, rows
					}
					o := do(cmd, true)
					if o.err != nil || o.status != 200 || o.lines != want {
						fail("stream: %d, %d lines, %v", o.status, o.lines, o.err)
					}
				case j%50 == 1:
					// A 1 MB command header is refused before it is read:
					// 431, or the connection closed under the rest of it.
					o := do(huge, false)
					mu.Lock()
					switch {
					case o.err != nil:
						resets++
					case o.status == http.StatusRequestHeaderFieldsTooLarge:
						refused++
					default:
						failures = append(failures, fmt.Sprintf("client %d: 1 MB header: %d %.100s", c, o.status, o.body))
					}
					mu.Unlock()
				default:
					k := kinds[(c+j)%len(kinds)]
					if err := k.check(do(k.cmd, false)); err != nil {
						fail("%s: %v", k.name, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(failures) > 0 {
		t.Fatalf("%d+ failures, e.g.:\n%s\n%s", len(failures), strings.Join(failures, "\n"), n.logTail())
	}
	if refused == 0 {
		t.Fatalf("no 1 MB header was answered 431 (%d connections closed)", resets)
	}
	// The node still answers, correctly.
	if body := n.mustExec(`sql bench format = json and stat = false "select count(*) from ping_sensor"`); !strings.Contains(body, fmt.Sprintf(`"count(*)": %d`, rows)) {
		t.Fatalf("count after the load: %s", body)
	}
	hwm := peakRSS(n.cmd.Process.Pid)
	t.Logf("%d clients x %d requests in %v (node CPU %v); 1 MB headers: %d answered 431, %d closed; get error log %d bytes; node peak RSS %d MiB",
		clients, requests, elapsed.Round(time.Millisecond), cpuTime(n.cmd.Process.Pid), refused, resets, len(n.mustExec("get error log")), hwm>>20)
	if hwm <= 0 || hwm > 300<<20 {
		t.Fatalf("node peak RSS %d MiB, want under 300 MiB", hwm>>20)
	}
	n.stop()
}

// TestCLIStreamAndCap: -c prints a json:output reply (streamed) whatever
// its size, and refuses a table reply over --max-result-rows with the way
// to raise it.
func TestCLIStreamAndCap(t *testing.T) {
	dir := t.TempDir()
	writeRows(t, dir, 5000, 0, 5000, time.Now())
	out, errOut, code := runCLI(t, "", "--data-dir", dir, "--max-result-rows", "100",
		"-c", `sql bench format = json:output and stat = false "select device_name, value, from ping_sensor"`,
		"-c", `sql bench format = table "select * from ping_sensor"`)
	if code != 1 || strings.Count(out, "\n") != 5000 || !strings.HasPrefix(out, `{"device_name": "device-0", "value": 0}`) {
		t.Fatalf("exit %d, %d lines of output:\n%.300s\nstderr:\n%s", code, strings.Count(out, "\n"), out, errOut)
	}
	if !strings.Contains(errOut, "comma before FROM") || !strings.Contains(errOut, "more than 100 rows") || !strings.Contains(errOut, "--max-result-rows N") {
		t.Fatalf("stderr:\n%s", errOut)
	}
}
