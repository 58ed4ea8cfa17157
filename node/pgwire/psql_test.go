package pgwire

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.golden with what the tests get")

// TestPsql runs testdata/psql.sql with Debian's psql (a prerequisite of
// `make test`) against a server and compares its output with
// testdata/psql.golden (-rewrite to accept a change).
func TestPsql(t *testing.T) {
	bin, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql is not installed: it is a prerequisite of the tests (Debian: apt-get install postgresql-client)")
	}
	addr := startServer(t, Config{})
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(bin, "-X", "-P", "pager=off", "-h", host, "-p", port, "-d", "lsl_demo", "-U", "tester", "-f", filepath.Join("testdata", "psql.sql"))
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable", "LC_ALL=C.UTF-8", "PGTZ=")
	out, _ := cmd.CombinedOutput()
	golden := filepath.Join("testdata", "psql.golden")
	if *rewrite {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(want) {
		t.Errorf("psql's output differs from %s (go test -run TestPsql -rewrite to accept):\n--- got\n%s\n--- want\n%s", golden, out, want)
	}
}
