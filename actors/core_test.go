package actors

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/mapping"
	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

func bringKey(k string) spec.Expr {
	return spec.Expr{Kind: spec.ExprBring, Text: "bring [" + k + "]", Parts: []spec.BringPart{{Paths: [][]spec.PathStep{{{Key: k}}}}}}
}

// newTestCore returns a partition core whose mapping routes each message to
// the table named in its "t" field, with an int column v.
func newTestCore(t *testing.T, policy spec.ErrorPolicy) *partitionCore {
	t.Helper()
	m, err := mapping.Compile(spec.TopicSpec{Name: "topic", DBMS: spec.Expr{Kind: spec.ExprLiteral, Literal: "d"}, Table: bringKey("t"),
		Columns: []spec.ColumnSpec{{Name: "v", Type: schema.TypeInt, Value: bringKey("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	c := newPartitionCore(kafka.TopicPartition{Topic: "topic", Partition: 2}, 7, 99)
	c.ev, c.policy, c.stats, c.consumerID = m.NewEvaluator(), policy, newPartitionStats("topic", 2), "1"
	targets := map[string]*tableTarget{}
	target := func(key string, n int) *tableTarget {
		if targets[key] == nil {
			targets[key] = &tableTarget{key: key, table: &schema.Table{Name: key}, perm: []int{0}, nUser: n}
		}
		return targets[key]
	}
	c.resolve = func(dbms, table string) (*tableTarget, error) {
		if table == "clash" {
			return nil, errors.New("column v of table d.clash is str, not int")
		}
		return target(dbms+"."+table, 1), nil
	}
	c.errTarget = func() (*tableTarget, error) { return target("lakenode.kafka_errors", 7), nil }
	c.now = func() time.Time { return time.Unix(1000, 0) }
	return c
}

func recs(from int64, msgs ...string) []kafka.Record {
	out := make([]kafka.Record, len(msgs))
	for i, m := range msgs {
		out[i] = kafka.Record{Topic: "topic", Partition: 2, Offset: from + int64(i), Value: []byte(m), Timestamp: time.Unix(999, 0)}
	}
	return out
}

func ack(b builtBatch) *BatchAck {
	return &BatchAck{Batch: b.batch, Result: tables.ApplyResult{CommitTime: time.Unix(1000, 0)}}
}

func TestPartitionLowWaterWaitsForEveryTable(t *testing.T) {
	c := newTestCore(t, spec.ErrorPolicy{})
	c.startAt(10)
	out, _ := c.process(recs(10, `{"t":"a","v":1}`, `{"t":"b","v":2}`, `{"t":"a","v":3}`))
	if len(out) != 2 || c.lwm != 10 {
		t.Fatalf("batches %d lwm %d", len(out), c.lwm)
	}
	for _, b := range out {
		if b.batch.Feed.Next != 13 || b.batch.Seq != 0 || b.batch.Session != 99 || b.batch.Feed.Src != 7 {
			t.Fatalf("batch %+v", b.batch)
		}
	}
	if n := len(out[0].batch.Feed.Records); n != 2 {
		t.Fatalf("table a got %d records", n)
	}
	out2, _ := c.process(recs(13, `{"t":"b","v":4}`))
	if out2[0].batch.Seq != 1 {
		t.Fatalf("second batch to b has seq %d", out2[0].batch.Seq)
	}
	// b's second batch is acked first: nothing moves until chunk 1 is done.
	if moved, _ := c.ack(ack(out2[0])); moved {
		t.Fatal("moved past an unacknowledged chunk")
	}
	if moved, _ := c.ack(ack(out[0])); moved || c.lwm != 10 {
		t.Fatalf("moved with table b still pending: lwm %d", c.lwm)
	}
	if moved, _ := c.ack(ack(out[1])); !moved || c.lwm != 14 {
		t.Fatalf("lwm %d after all acks", c.lwm)
	}
	// A replayed record below the position is ignored.
	if out, _ := c.process(recs(12, `{"t":"a","v":9}`)); len(out) != 0 {
		t.Fatalf("replayed record mapped: %+v", out)
	}
	// A chunk that feeds no table (all skipped) moves the mark at once.
	c.policy = spec.ErrorPolicy{Kind: spec.ErrorsSkip}
	if out, _ := c.process(recs(14, `not json`)); len(out) != 0 || c.lwm != 15 {
		t.Fatalf("skip: %d batches lwm %d", len(out), c.lwm)
	}
	if _, err := c.ack(&BatchAck{Batch: out[0].batch, Err: errors.New("disk full")}); err == nil {
		t.Fatal("a failed ack is not an error")
	}
}

func TestErrorPolicies(t *testing.T) {
	msgs := []string{`{"t":"a","v":1}`, `{"t":"a","v":"x"}`, `{"t":"clash","v":1}`, `{"t":"a","v":4}`}
	t.Run("table", func(t *testing.T) {
		c := newTestCore(t, spec.ErrorPolicy{Kind: spec.ErrorsTable})
		out, dlq := c.process(recs(0, msgs...))
		if len(dlq) != 0 || len(out) != 2 {
			t.Fatalf("out %d dlq %d", len(out), len(dlq))
		}
		errs := out[1].batch.Feed.Records
		if out[1].target.key != "lakenode.kafka_errors" || len(errs) != 2 || errs[0].Offset != 1 || errs[1].Offset != 2 {
			t.Fatalf("error rows %+v", out[1])
		}
		if v := errs[0].Values; v[1].S != "topic" || v[2].I != 2 || v[3].I != 1 || v[6].S != `{"t":"a","v":"x"}` {
			t.Fatalf("error row values %+v", v)
		}
		st := c.stats.Snapshot()
		if st.Messages != 4 || st.Errors != 2 || st.ErrorsBy["type_mismatch"] != 1 || st.ErrorsBy["table_error"] != 1 || st.Rows != 2 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("dlq", func(t *testing.T) {
		c := newTestCore(t, spec.ErrorPolicy{Kind: spec.ErrorsDLQ, DLQTopic: "bad"})
		out, dlq := c.process(recs(0, msgs...))
		if len(out) != 1 || len(dlq) != 2 || dlq[0].reason != "type_mismatch" {
			t.Fatalf("out %d dlq %+v", len(out), dlq)
		}
	})
	t.Run("fail", func(t *testing.T) {
		c := newTestCore(t, spec.ErrorPolicy{Kind: spec.ErrorsFail})
		c.startAt(0)
		out, _ := c.process(recs(0, msgs...))
		if len(out) != 1 || len(out[0].batch.Feed.Records) != 1 || out[0].batch.Feed.Next != 1 {
			t.Fatalf("fail: %+v", out)
		}
		if c.failed == nil || c.failed.offset != 1 {
			t.Fatalf("failure %+v", c.failed)
		}
		if moved, _ := c.ack(ack(out[0])); !moved || c.lwm != 1 {
			t.Fatalf("lwm %d: a restart must resume at the bad message", c.lwm)
		}
		if out, _ := c.process(recs(4, `{"t":"a","v":5}`)); len(out) != 0 {
			t.Fatal("a failed partition kept mapping")
		}
	})
}

func TestTableWriterSequences(t *testing.T) {
	s := tablestest.Open(t)
	tbl, err := s.EnsureTable("d", "a", []schema.Column{{Name: "v", Type: schema.TypeInt}})
	if err != nil {
		t.Fatal(err)
	}
	w := newTableWriter(s, tbl)
	batch := func(session, seq uint64, from, to int64) *RowBatch {
		b := &RowBatch{Table: tbl, Session: session, Seq: seq, Feed: tables.Feed{Src: 1, Partition: 0, Next: to}}
		for o := from; o < to; o++ {
			b.Feed.Records = append(b.Feed.Records, tables.Record{Offset: o, Values: []schema.Value{schema.Int(o)}})
		}
		return b
	}
	now := time.Now()
	if err := w.accept(batch(5, 1, 0, 2), now); err == nil {
		t.Fatal("a new session starting at seq 1 was accepted")
	}
	for i, b := range []*RowBatch{batch(5, 0, 0, 2), batch(5, 1, 2, 4)} {
		if err := w.accept(b, now); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if !w.due(Thresholds{}, now) || w.due(Thresholds{Time: time.Second}, now) || !w.due(Thresholds{Time: time.Second}, now.Add(time.Second)) {
		t.Fatal("due() ignores the thresholds")
	}
	done, res, err := w.flush()
	if err != nil || len(done) != 2 || res.Rows != 4 {
		t.Fatalf("flush: %d batches %+v %v", len(done), res, err)
	}
	// A gap: seq 3 after 1 is refused, and the session stays refused.
	var ref *errRefused
	if err := w.accept(batch(5, 3, 6, 8), now); !errors.As(err, &ref) {
		t.Fatalf("gap: %v", err)
	}
	if err := w.accept(batch(5, 2, 4, 6), now); err == nil {
		t.Fatal("a broken session was accepted again")
	}
	// A new session (the partition restarted from its low-water mark)
	// replays from 2: only offsets 4.. are written.
	if err := w.accept(batch(6, 0, 2, 6), now); err != nil {
		t.Fatal(err)
	}
	if _, res, err := w.flush(); err != nil || res.Rows != 2 || res.Skipped != 2 {
		t.Fatalf("replay: %+v %v", res, err)
	}
	if n := len(tablestest.Dump(t, s, "d", "a")); n != 6 {
		t.Fatalf("%d rows, want 6", n)
	}
	// A failed commit breaks the sessions in it.
	if err := s.DropTable("d", "a"); err != nil {
		t.Fatal(err)
	}
	if err := w.accept(batch(6, 1, 6, 7), now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.flush(); err == nil {
		t.Fatal("commit into a dropped table succeeded")
	}
	if err := w.accept(batch(6, 2, 7, 8), now); err == nil {
		t.Fatal("session accepted after a failed commit")
	}
}

func TestLatencyPercentiles(t *testing.T) {
	s := newPartitionStats("t", 0)
	var stamps []int64
	for i := range 100 {
		stamps = append(stamps, int64(1000-i-1))
	}
	s.visible(stamps, 1000)
	c := s.Snapshot()
	if c.Samples != 100 || c.P50 != 50*time.Millisecond || c.P99 != 99*time.Millisecond {
		t.Fatalf("p50 %v p99 %v samples %d", c.P50, c.P99, c.Samples)
	}
	if fmt.Sprint(c.Lag()) != "-1" {
		t.Fatal("lag without a high watermark")
	}
}

// TestHighWatermarkFreshest: a periodic read sent before a fetch response
// arrived cannot overwrite the fetch's newer watermark, and a stored
// offset above the watermark shows as negative lag, not 0.
func TestHighWatermarkFreshest(t *testing.T) {
	s := newPartitionStats("t", 0)
	t0 := time.Now()
	s.setHighWatermark(500, t0.Add(time.Second)) // a fetch response
	s.setHighWatermark(400, t0)                  // a slower periodic read sent earlier
	s.setLowWater(500)
	if c := s.Snapshot(); c.HighWatermark != 500 || c.Lag() != 0 {
		t.Fatalf("high watermark %d, lag %d; want 500, 0", c.HighWatermark, c.Lag())
	}
	s.setHighWatermark(250, t0.Add(2*time.Second)) // the topic was re-created
	if c := s.Snapshot(); c.Lag() != -250 {
		t.Fatalf("lag %d with the stored offset above the watermark, want -250", c.Lag())
	}
}

// On a disk below --min-free a table actor keeps its batches: a flush
// answers the disk-full error and writes nothing; once there is room it
// commits them by itself and acknowledges.
func TestTableWaitsForDiskSpace(t *testing.T) {
	var free atomic.Uint64
	free.Store(1 << 10)
	s, err := tables.Open(t.TempDir(), tables.WithMinFree(1<<20), tables.WithFreeSpace(func(string) (uint64, error) { return free.Load(), nil }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tbl, err := s.EnsureTable("d", "a", []schema.Column{{Name: "v", Type: schema.TypeInt}})
	if err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	acks := make(chan *BatchAck, 4)
	collector := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if a, ok := c.Message().(*BatchAck); ok {
			acks <- a
		}
	}))
	tree := &Tree{cfg: TreeConfig{Store: s, Thresholds: func() Thresholds { return Thresholds{} }}}
	pid := sys.Root.Spawn(newTableProps(tree, tbl, &TableStats{}))
	b := &RowBatch{Table: tbl, Session: 1, Feed: tables.Feed{Src: 1, Partition: 0, Next: 2,
		Records: []tables.Record{{Offset: 0, Values: []schema.Value{schema.Int(0)}}, {Offset: 1, Values: []schema.Value{schema.Int(1)}}}}, ReplyTo: collector}
	sys.Root.Send(pid, b)
	res, err := sys.Root.RequestFuture(pid, &FlushRequest{}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	var full *tables.DiskFullError
	if d, ok := res.(*FlushDone); !ok || !errors.As(d.Err, &full) {
		t.Fatalf("flush on a full disk answered %#v", res)
	}
	if n := s.Stats(tbl).Rows; n != 0 {
		t.Fatalf("%d rows written on a full disk", n)
	}
	free.Store(1 << 30)
	select {
	case a := <-acks:
		if a.Err != nil || a.Result.Rows != 2 {
			t.Fatalf("ack after space returned: %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no commit within 10 s of space returning")
	}
	if n := len(tablestest.Dump(t, s, "d", "a")); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

func TestDeadLetterChunkHoldsTheLowWaterMarkUntilProduced(t *testing.T) {
	c := newTestCore(t, spec.ErrorPolicy{Kind: spec.ErrorsDLQ, DLQTopic: "dead"})
	c.startAt(0)
	out, dlq := c.process(recs(0, `{"t":"a","v":"x"}`))
	if len(out) != 0 || len(dlq) != 1 {
		t.Fatalf("batches %d, rejected %d", len(out), len(dlq))
	}
	if c.lwm != 0 || c.inFlight() != 1 {
		t.Fatalf("before the produce: lwm %d, in flight %d", c.lwm, c.inFlight())
	}
	if !c.dlqDone() || c.lwm != 1 || c.inFlight() != 0 {
		t.Fatalf("after the produce: lwm %d, in flight %d", c.lwm, c.inFlight())
	}
}

// A table the resolver has not resolved yet stops mapping before the record
// that needs it (the actor asks the catalog meanwhile); mapping the same
// delivery again goes on from that record, and nothing is counted or
// batched twice. The error table is resolved the same way.
func TestProcessStopsAtATableNotResolvedYet(t *testing.T) {
	c := newTestCore(t, spec.ErrorPolicy{})
	known := map[string]bool{"d.a": true}
	plain := c.resolve
	c.resolve = func(dbms, table string) (*tableTarget, error) {
		if !known[dbms+"."+table] {
			return nil, &needTable{dbms: dbms, table: table}
		}
		return plain(dbms, table)
	}
	errKnown := false
	plainErr := c.errTarget
	c.errTarget = func() (*tableTarget, error) {
		if !errKnown {
			return nil, &needTable{dbms: "lakenode", table: "kafka_errors", errTable: true}
		}
		return plainErr()
	}
	c.startAt(0)
	d := recs(0, `{"t":"a","v":1}`, `{"t":"b","v":2}`, `{"t":"a","v":"x"}`, `{"t":"a","v":4}`)
	var all []builtBatch
	out, _ := c.process(d)
	all = append(all, out...)
	if c.need == nil || c.need.key() != "d.b" || len(out) != 1 || len(out[0].batch.Feed.Records) != 1 || out[0].batch.Feed.Next != 1 {
		t.Fatalf("first pass: need %v, batches %+v", c.need, out)
	}
	c.need, known["d.b"] = nil, true
	out, _ = c.process(d)
	all = append(all, out...)
	// Record 2 is rejected: the error table is needed first.
	if c.need == nil || !c.need.errTable || len(out) != 1 || out[0].target.key != "d.b" || out[0].batch.Feed.Next != 2 {
		t.Fatalf("second pass: need %v, batches %+v", c.need, out)
	}
	c.need, errKnown = nil, true
	out, _ = c.process(d)
	all = append(all, out...)
	if c.need != nil || len(out) != 2 || out[0].batch.Feed.Next != 4 {
		t.Fatalf("third pass: need %v, batches %+v", c.need, out)
	}
	if s := c.stats.Snapshot(); s.Messages != 4 || s.Errors != 1 || s.Rows != 3 {
		t.Fatalf("counters %+v: a record was counted twice or not at all", s)
	}
	// One chunk per pass, each ending where its pass stopped; all acked,
	// the mark is past the delivery.
	if c.inFlight() != 3 {
		t.Fatalf("%d chunks in flight, want 3", c.inFlight())
	}
	for _, b := range all {
		if _, err := c.ack(ack(b)); err != nil {
			t.Fatal(err)
		}
	}
	if c.inFlight() != 0 || c.lwm != 4 {
		t.Fatalf("after every ack: %d chunks in flight, low-water mark %d", c.inFlight(), c.lwm)
	}
}

// behind is about the last batch that became visible, and only while it
// is recent: an old slow batch does not hold sealing back for ever.
func TestPartitionBehind(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ms := at.UnixMilli()
	cases := []struct {
		name    string
		batches [][]int64 // record timestamps of each batch, committed at `at`
		since   time.Time
		want    bool
	}{
		{"nothing visible yet", nil, at.Add(-time.Second), false},
		{"fresh batch", [][]int64{{ms - 10, ms - 50}}, at.Add(-time.Second), false},
		{"one old record in the batch", [][]int64{{ms - 10, ms - 400}}, at.Add(-time.Second), true},
		{"caught up since", [][]int64{{ms - 900}, {ms - 20}}, at.Add(-time.Second), false},
		{"late batch but long ago", [][]int64{{ms - 900}}, at.Add(time.Second), false},
		{"empty batch keeps the last", [][]int64{{ms - 900}, {}}, at.Add(-time.Second), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newPartitionStats("t", 0)
			for _, b := range c.batches {
				s.visible(b, ms)
			}
			if got := s.behind(250*time.Millisecond, c.since); got != c.want {
				t.Fatalf("behind = %v, want %v", got, c.want)
			}
		})
	}
}
