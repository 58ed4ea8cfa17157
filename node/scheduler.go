package node

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
)

// A scheduler runs its tasks' commands every interval (EdgeLake's `run
// scheduler` and `schedule`). In a task's command TIME(PREVIOUS) and
// TIME(CURRENT) become the previous and the current run time, so that
// `timestamp >= TIME(PREVIOUS) and timestamp < TIME(CURRENT)` selects each
// window once; rows that arrive late for a window are missed, as in
// EdgeLake. Each task is its own periodic job (an actor under the tree's
// jobs supervisor), so a slow task never delays the others.
type scheduler struct {
	id int

	mu      sync.Mutex
	tasks   map[string]*task
	nextJob int  // numbers the tasks' job names
	exited  bool // exit scheduler took it: no task is added
}

type task struct {
	pid *actor.PID // its periodic job
	// ticking is held while the job runs the task: stopping the task
	// takes it once the job stopped, so the task never runs after that.
	ticking chan struct{}

	name     string
	every    time.Duration
	command  string
	next     time.Time
	previous time.Time
	runs     int64
	last     string // result of the last run
	stopped  bool
}

const timeLiteral = "2006-01-02 15:04:05.000000"

func expandWindow(cmd string, prev, cur time.Time) string {
	cmd = replaceFold(cmd, "TIME(PREVIOUS)", "'"+prev.UTC().Format(timeLiteral)+"'")
	return replaceFold(cmd, "TIME(CURRENT)", "'"+cur.UTC().Format(timeLiteral)+"'")
}

func replaceFold(s, old, repl string) string {
	low, lold := strings.ToLower(s), strings.ToLower(old)
	var b strings.Builder
	for {
		i := strings.Index(low, lold)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, low = s[i+len(old):], low[i+len(old):]
	}
}

func (n *Node) runScheduler(id int) Result {
	n.schedulersMu.Lock()
	defer n.schedulersMu.Unlock()
	if n.schedulers == nil {
		n.schedulers = map[int]*scheduler{}
	}
	if _, ok := n.schedulers[id]; ok {
		return notice(fmt.Sprintf("scheduler %d is already running", id))
	}
	n.schedulers[id] = &scheduler{id: id, tasks: map[string]*task{}}
	return text(fmt.Sprintf("scheduler %d running", id))
}

// startTask starts t's periodic job, which looks every 200 ms whether t is
// due and runs it then. Called with s.mu held.
func (n *Node) startTask(s *scheduler, t *task) error {
	s.nextJob++
	t.ticking = make(chan struct{}, 1)
	pid, err := n.tree.StartPeriodic(actors.PeriodicSpec{Name: fmt.Sprintf("scheduler-%d-task-%d", s.id, s.nextJob), Every: 200 * time.Millisecond,
		Tick: func(ctx context.Context, now time.Time) {
			t.ticking <- struct{}{}
			defer func() { <-t.ticking }()
			s.mu.Lock()
			due := !t.stopped && !now.Before(t.next)
			s.mu.Unlock()
			if due && ctx.Err() == nil {
				n.runTask(ctx, s, t, now)
			}
		}})
	if err != nil {
		return err
	}
	t.pid = pid
	return nil
}

// stopTask stops t's job; a run under way ends before it returns, and none
// starts after.
func (n *Node) stopTask(t *task) {
	if t.pid == nil {
		return
	}
	n.tree.StopJob(t.pid)
	t.ticking <- struct{}{}
	<-t.ticking
}

func (n *Node) runTask(ctx context.Context, s *scheduler, t *task, now time.Time) {
	s.mu.Lock()
	prev := t.previous
	if prev.IsZero() {
		prev = now.Add(-t.every)
	}
	cmd := expandWindow(t.command, prev, now)
	s.mu.Unlock()
	res := n.Execute(ctx, cmd, ExecOptions{Job: t.name})
	last := "ok"
	if res.Err != nil {
		last = "error: " + res.Err.Error()
		n.event("scheduler", fmt.Sprintf("scheduler %d, task %q: %v", s.id, t.name, res.Err))
	} else if txt := strings.TrimSpace(res.Text); txt != "" {
		last = txt
	}
	if len(last) > 120 {
		last = last[:117] + "..."
	}
	s.mu.Lock()
	t.previous, t.runs, t.last = now, t.runs+1, last
	t.next = now.Add(t.every)
	s.mu.Unlock()
}

func (n *Node) scheduler(id int) (*scheduler, bool) {
	n.schedulersMu.Lock()
	defer n.schedulersMu.Unlock()
	s, ok := n.schedulers[id]
	return s, ok
}

func (n *Node) schedule(r *command.Schedule) Result {
	if _, err := command.Parse(r.Task, nil); err != nil {
		return failf("schedule %q: the task does not parse: %v", r.Name, err)
	}
	s, ok := n.scheduler(r.Scheduler)
	if !ok {
		return failf("schedule %q: scheduler %d is not running: run `run scheduler %d` first", r.Name, r.Scheduler, r.Scheduler)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited {
		return failf("schedule %q: scheduler %d is not running: run `run scheduler %d` first", r.Name, r.Scheduler, r.Scheduler)
	}
	if _, dup := s.tasks[r.Name]; dup {
		return failf("schedule: a task named %q already exists in scheduler %d", r.Name, r.Scheduler)
	}
	now := time.Now()
	next := now.Add(r.Every)
	if r.Start != "" {
		start, err := command.ParseStart(r.Start, now)
		if err != nil {
			return fail(err)
		}
		next = command.FirstRun(start, r.Every, now)
	}
	t := &task{name: r.Name, every: r.Every, command: r.Task, next: next}
	if err := n.startTask(s, t); err != nil {
		return internal(err)
	}
	s.tasks[r.Name] = t
	return text(fmt.Sprintf("task %q scheduled every %v in scheduler %d, first run at %s", r.Name, r.Every, r.Scheduler, next.UTC().Format(time.DateTime)))
}

func (n *Node) taskControl(ctx context.Context, r *command.TaskControl) Result {
	s, ok := n.scheduler(r.Scheduler)
	if !ok {
		return failf("task %s: scheduler %d is not running", r.Op, r.Scheduler)
	}
	s.mu.Lock()
	t, ok := s.tasks[r.Name]
	if !ok {
		s.mu.Unlock()
		return failf("task %s: no task named %q in scheduler %d", r.Op, r.Name, r.Scheduler)
	}
	switch r.Op {
	case "stop":
		t.stopped = true
	case "resume":
		t.stopped = false
		t.next = time.Now().Add(t.every)
	case "remove":
		delete(s.tasks, r.Name)
		s.mu.Unlock()
		n.stopTask(t)
		return text(fmt.Sprintf("task %q: %s", r.Name, r.Op))
	case "init":
		start, err := command.ParseStart(r.Start, time.Now())
		if err != nil {
			s.mu.Unlock()
			return fail(err)
		}
		t.next = start
		s.mu.Unlock()
		return text(fmt.Sprintf("task %q: next run at %s", r.Name, start.UTC().Format(time.DateTime)))
	case "run":
		s.mu.Unlock()
		n.runTask(ctx, s, t, time.Now())
		return text(fmt.Sprintf("task %q ran: %s", r.Name, t.last))
	}
	s.mu.Unlock()
	return text(fmt.Sprintf("task %q: %s", r.Name, r.Op))
}

func (n *Node) exitScheduler(id int) Result {
	n.schedulersMu.Lock()
	var stop []*scheduler
	for sid, s := range n.schedulers {
		if id == 0 || sid == id {
			stop = append(stop, s)
			delete(n.schedulers, sid)
		}
	}
	n.schedulersMu.Unlock()
	if len(stop) == 0 {
		if id == 0 {
			return notice("exit scheduler: no scheduler is running")
		}
		return failf("exit scheduler: scheduler %d is not running", id)
	}
	for _, s := range stop {
		s.mu.Lock()
		s.exited = true
		tasks := make([]*task, 0, len(s.tasks))
		for _, t := range s.tasks {
			tasks = append(tasks, t)
		}
		s.mu.Unlock()
		// A run under way ends before this returns; none starts later.
		for _, t := range tasks {
			n.stopTask(t)
		}
	}
	return text(fmt.Sprintf("schedulers stopped: %d", len(stop)))
}

func (n *Node) getScheduler(g *command.Get, opts ExecOptions) Result {
	n.schedulersMu.Lock()
	var ss []*scheduler
	for id, s := range n.schedulers {
		if g.Topic == "" || g.Topic == strconv.Itoa(id) {
			ss = append(ss, s)
		}
	}
	n.schedulersMu.Unlock()
	slices.SortFunc(ss, func(a, b *scheduler) int { return a.id - b.id })
	tbl := output.Table{Header: [][]string{{"Scheduler", "Task", "Every", "Next run", "Runs", "Status", "Last result", "Command"}}}
	var objs []*output.Object
	for _, s := range ss {
		s.mu.Lock()
		names := make([]string, 0, len(s.tasks))
		for name := range s.tasks {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			t := s.tasks[name]
			status := "active"
			if t.stopped {
				status = "stopped"
			}
			tbl.Rows = append(tbl.Rows, []string{strconv.Itoa(s.id), t.name, t.every.String(), clock(t.next), strconv.FormatInt(t.runs, 10), status, t.last, command.Redact(t.command)})
			objs = append(objs, (&output.Object{}).Set("scheduler", s.id).Set("task", t.name).Set("every", t.every.String()).Set("next", t.next).
				Set("runs", t.runs).Set("status", status).Set("last", t.last).Set("command", command.Redact(t.command)))
		}
		s.mu.Unlock()
	}
	if len(ss) == 0 && !g.JSON {
		return text("No scheduler is running")
	}
	return n.render(g, opts, tbl, objs)
}
