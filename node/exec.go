package node

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/mapping"
	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/tables/schema"
)

// ExecOptions says where a command's result goes.
type ExecOptions struct {
	Terminal bool // stdout is a terminal: pretty JSON
	REST     bool // the REST port: compact JSON
	// Job is the scheduler task running the command; it names the job of
	// a since = last export (default: DBMS.TABLE:TOPIC).
	Job string
	// Stream, when set, takes a json:output reply to stdout as its rows
	// are produced (see stream.go): called once before the first byte with
	// the notices known then, it returns where the rows go.
	Stream func(notices []string) io.Writer
}

// Result is a command's outcome.
type Result struct {
	Text     string   // the reply as the shell prints it
	JSON     bool     // Text is JSON
	CSV      bool     // Text is CSV (format = csv)
	Notices  []string // lines for stderr (or X-Lakenode-Notice)
	Err      error    // the command failed
	Internal bool     // Err is a fault of the node, not of the command
	// Streamed: the reply went to ExecOptions.Stream (Text is empty); an
	// Err came after the rows.
	Streamed bool
}

// ErrorText renders Err for a user: a command error with a caret under its
// position where it has one.
func (r Result) ErrorText() string {
	if r.Err == nil {
		return ""
	}
	var c interface{ Caret() string }
	if errors.As(r.Err, &c) {
		if caret := c.Caret(); caret != "" {
			return clipText(r.Err.Error(), maxErrorText) + "\n" + clipCaret(caret, caretContext)
		}
	}
	return r.Err.Error()
}

// caretContext is how many characters of a command an error shows on each
// side of its caret: a 1 MB command is not echoed whole.
const caretContext = 200

// clipCaret shortens a caret display — a line, then a line of blanks ending
// in ^ under a place in it — to width characters either side of the caret.
func clipCaret(caret string, width int) string {
	line, mark, ok := strings.Cut(caret, "\n")
	if !ok || len(line) <= 2*width {
		return caret
	}
	lr, mr := []rune(line), []rune(mark)
	at := len(mr) - 1 // the caret's column
	from, to := max(0, at-width), min(len(lr), at+width)
	if from >= to {
		return clipText(line, 2*width)
	}
	var b strings.Builder
	pad := mr[from:at]
	if from > 0 {
		b.WriteString("…")
		pad = append([]rune{' '}, pad...)
	}
	b.WriteString(string(lr[from:to]))
	if to < len(lr) {
		b.WriteString("…")
	}
	b.WriteByte('\n')
	b.WriteString(string(pad))
	b.WriteByte('^')
	return b.String()
}

func fail(err error) Result           { return Result{Err: err} }
func internal(err error) Result       { return Result{Err: err, Internal: true} }
func text(s string) Result            { return Result{Text: s} }
func jsonText(s string) Result        { return Result{Text: s, JSON: true} }
func notice(msg string) Result        { return Result{Notices: []string{msg}} }
func failf(f string, a ...any) Result { return fail(fmt.Errorf(f, a...)) }

// Execute runs one command line through the node's command actor, and
// returns its Result once it is done (a json:output reply streams to
// opts.Stream meanwhile). The command stops early when ctx ends.
func (n *Node) Execute(ctx context.Context, line string, opts ExecOptions) Result {
	reply := make(chan Result, 1)
	n.sys.Root.Send(n.commands, &execRequest{ctx: ctx, line: line, opts: opts, reply: reply})
	select {
	case res := <-reply:
		return res
	case <-n.down:
		// A command the stop ended (a query it canceled) answers
		// moments later; one still running after stopGrace is cut off.
		select {
		case res := <-reply:
			return res
		case <-time.After(stopGrace):
			return internal(errors.New("the node stopped before the command ended"))
		}
	}
}

// stopGrace is how long Execute waits, once the node is down, for the
// answer of a command the stop ended.
const stopGrace = time.Second

// execute runs one command line: the work of a command actor's worker.
func (n *Node) execute(ctx context.Context, line string, opts ExecOptions) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			res = internal(fmt.Errorf("internal error running %q: %v", clipText(command.Redact(line), caretContext), r))
			n.event("internal", res.Err.Error())
		}
	}()
	n.varsMu.Lock()
	vars := maps.Clone(n.vars)
	n.varsMu.Unlock()
	req, err := command.Parse(line, vars)
	if err != nil {
		n.errLog.add("command", command.Redact(err.Error()))
		return fail(err)
	}
	if req == nil {
		return Result{}
	}
	n.remoteRuns.commands.Add(1)
	defer n.remoteRuns.commands.Add(-1)
	start := time.Now()
	res = n.dispatch(ctx, req, opts)
	if res.Err != nil && !res.Internal {
		n.errLog.add("command", command.Redact(res.Err.Error()))
	}
	if ctx.Err() != nil {
		why := context.Cause(ctx)
		if opts.REST && why == context.Canceled {
			why = errors.New("its REST client went away")
		}
		n.log.Info("command canceled", "command", clip(line, 200), "why", why, "after", time.Since(start).Round(time.Millisecond), "err", res.Err)
	}
	return res
}

// consumerInstanceID is the static group member id of a consumer: the node
// name and a hash of its topic list, stable across restarts, distinct for
// two consumers of one node.
func consumerInstanceID(node string, s *spec.ConsumerSpec) string {
	h := fnv.New32a()
	for _, t := range s.Topics {
		h.Write([]byte(t.Name))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%s-%08x", node, h.Sum32())
}

func (n *Node) runConsumer(ctx context.Context, s spec.ConsumerSpec) Result {
	if s.Reset == "" {
		s.Reset = "latest"
	}
	if s.Threads <= 0 {
		s.Threads = 3
	}
	mappings := make(map[string]*mapping.Mapping, len(s.Topics))
	for _, t := range s.Topics {
		m, err := mapping.Compile(t)
		if err != nil {
			return failf("topic %s: %w", t.Name, err)
		}
		mappings[t.Name] = m
		// Literal tables: a clash of column types is an error for this
		// command, and nothing is created.
		if t.DBMS.Kind == spec.ExprLiteral && t.Table.Kind == spec.ExprLiteral {
			if err := n.store.PlanColumns(schema.NormalizeName(t.DBMS.Literal), schema.NormalizeName(t.Table.Literal), m.Columns()); err != nil {
				return fail(err)
			}
		}
	}
	sec, err := n.kafkaSecurity(s.Security)
	if err != nil {
		return fail(err)
	}
	n.mu.Lock()
	for _, c := range n.consumers {
		if c.Config.Spec.Broker() != s.Broker() {
			continue
		}
		for _, t := range s.Topics {
			for _, ot := range c.Config.Spec.Topics {
				if ot.Name == t.Name {
					n.mu.Unlock()
					return failf("Error with info provided to MQTT: The Topic '%s' was subscribed by client #%d on this broker", t.Name, c.Config.ID)
				}
			}
		}
	}
	n.nextSub++
	id := n.nextSub
	n.mu.Unlock()
	group := s.Group
	if group == "" {
		group = "lakenode-" + n.cfg.Name
	}
	cfg := actors.ConsumerConfig{
		ID: id, Spec: s, Mappings: mappings, Group: group, InstanceID: consumerInstanceID(n.cfg.Name, &s), SessionTimeout: n.cfg.KafkaSessionTimeout, Kafka: sec,
		Store: n.store, Catalog: n.catalog, Logger: n.log, Events: n.event,
	}
	h, err := n.tree.StartConsumer(cfg, 10*time.Second)
	if err != nil {
		return internal(err)
	}
	n.mu.Lock()
	n.consumers = append(n.consumers, h)
	n.rememberTopics(cfg)
	n.mu.Unlock()
	res := Result{Notices: command.SecurityNotices(s.Security)}
	// EdgeLake registers and returns at once; lakenode also tells whether
	// the broker answers, and keeps retrying when it does not.
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := kafka.PingBrokers(pctx, []string{s.Broker()}, sec); err != nil {
		res.Notices = append(res.Notices, fmt.Sprintf("consumer %d: broker %s does not answer (%v); retrying in the background — see get processes", id, s.Broker(), err))
	}
	return res
}

// exitKafka stops every consumer: batches flushed, offsets stored and
// committed, the group left.
func (n *Node) exitKafka(ctx context.Context) Result {
	n.mu.Lock()
	count := len(n.consumers)
	n.mu.Unlock()
	if err := n.stopConsumers(ctx, true); err != nil {
		return fail(err)
	}
	if count == 0 {
		return notice("exit kafka: no Kafka consumer is running")
	}
	return text(fmt.Sprintf("Kafka consumers stopped: %d", count))
}

// RowCount is the number of rows of a table (0 if it does not exist).
func (n *Node) RowCount(dbms, table string) int64 {
	t, ok := n.store.Table(dbms, table)
	if !ok {
		return 0
	}
	return n.store.Stats(t).Rows
}

// CompleteNames returns the shell's tab-completion candidates for the word
// at the cursor: req is the command typed so far with the cursor marked
// (command.MarkCursor; without a mark the cursor is at the end). Names come
// from this node's tables.
func (n *Node) CompleteNames(req string) []string {
	var tabs []command.CompletionTable
	for _, t := range n.store.Tables() {
		ct := command.CompletionTable{DBMS: t.DBMS, Name: t.Name}
		for _, c := range t.Columns {
			ct.Columns = append(ct.Columns, c.Name)
		}
		tabs = append(tabs, ct)
	}
	before, after := command.SplitCursor(req)
	return command.Complete(before, after, tabs)
}

type consumerStatus struct {
	ID     int
	Spec   spec.ConsumerSpec
	Group  string // the consumer group, as resolved
	Status actors.ConsumerStatus
}

// consumerHandles copies the running consumers' handles (mu's).
func (n *Node) consumerHandles() []*actors.ConsumerHandle {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*actors.ConsumerHandle(nil), n.consumers...)
}

func (n *Node) consumerStatuses() []consumerStatus {
	cs := n.consumerHandles()
	out := make([]consumerStatus, 0, len(cs))
	for _, c := range cs {
		out = append(out, consumerStatus{ID: c.Config.ID, Spec: c.Config.Spec, Group: c.Config.Group, Status: c.Status()})
	}
	return out
}

// ConsumersReady reports whether every consumer owns partitions whose start
// positions are known (so reset = latest will see what is produced next).
func (n *Node) ConsumersReady() bool {
	cs := n.consumerStatuses()
	if len(cs) == 0 {
		return false
	}
	for _, c := range cs {
		if len(c.Status.Partitions) == 0 {
			return false
		}
		for _, p := range c.Status.Partitions {
			if p.LowWater < 0 {
				return false
			}
		}
	}
	return true
}

// clip shortens s to about limit bytes for a log line.
func clip(s string, limit int) string { return actors.ClipText(s, limit) }
