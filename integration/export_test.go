package integration

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// TestSeedStory plays the seed document end to end: rows in
// litsanleandro.ping_sensor, the seed's producer command (as written, with
// the test broker's address) publishing the last day's rows to a topic, and
// the seed's consumer command bringing them into lsl_demo.ping_sensor.
func TestSeedStory(t *testing.T) {
	b := kafkatest.Shared(t)
	host, port, _ := net.SplitHostPort(b.Addr())
	kafkatest.CreateTopic(t, b, "lit_src", 2)
	kafkatest.CreateTopic(t, b, "ping_data_story", 1)
	now := time.Now()
	var vals [][]byte
	for i := range 40 {
		vals = append(vals, pingMessage(i, now.Add(-time.Duration(i)*time.Hour)))
	}
	kafkatest.Produce(t, b, "lit_src", vals...)
	source := fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = lit_src and dbms = litsanleandro and table = ping_sensor and column.device_name.str = "bring [device_name]" and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]")`, host, port)
	n := startNode(t, "story", t.TempDir(), source)
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("litsanleandro", "ping_sensor") == 40 }, "40 source rows")

	producer := fmt.Sprintf(`run client () sql litsanleandro format = json:output and stat = false and dest = kafka@%s:%s and topic = ping_data_story "select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10"`, host, port)
	r := n.exec(producer)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"Rows" : 10`) {
		t.Fatalf("seed producer: %d %s", r.Status, r.Body)
	}
	recs := kafkatest.ConsumeAll(t, b, "ping_data_story", 10, 30*time.Second)
	for _, rec := range recs {
		if rec.Key != nil || !strings.HasPrefix(string(rec.Value), `{"device_name": "device-`) || strings.HasSuffix(string(rec.Value), "\n") {
			t.Fatalf("exported message %q (key %q)", rec.Value, rec.Key)
		}
	}
	// The seed's consumer, as written, brings them into lsl_demo.ping_sensor.
	n.mustExec(strings.ReplaceAll(seedConsumer(b.Addr(), "ping_data_story", "earliest"), "\n", " "))
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("lsl_demo", "ping_sensor") == 10 }, "the 10 exported rows")

	// stat = true adds EdgeLake's statistics message; no rows with
	// stat = false sends its empty-set reply.
	kafkatest.CreateTopic(t, b, "story_stats", 1)
	n.mustExec(fmt.Sprintf(`sql litsanleandro format = json:output and stat = true and dest = kafka@%s:%s and topic = story_stats "select value from ping_sensor limit 2"`, host, port))
	n.mustExec(fmt.Sprintf(`sql litsanleandro format = json:output and stat = false and dest = kafka@%s:%s and topic = story_stats "select value from ping_sensor where value > 100000"`, host, port))
	recs = kafkatest.ConsumeAll(t, b, "story_stats", 4, 30*time.Second)
	if !strings.HasPrefix(string(recs[2].Value), "\n{\"Statistics\":[{\"Count\": 2,") || string(recs[3].Value) != `{"reply" : "Empty data set"}` {
		t.Fatalf("statistics / empty messages: %q %q", recs[2].Value, recs[3].Value)
	}
	// A missing topic is created, as a stock producer's is (both test
	// brokers allow auto-creation; TestExportTopicRefused has one that
	// does not); an unreachable broker is a clear error.
	r = n.exec(fmt.Sprintf(`sql litsanleandro format = json:output and stat = false and dest = kafka@%s:%s and topic = story_new_topic "select value from ping_sensor limit 3"`, host, port))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"Rows" : 3`) {
		t.Fatalf("missing topic: %d %s", r.Status, r.Body)
	}
	kafkatest.ConsumeAll(t, b, "story_new_topic", 3, 30*time.Second)
	dead := freeAddr(t)
	r = n.exec(fmt.Sprintf(`sql litsanleandro format = json:output and dest = kafka@%s and topic = t "select value from ping_sensor"`, dead))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, dead) {
		t.Fatalf("unreachable broker: %d %s", r.Status, r.Body)
	}
	n.stop()
}

// TestRunClientDestinations runs a command on named destinations, each
// reply under [From Node NAME].
func TestRunClientDestinations(t *testing.T) {
	a := startNode(t, "node-a", t.TempDir(), "")
	bn := startNode(t, "node-b", t.TempDir(), "")
	r := a.exec(fmt.Sprintf("run client (node-a, %s) get version", bn.listen))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "[From Node node-a]\n") || !strings.Contains(r.Body, "[From Node node-b]\n") || strings.Count(r.Body, "lakenode ") != 2 {
		t.Fatalf("run client: %d\n%s", r.Status, r.Body)
	}
	r = a.exec(fmt.Sprintf("run client (%s and subset = true and timeout = 2) get version", freeAddr(t)))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "no reply") {
		t.Fatalf("run client to a missing node with subset: %d\n%s", r.Status, r.Body)
	}
	r = a.exec("run client (node-z) get version")
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "node-z") {
		t.Fatalf("unknown node: %d %s", r.Status, r.Body)
	}
	a.stop()
	bn.stop()
}

// TestNodesFindEachOther: nodes given each other as seeds list each other
// in get nodes, with the tables they host; a node that dies disappears
// within a few seconds.
func TestNodesFindEachOther(t *testing.T) {
	la, lb := freeAddr(t), freeAddr(t)
	a := startNodeAt(t, "node-a", t.TempDir(), la, "--seeds", lb)
	bn := startNodeAt(t, "node-b", t.TempDir(), lb, "--seeds", la)
	bn.mustExec(`connect dbms d where type = sqlite`)
	waitFor(t, 30*time.Second, func() bool {
		body := a.mustExec("get nodes")
		return strings.Contains(body, "node-b") && strings.Contains(body, "alive")
	}, "node-a to see node-b")
	waitFor(t, 30*time.Second, func() bool {
		return strings.Contains(bn.mustExec("get nodes where format = json"), `"name": "node-a"`)
	}, "node-b to see node-a")
	// Members can be named in run client.
	if r := a.exec("run client (node-b) get version"); r.Status != http.StatusOK || !strings.Contains(r.Body, "[From Node node-b]") {
		t.Fatalf("run client (node-b): %d %s", r.Status, r.Body)
	}
	// A third node that names only node-a as its seed finds node-b through
	// it, and node-b finds it.
	c := startNodeAt(t, "node-c", t.TempDir(), freeAddr(t), "--seeds", la)
	waitFor(t, 30*time.Second, func() bool {
		return strings.Contains(c.mustExec("get nodes"), "node-b") && strings.Contains(bn.mustExec("get nodes"), "node-c")
	}, "node-c and node-b to find each other through node-a")
	if r := c.exec("run client (node-b) get version"); r.Status != http.StatusOK || !strings.Contains(r.Body, "[From Node node-b]") {
		t.Fatalf("run client (node-b) from node-c: %d %s", r.Status, r.Body)
	}
	// A clean stop is a leave, not a loss.
	c.stop()
	waitFor(t, 30*time.Second, func() bool {
		r := a.exec("get nodes")
		return !strings.Contains(r.Body, "node-c") && len(r.Notices) == 0
	}, "node-c to leave node-a's list without being reported lost")
	bn.kill()
	waitFor(t, 30*time.Second, func() bool { return !strings.Contains(a.mustExec("get nodes"), "node-b") }, "node-b to disappear")
	a.stop()
}

// TestSharedTopicAcrossNodes: three nodes run the same consumer with the same
// group, split the topic's partitions, and run client () over the table
// counts every produced message exactly once, from any node.
func TestSharedTopicAcrossNodes(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "shared_topic"
	kafkatest.CreateTopic(t, b, topic, 4)
	host, port, _ := net.SplitHostPort(b.Addr())
	consumer := fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and group = shared and topic = (name = %s and dbms = fleet and table = pings and column.timestamp.timestamp = "bring [timestamp]" and column.seq.int = "bring [seq]" and column.device.str = "bring [device_name]")`, host, port, topic)
	addrs := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	var nodes []*nodeProc
	for i, a := range addrs {
		nodes = append(nodes, startNodeWith(t, fmt.Sprintf("fleet-%d", i), t.TempDir(), a, consumer, "--seeds", otherAddrs(addrs, i)))
	}
	// The group shares the 4 partitions among the three nodes.
	waitFor(t, 90*time.Second, func() bool {
		total := 0
		for _, n := range nodes {
			parts := len(msgClientsTB(t, n)[0].Partitions)
			if parts == 0 {
				return false
			}
			total += parts
		}
		return total == 4
	}, "the three nodes to share the 4 partitions")
	const total = 3000
	now := time.Now()
	var vals [][]byte
	for i := range total {
		vals = append(vals, pingMessage(i, now))
	}
	kafkatest.Produce(t, b, topic, vals...)
	waitFor(t, 90*time.Second, func() bool {
		var sum int64
		for _, n := range nodes {
			sum += max(n.rowCount("fleet", "pings"), 0)
		}
		return sum == total
	}, "all %d rows over the three nodes", total)
	hosting := 0
	for _, n := range nodes {
		if n.rowCount("fleet", "pings") > 0 {
			hosting++
		}
	}
	// Every node's directory lists the hosting nodes.
	for _, n := range nodes {
		waitFor(t, 30*time.Second, func() bool {
			return strings.Count(n.mustExec("get nodes"), "fleet.pings") >= hosting
		}, "%s's directory to list the %d hosting nodes", n.name, hosting)
	}
	for _, n := range nodes {
		r := n.exec(`run client () sql fleet "select count(*), count(distinct seq), min(seq), max(seq) from pings"`)
		want := fmt.Sprintf(`{"count(*)": %d, "count(distinct seq)": %d, "min(seq)": 0, "max(seq)": %d}`, total, total, total-1)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, want) || !strings.Contains(r.Body, fmt.Sprintf(`"Nodes": %d`, hosting)) {
			t.Fatalf("run client () on %s: %d\n%s\nwant %s from %d nodes", n.name, r.Status, r.Body, want, hosting)
		}
	}
	r := nodes[1].exec(`run client () sql fleet format = table "select device, count(*) from pings group by device order by 2 desc, 1 limit 3"`)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "device-0000|      30|") {
		t.Fatalf("group by across nodes: %d\n%s", r.Status, r.Body)
	}
	for _, n := range nodes {
		n.stop()
	}
}

// TestClusterUp starts three nodes with lakenode cluster up, runs commands on
// node 0 from stdin, and stops them all.
func TestClusterUp(t *testing.T) {
	base := freePortRange(t, 9) // three ports a node
	out, errOut, code := runCLI(t, "get nodes\ncluster down\n", "cluster", "up", "--nodes", "3", "--base-port", fmt.Sprint(base), "--data-dir", t.TempDir())
	if code != 0 || strings.Count(out, "alive") != 2 || !strings.Contains(out, "node-2") || !strings.Contains(errOut, "stopping the cluster") {
		t.Fatalf("cluster up: %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code = runCLI(t, "", "cluster", "up"); code != 2 || !strings.Contains(errOut, "--nodes") {
		t.Fatalf("cluster up without --nodes: %d %s", code, errOut)
	}
}

// TestScheduler runs a task every second with EdgeLake's scheduler commands.
func TestScheduler(t *testing.T) {
	n := startNode(t, "sched", t.TempDir(), "")
	if r := n.exec(`schedule time = 1 second and name = "v" task get version`); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "run scheduler 1") {
		t.Fatalf("schedule without a scheduler: %d %s", r.Status, r.Body)
	}
	n.mustExec("run scheduler 1")
	n.mustExec(`schedule time = 1 second and name = "v" task get version`)
	n.mustExec(`schedule time = 1 second and name = "w" task sql nodb "select count(*) from t where timestamp >= TIME(PREVIOUS) and timestamp < TIME(CURRENT)"`)
	waitFor(t, 30*time.Second, func() bool {
		body := n.mustExec("get scheduler where format = json")
		return strings.Contains(body, `"runs": 2`) || strings.Contains(body, `"runs": 3`)
	}, "the tasks to run twice")
	if body := n.mustExec("get scheduler"); !strings.Contains(body, "lakenode ") || !strings.Contains(body, "error: ") {
		t.Errorf("get scheduler:\n%s", body)
	}
	if !strings.Contains(n.mustExec("get error log"), `task "w"`) {
		t.Errorf("a failing task is not in the error log")
	}
	if !strings.Contains(n.mustExec("get processes"), "Schedulers IDs in use: [1]") {
		t.Errorf("get processes does not show the scheduler")
	}
	n.mustExec(`task remove where name = "w"`)
	n.mustExec(`task stop where name = "v"`)
	if body := n.mustExec("get scheduler"); strings.Contains(body, "sql nodb") || !strings.Contains(body, "stopped") {
		t.Errorf("after remove and stop:\n%s", body)
	}
	n.mustExec("exit scheduler 1")
	n.stop()
}

// freePortRange returns a port P such that P..P+n-1 are all free now.
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	for try := range 200 {
		base := 20000 + (int(time.Now().UnixNano())/7+try*97)%40000
		free := true
		var lns []net.Listener
		for p := base; p < base+n; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				break
			}
			lns = append(lns, l)
		}
		for _, l := range lns {
			_ = l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free range of ports")
	return 0
}

// TestSharedTopicKill9: a node sharing a topic is killed during ingest and
// restarted with the same name and data dir; its partitions come back to it
// (static membership) and run client () still counts every message once.
func TestSharedTopicKill9(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "shared_kill"
	kafkatest.CreateTopic(t, b, topic, 4)
	host, port, _ := net.SplitHostPort(b.Addr())
	consumer := fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and group = sharedkill and topic = (name = %s and dbms = fleet and table = kpings and column.timestamp.timestamp = "bring [timestamp]" and column.seq.int = "bring [seq]")`, host, port, topic)
	la, lb := freeAddr(t), freeAddr(t)
	a := startNodeWith(t, "kill-a", t.TempDir(), la, consumer, "--seeds", lb)
	bn := startNodeWith(t, "kill-b", t.TempDir(), lb, consumer, "--seeds", la)
	waitFor(t, 90*time.Second, func() bool {
		pa, pb := len(msgClientsTB(t, a)[0].Partitions), len(msgClientsTB(t, bn)[0].Partitions)
		return pa > 0 && pb > 0 && pa+pb == 4
	}, "the two nodes to share the 4 partitions")
	before := len(msgClientsTB(t, bn)[0].Partitions)
	const rounds, per = 3, 20_000
	now := time.Now()
	for k := range rounds {
		var vals [][]byte
		for i := k * per; i < (k+1)*per; i++ {
			vals = append(vals, pingMessage(i, now))
		}
		produced := make(chan error, 1)
		go func() { produced <- kafkatest.ProduceValues(b, topic, vals...) }()
		waitFor(t, 60*time.Second, func() bool { return bn.rowCount("fleet", "kpings") > int64(k*per/4) }, "node b to ingest")
		bn.kill()
		if err := <-produced; err != nil {
			t.Fatal(err)
		}
		bn.restart()
	}
	waitFor(t, 120*time.Second, func() bool {
		return max(a.rowCount("fleet", "kpings"), 0)+max(bn.rowCount("fleet", "kpings"), 0) == rounds*per
	}, "all %d rows over the two nodes", rounds*per)
	waitFor(t, 60*time.Second, func() bool { return len(msgClientsTB(t, bn)[0].Partitions) == before },
		"node b to own its %d partitions again after its restart", before)
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(a.mustExec("get nodes"), "kill-b") }, "node b to be a member again")
	r := a.exec(`run client () sql fleet "select count(*), count(distinct seq) from kpings"`)
	want := fmt.Sprintf(`{"count(*)": %d, "count(distinct seq)": %d}`, rounds*per, rounds*per)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, want) {
		t.Fatalf("run client () after the kills: %d\n%s\nwant %s", r.Status, r.Body, want)
	}
	a.stop()
	bn.stop()
}
