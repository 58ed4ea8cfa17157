package node

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestExpandWindow(t *testing.T) {
	prev := time.Date(2026, 11, 25, 11, 55, 0, 0, time.UTC)
	cur := prev.Add(5 * time.Minute)
	got := expandWindow(`sql d "select count(*) from t where timestamp >= TIME(PREVIOUS) and timestamp < time(current)"`, prev, cur)
	want := `sql d "select count(*) from t where timestamp >= '2026-11-25 11:55:00.000000' and timestamp < '2026-11-25 12:00:00.000000'"`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// mustRun runs a command and fails the test when it fails.
func mustRun(t *testing.T, n *Node, cmd string) string {
	t.Helper()
	res := n.Execute(context.Background(), cmd, ExecOptions{})
	if res.Err != nil {
		t.Fatalf("%s: %v", cmd, res.Err)
	}
	return res.Text
}

// TestScheduleStart checks start = now() (runs at once), a start in the
// future (waits) and task init (moves the next run).
func TestScheduleStart(t *testing.T) {
	n := startNode(t)
	run := func(cmd string) string { t.Helper(); return mustRun(t, n, cmd) }
	run("run scheduler 1")
	run(`schedule time = 1 hour and start = now() and name = "now" task get version`)
	out := run(`schedule time = 1 hour and start = +1d and name = "later" task get version`)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	if !strings.Contains(out, "first run at "+tomorrow) {
		t.Fatalf("schedule with start = +1d: %s", out)
	}
	runs := func(name string) int64 {
		s, _ := n.scheduler(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.tasks[name].runs
	}
	waitRuns := func(name string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for runs(name) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("task %q did not run", name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitRuns("now")
	if runs("later") != 0 {
		t.Fatal("a task starting tomorrow ran")
	}
	run(`task init where name = "later" and start = now()`)
	waitRuns("later")
	if res := n.Execute(context.Background(), `task init where name = "nope" and start = now()`, ExecOptions{}); res.Err == nil {
		t.Fatal("task init of a missing task succeeded")
	}
}

// Each task is its own job in the tree: tasks have their own actors,
// removing a task stops its actor, and exit scheduler stops the rest.
func TestEachTaskIsAJob(t *testing.T) {
	n := startNode(t)
	run := func(cmd string) string { t.Helper(); return mustRun(t, n, cmd) }
	run("run scheduler 2")
	run(`schedule time = 1 second and start = now() and scheduler = 2 and name = "a" task get version`)
	run(`schedule time = 1 second and start = now() and scheduler = 2 and name = "b" task get processes`)
	s, _ := n.scheduler(2)
	lookup := func(name string) *task {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.tasks[name]
	}
	a, b := lookup("a"), lookup("b")
	if a.pid == nil || b.pid == nil || a.pid.Equal(b.pid) {
		t.Fatalf("tasks share a job or have none: %v %v", a.pid, b.pid)
	}
	alive := func(tk *task) bool {
		_, ok := n.sys.ProcessRegistry.GetLocal(tk.pid.Id)
		return ok
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		ran := a.runs > 0 && b.runs > 0
		s.mu.Unlock()
		if ran {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tasks did not both run")
		}
		time.Sleep(20 * time.Millisecond)
	}
	run(`task remove where scheduler = 2 and name = "a"`)
	if alive(a) || !alive(b) {
		t.Fatalf("after removing a: a's job alive %v, b's job alive %v", alive(a), alive(b))
	}
	run("exit scheduler 2")
	if alive(b) {
		t.Fatal("b's job outlived exit scheduler")
	}
	if res := n.Execute(context.Background(), `schedule time = 1 second and scheduler = 2 and name = "c" task get version`, ExecOptions{}); res.Err == nil {
		t.Fatal("a task was scheduled in an exited scheduler")
	}
}
