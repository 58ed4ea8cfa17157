package actors

import (
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Supervision defaults: a supervised child that fails is restarted (a fresh
// instance, from its durable state); one that fails more than maxFailures
// times within failureWindow is stopped for good and shown as stopped.
const (
	maxFailures   = 5
	failureWindow = time.Minute
)

// FailureStatus is what `get processes` and `get msg client` show of a
// supervised actor's failures.
type FailureStatus struct {
	Restarts  int       // restarts after a failure (a panic in its Receive)
	LastError string    // the last failure, "" when none
	LastAt    time.Time // when it happened
	Stopped   bool      // stopped for good after repeated failures
}

// failureLog records the failures of supervised actors, by PID id. Written
// by supervisors (in their own goroutines), read by status commands.
type failureLog struct {
	mu   sync.Mutex
	byID map[string]*FailureStatus
	// notify, when set, receives one line per failure (the error log); it
	// must not block.
	notify func(kind, text string)
}

func newFailureLog(notify func(kind, text string)) *failureLog {
	return &failureLog{byID: make(map[string]*FailureStatus), notify: notify}
}

// record notes a failure of actor id: restarted, or stopped (what says
// why, for the error log).
func (l *failureLog) record(id string, reason any, stopped bool, what string) {
	text := fmt.Sprint(reason)
	if err, ok := reason.(error); ok {
		text = err.Error()
	}
	l.mu.Lock()
	s := l.byID[id]
	if s == nil {
		s = &FailureStatus{}
		l.byID[id] = s
	}
	if !stopped {
		s.Restarts++
	}
	s.LastError, s.LastAt, s.Stopped = text, time.Now(), stopped
	l.mu.Unlock()
	if l.notify != nil {
		l.notify("actor", fmt.Sprintf("%s failed (%s); %s", id, text, what))
	}
}

// get returns the failures of the actor with PID id.
func (l *failureLog) get(id string) FailureStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.byID[id]; s != nil {
		return *s
	}
	return FailureStatus{}
}

// forget drops the record of an actor that stopped on request.
func (l *failureLog) forget(id string) {
	l.mu.Lock()
	delete(l.byID, id)
	l.mu.Unlock()
}

// restartStrategy is one-for-one: a failed child is restarted (its Props
// producer makes a fresh instance), and one that fails more than max times
// within window is stopped. Every decision is recorded in the log and
// published on the event stream like protoactor's own strategies do.
type restartStrategy struct {
	max    int
	window time.Duration
	log    *failureLog
}

func newRestartStrategy(log *failureLog) *restartStrategy {
	return &restartStrategy{max: maxFailures, window: failureWindow, log: log}
}

func (s *restartStrategy) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, _ any) {
	rs.Fail()
	stop := rs.NumberOfFailures(s.window) > s.max
	what := "restarted"
	if stop {
		what = fmt.Sprintf("stopped after more than %d failures in %v", s.max, s.window)
	}
	s.log.record(child.Id, reason, stop, what)
	directive := actor.RestartDirective
	if stop {
		rs.Reset()
		directive = actor.StopDirective
	}
	sys.EventStream.Publish(&actor.SupervisorEvent{Child: child, Reason: reason, Directive: directive})
	if stop {
		sup.StopChildren(child)
		return
	}
	sup.RestartChildren(child)
}

// stopStrategy stops a failed child and records why: for children whose
// parent rebuilds them from durable state itself (a consumer's partition
// actors) or that must never be retried behind their asker's back (an
// export reports its failure instead).
type stopStrategy struct {
	log  *failureLog
	what string // what follows, for the error log
}

func (s *stopStrategy) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, _ any) {
	s.log.record(child.Id, reason, true, s.what)
	sys.EventStream.Publish(&actor.SupervisorEvent{Child: child, Reason: reason, Directive: actor.StopDirective})
	sup.StopChildren(child)
}
