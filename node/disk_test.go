package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// A node whose disk is below --min-free says so in get processes, get msg
// client's JSON and /metrics, and answers queries.
func TestDiskFullStatus(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.MinFree = 1 << 62 // more than any disk has
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Store().EnsureTable("d", "t", []schema.Column{{Name: "v", Type: schema.TypeInt}}); err != nil {
		t.Fatal(err)
	}
	res := n.Execute(context.Background(), "get processes", ExecOptions{})
	if res.Err != nil || !strings.Contains(res.Text, "Paused") || !strings.Contains(res.Text, "disk full (") || !strings.Contains(res.Text, "--min-free 4398046511104 MiB)") {
		t.Fatalf("get processes on a full disk:\n%s %v", res.Text, res.Err)
	}
	res = n.Execute(context.Background(), `sql d "select count(*) from t"`, ExecOptions{})
	if res.Err != nil || !strings.Contains(res.Text, "0") {
		t.Fatalf("a query on a full disk: %q %v", res.Text, res.Err)
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{"lakenode_ingest_paused_disk_full 1", "lakenode_disk_min_free_bytes 4.611686018427388e+18", "lakenode_disk_free_bytes ",
		// The store's stall figures are there too, at zero on an idle store.
		"lakenode_store_write_stalls_total 0", "lakenode_store_write_stall_seconds_total 0", "lakenode_store_l0_sublevels ", "lakenode_store_compaction_debt_bytes "} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("/metrics lacks %q", want)
		}
	}
}

// WaitForSpace returns at once with room, and waits with the status until
// its context ends without.
func TestWaitForSpace(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir() + "/not/made/yet"
	cfg.MinFree = 1 << 20
	if err := WaitForSpace(context.Background(), cfg, func(l string) { t.Errorf("status with room: %s", l) }); err != nil {
		t.Fatal(err)
	}
	cfg.MinFree = 1 << 62
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	var lines []string
	err := WaitForSpace(ctx, cfg, func(l string) { lines = append(lines, l) })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for disk space") {
		t.Fatalf("WaitForSpace on a full disk: %v", err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "disk full (") || !strings.Contains(lines[0], "SIGTERM") {
		t.Fatalf("status lines %q, want one saying disk full", lines)
	}
}

func TestOnlyDiskFull(t *testing.T) {
	full := &tables.DiskFullError{Dir: "d", Free: 1, Min: 2}
	other := errors.New("closed")
	for _, c := range []struct {
		err  error
		want bool
	}{
		{full, true},
		{fmt.Errorf("flushing d.t: %w", full), true},
		{errors.Join(fmt.Errorf("flushing d.a: %w", full), fmt.Errorf("flushing d.b: %w", full)), true},
		{errors.Join(fmt.Errorf("flushing d.a: %w", full), other), false},
		{other, false},
	} {
		if got := onlyDiskFull(c.err); got != c.want {
			t.Errorf("onlyDiskFull(%v) = %v", c.err, got)
		}
	}
}
