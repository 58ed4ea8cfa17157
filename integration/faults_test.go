//go:build faults

package integration

// The fault suite (README, "Faults and soak"): `make faults` runs every case
// at full size on kfake and on Apache Kafka (LAKENODE_FAULTS=full); `make
// test` runs the short form of the kill and hostile cases on kfake. Each
// case runs real processes, checks that every produced message is
// accounted for and prints one line of figures (FAULT ...).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/tables"
)

// faultCase is one case of the suite. ownBroker cases stop, pause or
// restart their broker, so they get one of their own (FromEnv); the others
// share the package's broker.
type faultCase struct {
	name      string
	ownBroker bool
	run       func(f *faultRun)
}

var faultCases = []faultCase{
	{name: "kill", run: faultKill},
	{name: "hostile", run: faultHostile},
	{name: "sigterm", run: faultSigterm},
	{name: "slow-table", run: faultSlowTable},
	{name: "broker-pause", ownBroker: true, run: faultBrokerPause},
	{name: "broker-restart", ownBroker: true, run: faultBrokerRestart},
	// TODO (issue 10, once their behaviour is merged): "disk-full" (a
	// size-limited tmpfs data dir with --min-free; filled, then freed; and
	// a restart while full) and "topic-recreated" (the topic deleted and
	// created again under the node, then `reset offsets`).
}

func TestFaults(t *testing.T) {
	for _, c := range faultCases {
		t.Run(c.name, func(t *testing.T) {
			b := kafkatest.Shared(t)
			if c.ownBroker {
				b = kafkatest.FromEnv(t)
			}
			f := newFaultRun(t, c.name, b)
			c.run(f)
			f.report()
		})
	}
}

// faultKill: the node is SIGKILLed 10 times in a row at random moments
// while messages keep arriving, and restarted each time on the same data
// dir; every message is stored exactly once. Recovery: from the last
// kill to every message stored (the restart included).
func faultKill(f *faultRun) {
	t := f.t
	f.startNode("")
	fd := startFeeder(t, f.b, f.topic, size(10_000, 30_000))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 10))
	for k := range 10 {
		base := f.node.rowCount(faultDBMS, f.table)
		waitFor(t, 60*time.Second, func() bool { return f.node.rowCount(faultDBMS, f.table) > base }, "ingest to run before kill %d", k+1)
		time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
		f.kill()
		if k == 9 {
			f.faultEnded()
		}
		f.restart()
	}
	f.fig.Messages = fd.stop(t)
	f.waitAccounted(f.fig.Messages, 0, 3*time.Minute)
	f.checkSeqOnce(f.fig.Messages)
	f.stop()
}

// faultSigterm: SIGTERM during a 500,000-message ingest stops the node
// cleanly within a minute; restarted, it stores every message once.
// Recovery: from the stop to every message stored (the restart included).
func faultSigterm(f *faultRun) {
	t := f.t
	const total = 500_000
	produceN(t, f.b.Addr(), f.topic, total, 0)
	f.fig.Messages = int64(total)
	f.startNode("")
	waitFor(t, 2*time.Minute, func() bool { return f.node.rowCount(faultDBMS, f.table) > total/20 }, "a twentieth of the rows")
	took := f.stop()
	mid := countRowsOffline(t, f)
	if mid >= int64(total) {
		t.Fatalf("the ingest had ended before SIGTERM (%d rows): make the case bigger", mid)
	}
	t.Logf("SIGTERM at %d of %d rows; stopped in %v", mid, total, took.Round(time.Millisecond))
	f.faultEnded()
	f.restart()
	f.waitAccounted(int64(total), 0, 5*time.Minute)
	f.checkSeqOnce(int64(total))
	f.stop()
}

// countRowsOffline counts the stopped node's rows by opening its data dir.
func countRowsOffline(t *testing.T, f *faultRun) int64 {
	t.Helper()
	out, errOut, code := runCLI(t, "", "--data-dir", f.node.dataDir, "-c", fmt.Sprintf("get rows count where dbms = %s and table = %s and format = json", faultDBMS, f.table))
	if code != 0 {
		t.Fatalf("counting rows of the stopped node: exit %d: %s", code, errOut)
	}
	return parseCount(out, faultDBMS, f.table)
}

// faultSlowTable: a table whose every commit is delayed (the test-only
// LAKENODE_TEST_APPLY_DELAY hook) is fed a backlog far larger than memory
// should hold; the partitions pause instead of buffering it, so the node's
// RSS stays bounded. Recovery: from the end of producing to every message
// stored.
func faultSlowTable(f *faultRun) {
	t := f.t
	t.Setenv(actors.TestApplyDelayEnv, faultDBMS+"."+f.table+"=1s")
	total := size(200_000, 1_000_000)
	produceN(t, f.b.Addr(), f.topic, total, 0)
	f.fig.Messages = int64(total)
	f.faultEnded()
	f.startNode("")
	f.waitAccounted(int64(total), 0, 10*time.Minute)
	f.checkSeqOnce(int64(total))
	f.stop()
	// Bounded: behind a table that takes a second per commit, the node
	// holds at most 8 batches per partition, whatever the backlog (34 MB of
	// messages short, 170 MB full), plus its working set.
	// (Full runs peaked at 530 and 737 MiB with a 1 M-message backlog,
	// falling as it drained; the product's bound is 2 GiB.)
	const limit = 1 << 30
	if peak := f.peak(); peak > limit {
		for _, s := range f.samples() {
			t.Logf("%6.1fs rss %4d MiB lag %d", s.At.Sub(f.faultE).Seconds(), s.RSS>>20, s.Lag)
		}
		t.Errorf("max RSS %d MiB behind a slowed table, want ≤ %d MiB", peak>>20, limit>>20)
	}
}

// faultBrokerPause: the broker is frozen with SIGSTOP for 30 s (10 s in
// the short form) while messages keep coming; the node keeps answering
// commands, and ingest resumes by itself when the broker continues.
// Recovery: from SIGCONT to every message stored.
func faultBrokerPause(f *faultRun) {
	t := f.t
	f.startNode("")
	fd := startFeeder(t, f.b, f.topic, size(5_000, 20_000))
	waitFor(t, 60*time.Second, func() bool { return f.node.rowCount(faultDBMS, f.table) > 0 }, "ingest to run")
	if err := f.b.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	pause := size(10*time.Second, 30*time.Second)
	resumed := false
	defer func() {
		if !resumed {
			_ = f.b.Resume()
		}
	}()
	// The node answers while its broker hangs.
	for time.Since(paused) < pause {
		t0 := time.Now()
		if _, ok := restGet(f.node.http, "get processes", 5*time.Second); !ok {
			t.Fatalf("get processes did not answer within 5 s while the broker was paused")
		}
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("get processes took %v while the broker was paused", d)
		}
		if _, ok := restGet(f.node.http, fmt.Sprintf("sql %s format = json \"select count(*) from %s\"", faultDBMS, f.table), 5*time.Second); !ok {
			t.Fatalf("a query did not answer within 5 s while the broker was paused")
		}
		time.Sleep(time.Second)
	}
	if err := f.b.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	f.faultEnded()
	time.Sleep(2 * time.Second) // keep producing after the broker is back
	f.fig.Messages = fd.stop(t)
	f.waitAccounted(f.fig.Messages, 0, 3*time.Minute)
	f.checkSeqOnce(f.fig.Messages)
	f.stop()
}

// faultBrokerRestart: the broker is stopped and started again mid-ingest
// (Apache Kafka with `make faults`'s second run) while messages keep
// coming. Recovery: from the broker's return to every message stored.
func faultBrokerRestart(f *faultRun) {
	t := f.t
	f.startNode("")
	fd := startFeeder(t, f.b, f.topic, size(5_000, 20_000))
	waitFor(t, 60*time.Second, func() bool { return f.node.rowCount(faultDBMS, f.table) > 0 }, "ingest to run")
	f.b.Stop()
	down := time.Now()
	for time.Since(down) < size(5*time.Second, 15*time.Second) {
		if _, ok := restGet(f.node.http, "get processes", 5*time.Second); !ok {
			t.Fatalf("get processes did not answer within 5 s with the broker down")
		}
		time.Sleep(time.Second)
	}
	if err := f.b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("broker down for %v", time.Since(down).Round(time.Millisecond))
	f.faultEnded()
	time.Sleep(2 * time.Second) // keep producing after the broker is back
	f.fig.Messages = fd.stop(t)
	f.waitAccounted(f.fig.Messages, 0, 3*time.Minute)
	f.checkSeqOnce(f.fig.Messages)
	f.stop()
}

// hostileMsg is one hostile message and what must become of it: stored as
// the row with its seq, or rejected with a reason starting with reason.
type hostileMsg struct {
	what   string
	value  []byte
	reason string // "" if stored
}

func hostileMessages() []hostileMsg {
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	head := func(seq int) string {
		return fmt.Sprintf(`{"seq":%d,"timestamp":"%s","device_name":"d","ip":"i","unit":"u","status":"s","site":"x",`, seq, ts)
	}
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	var keys bytes.Buffer
	for i := range 100_000 {
		fmt.Fprintf(&keys, `"k%d":%d,`, i, i)
	}
	big := strings.Repeat("x", 10<<20)
	return []hostileMsg{
		{what: "10 MB JSON", value: []byte(head(0) + `"value":1.5,"blob":"` + big + `"}`)},
		{what: "10 MB string in a column", value: []byte(head(1) + `"value":1.5,"note":"` + big + `"}`)},
		{what: "100,000-deep nesting", value: []byte(head(2) + `"value":1.5,"deep":` + deep + `}`), reason: "not_json: not JSON: nested deeper than 300 levels"},
		{what: "100,000 keys", value: []byte(head(3) + keys.String() + `"value":1.5}`)},
		{what: "invalid UTF-8", value: []byte(head(4) + "\"value\":1.5,\"note\":\"a\xff\xfeb\"}")},
		{what: "1e400", value: []byte(head(5) + `"value":1e400}`), reason: "type_mismatch"},
		{what: "-1e400", value: []byte(head(6) + `"value":-1e400}`), reason: "type_mismatch"},
		{what: "NaN", value: []byte(head(7) + `"value":NaN}`), reason: "type_mismatch"},
		{what: `"NaN" as a string`, value: []byte(head(8) + `"value":"NaN"}`), reason: "type_mismatch"},
		{what: `"1e400" as a string`, value: []byte(head(9) + `"value":"1e400"}`), reason: "type_mismatch"},
		{what: "10 MB not JSON", value: bytes.Repeat([]byte("{"), 10<<20), reason: "not_json"},
	}
}

// faultHostile: hostile messages on a one-partition topic whose size limit
// is raised to 16 MiB, each stored or rejected with its reason; then a
// `bring` table name making 10,000 tables (1,000 in the short form), each
// with its one row. The node
// keeps answering throughout. Recovery: from the last message produced to
// every message accounted for.
func faultHostile(f *faultRun) {
	t := f.t
	cl := f.b.Client(t, kgo.ProducerBatchMaxBytes(16<<20), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedBytes(64<<20))
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	big := "16777216"
	resp, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &big}, f.topic+"_big")
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating the hostile topic with max.message.bytes = 16 MiB: %v", err)
	}
	kafkatest.CreateTopic(t, f.b, f.topic+"_big", 1) // waits for its leader
	// The flood of table names goes to the case's own topic.
	host, port, _ := net.SplitHostPort(f.b.Addr())
	script := fmt.Sprintf(`<run kafka consumer where ip = %s and port = %s and reset = earliest and
topic = (name = %s_big and dbms = %s and table = %s and column.timestamp.timestamp = "bring [timestamp]" and column.value.float = "bring [value]" and column.seq.int = "bring [seq]" and column.note = (type = str and value = "bring [note]" and optional = true) and column.blob = (type = str and value = "bring [blob]" and optional = true)) and
topic = (name = %s and dbms = %s_t and table = "bring [t]" and column.seq.int = "bring [seq]")>`,
		host, port, f.topic, faultDBMS, f.table, f.topic, faultDBMS)
	f.startNode(script)

	msgs := hostileMessages()
	offsets := make(map[int64]hostileMsg)
	for _, m := range msgs {
		r := &kgo.Record{Topic: f.topic + "_big", Value: m.value}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("producing %s: %v", m.what, err)
		}
		offsets[r.Offset] = m
	}
	nTables := size(1_000, 10_000)
	flood := make([][]byte, nTables)
	for i := range flood {
		flood[i] = fmt.Appendf(nil, `{"t":"t%05d","seq":%d}`, i, i)
	}
	kafkatest.Produce(t, f.b, f.topic, flood...)
	f.fig.Messages = int64(len(msgs) + nTables)
	f.faultEnded()

	var wantRows, wantErrs int64
	for _, m := range msgs {
		if m.reason == "" {
			wantRows++
		} else {
			wantErrs++
		}
	}
	f.waitState(size(2*time.Minute, 10*time.Minute), func() (bool, string) {
		r, e, fl := f.node.rowCount(faultDBMS, f.table), f.errorRows(), floodRows(f)
		return r == wantRows && e == wantErrs && fl == int64(nTables), fmt.Sprintf("%d rows, %d errors, %d flood rows; get msg client: %.3000s", r, e, fl, f.node.mustExec("get msg client"))
	}, fmt.Sprintf("%d hostile rows, %d rejections and %d flood rows", wantRows, wantErrs, nTables))
	f.fig.Recovery = time.Since(f.faultE)
	f.fig.Rows, f.fig.Errors = wantRows+int64(nTables), wantErrs

	// Each stored message is its row, once.
	for _, r := range queryRows(t, f.node, faultDBMS, "select seq from "+f.table) {
		seq := r.int("seq")
		var m *hostileMsg
		for i := range msgs {
			if bytes.HasPrefix(msgs[i].value, fmt.Appendf(nil, `{"seq":%d,`, seq)) {
				m = &msgs[i]
			}
		}
		if m == nil || m.reason != "" {
			t.Errorf("row with seq %d stored; it should have been rejected", seq)
		}
	}
	// Each rejected message is in kafka_errors at its offset with its reason.
	for _, r := range queryRows(t, f.node, tables.ErrorsDBMS, fmt.Sprintf("select offset, reason from %s where topic = '%s_big'", tables.ErrorsTable, f.topic)) {
		m, ok := offsets[r.int("offset")]
		reason := r.str("reason")
		if !ok || m.reason == "" || !strings.HasPrefix(reason, m.reason) {
			t.Errorf("offset %d (%s) rejected with %q; want %q", r.int("offset"), m.what, reason, m.reason)
			continue
		}
		t.Logf("%s: %s", m.what, reason)
	}
	// The repaired string is valid UTF-8 with U+FFFD for each bad byte.
	if got := queryRows(t, f.node, faultDBMS, "select note from "+f.table+" where seq = 4"); len(got) != 1 || got[0].str("note") != "a\uFFFD\uFFFDb" {
		t.Errorf("invalid UTF-8 stored as %v", got)
	}
	// The 10,000 tables are listed and each holds its one row.
	if r := queryRows(t, f.node, faultDBMS+"_t", fmt.Sprintf("select count(*) as c, min(seq) as lo from t%05d", nTables-1)); len(r) != 1 || r[0].int("c") != 1 || r[0].int("lo") != int64(nTables-1) {
		t.Errorf("table t%05d: %v", nTables-1, r)
	}
	f.stop()
}

// floodRows sums the rows of every table of the table-name flood.
func floodRows(f *faultRun) int64 {
	body, ok := restGet(f.node.http, fmt.Sprintf("get rows count where dbms = %s_t and format = json", faultDBMS), 30*time.Second)
	if !ok {
		return -1
	}
	var rows []struct {
		Rows int64 `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &rows); err != nil {
		return -1
	}
	var n int64
	for _, r := range rows {
		n += r.Rows
	}
	return n
}
