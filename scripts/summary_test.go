package scripts

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestSummary runs test-summary.sh on sample `go test -v` transcripts:
// it passes the transcript through unchanged, counts each test and subtest
// once (a failed subtest does not count its parent again, a transcript
// quoted in a test's log is not counted), counts a package failing without
// a failed test as one failure, names skipped and failed tests, and exits 0
// only when some test passed and none failed.
func TestTestSummary(t *testing.T) {
	for _, c := range []struct {
		file  string
		ok    bool
		lines []string // the summary lines after the transcript
	}{
		{"pass.txt", true, []string{"x: skipped TestB/slow", "x: 6 passed, 0 failed, 1 skipped"}},
		{"fail.txt", false, []string{"x: failed TestE/bad", "x: failed TestF", "x: 2 passed, 2 failed, 0 skipped"}},
		{"timeout.txt", false, []string{"x: failed a package, without a failed test (a panic, a timeout or a build error: see above)", "x: 1 passed, 1 failed, 0 skipped"}},
		{"build.txt", false, []string{"x: failed a package, without a failed test (a panic, a timeout or a build error: see above)", "x: 0 passed, 1 failed, 0 skipped"}},
		{"none.txt", false, []string{"x: 0 passed, 0 failed, 0 skipped"}},
	} {
		t.Run(strings.TrimSuffix(c.file, ".txt"), func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "summary", c.file))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", "test-summary.sh", "x")
			cmd.Stdin = bytes.NewReader(in)
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err = cmd.Run()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("running the script: %v", err)
			}
			if (err == nil) != c.ok {
				t.Errorf("exit: %v, want success %v", err, c.ok)
			}
			if errOut.Len() > 0 {
				t.Errorf("stderr: %q", errOut.String())
			}
			got, found := strings.CutPrefix(out.String(), string(in))
			if !found {
				t.Fatalf("the transcript was not passed through unchanged:\n%s", out.String())
			}
			if want := strings.Join(c.lines, "\n") + "\n"; got != want {
				t.Errorf("summary:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
