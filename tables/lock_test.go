package tables_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/lakenode/lakenode/tables"
)

// holdDirEnv makes the test binary a helper process that holds a store open
// (see TestMain) instead of running the tests.
const holdDirEnv = "LAKENODE_TABLES_TEST_HOLD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdDirEnv); dir != "" {
		os.Exit(holdDir(dir))
	}
	os.Exit(m.Run())
}

// holdDir opens the store in dir, says "ready" and keeps it open until its
// stdin closes.
func holdDir(dir string) int {
	s, err := tables.Open(dir, tables.WithCacheSize(1<<20))
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := s.Close(); err != nil {
		fmt.Println("close:", err)
		return 1
	}
	return 0
}

func TestOpenRefusesDirHeldByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdDirEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("helper process: %q %v", line, err)
	}

	_, err = tables.Open(dir)
	if err == nil {
		t.Fatal("opened a dir another process holds")
	}
	if !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("unclear error: %v", err)
	}

	// Once the other process has gone, the dir opens.
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v", err)
	}
	s, err := tables.Open(dir)
	if err != nil {
		t.Fatalf("open after the holder exited: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
