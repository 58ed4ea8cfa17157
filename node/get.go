package node

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

func hms(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func (n *Node) render(g *command.Get, opts ExecOptions, tbl output.Table, obj any) Result {
	if g.JSON {
		return jsonText(output.JSON(obj, opts.Terminal && !opts.REST))
	}
	return text(tbl.String())
}

func (n *Node) get(g *command.Get, opts ExecOptions) Result {
	switch g.What {
	case "processes":
		return n.getProcesses(g, opts)
	case "msg client":
		return n.getMsgClient(g, opts)
	case "msg brokers":
		return n.getMsgBrokers(g, opts)
	case "streaming", "streaming config":
		return n.getStreaming(g, opts)
	case "operator":
		return n.getOperator(g, opts)
	case "databases":
		return n.getDatabases(g, opts)
	case "tables":
		return n.getTables(g, opts)
	case "columns":
		return n.getColumns(g, opts)
	case "rows count":
		return n.getRowsCount(g, opts)
	case "error log":
		return n.getErrorLog(g, opts)
	case "version":
		return text("lakenode " + n.cfg.Version)
	case "nodes":
		return n.getNodes(g, opts)
	case "scheduler":
		return n.getScheduler(g, opts)
	}
	return failf("not supported by lakenode: get %s", g.What)
}

func (n *Node) getProcesses(g *command.Get, opts ExecOptions) Result {
	type row struct{ p, s, d string }
	nd := func(p string) row { return row{p, "Not declared", ""} }
	var rows []row
	if n.remote != nil {
		rows = append(rows, row{"TCP", "Running", "Listening on: " + n.cfg.ListenAddr + " (remote actor endpoint)"})
	} else {
		rows = append(rows, nd("TCP"))
	}
	if n.httpLn != nil {
		rows = append(rows, row{"REST", "Running", "Listening on: " + n.HTTPAddr()})
	} else {
		rows = append(rows, row{"REST", "Not declared", "No active connection"})
	}
	tbls := len(n.store.Tables())
	sched := nd("Scheduler")
	n.schedulersMu.Lock()
	if len(n.schedulers) > 0 {
		var ids []string
		for id := range n.schedulers {
			ids = append(ids, strconv.Itoa(id))
		}
		slices.Sort(ids)
		sched = row{"Scheduler", "Running", "Schedulers IDs in use: [" + strings.Join(ids, ", ") + "]"}
	}
	n.schedulersMu.Unlock()
	operator := row{"Operator", "Running", fmt.Sprintf("Stores every consumed row in its data dir, Tables: %d", tbls)}
	diskFull := n.diskFullText()
	if diskFull != "" {
		operator = row{"Operator", "Paused", fmt.Sprintf("%s: ingest resumes by itself when space returns; queries go on, Tables: %d", diskFull, tbls)}
	}
	rows = append(rows, nd("MCP"), operator,
		nd("Blockchain Sync"), sched, nd("Blobs Archiver"))
	cs := n.consumerStatuses()
	if len(cs) > 0 {
		rows = append(rows, row{"MQTT", "Running", "Kafka subscriptions share EdgeLake's message client"})
	} else {
		rows = append(rows, nd("MQTT"))
	}
	rows = append(rows, nd("MSG Client Pool"))
	if n.broker != nil {
		rows = append(rows, row{"MSG Broker", "Running", "Embedded Kafka-protocol broker on " + n.broker.Addr()})
	} else {
		rows = append(rows, row{"MSG Broker", "Not declared", "No active connection"})
	}
	rows = append(rows, nd("SMTP"), row{"Streamer", "Running", n.thresholdText()}, nd("UNS Streamer"), nd("Query Pool"))
	if len(cs) > 0 {
		var brokers []string
		for _, c := range cs {
			if !slices.Contains(brokers, c.Spec.Broker()) {
				brokers = append(brokers, c.Spec.Broker())
			}
		}
		// EdgeLake's row says Running while a consumer is declared; each
		// consumer's own row below says how it is doing.
		rows = append(rows, row{"Kafka Consumer", "Running", "Kafka consumer configured to " + strings.Join(brokers, ", ")})
	} else {
		rows = append(rows, nd("Kafka Consumer"))
	}
	rows = append(rows, nd("gRPC"), nd("PLC Client"), nd("Pull Processes"), nd("Video Processes"))
	for _, r := range consumerProcessRows(cs, diskFull) {
		rows = append(rows, row{r[0], r[1], r[2]})
	}
	for _, r := range n.tableWriterRows() {
		rows = append(rows, row{r[0], r[1], r[2]})
	}
	n.exportsMu.Lock()
	ids := make([]int, 0, len(n.exports))
	for id := range n.exports {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		rows = append(rows, row{fmt.Sprintf("Kafka Export #%d", id), "Running", n.exports[id]})
	}
	n.exportsMu.Unlock()
	tbl := output.Table{Indent: "    ", Header: [][]string{{"Process", "Status", "Details"}}}
	obj := &output.Object{}
	for _, r := range rows {
		tbl.Rows = append(tbl.Rows, []string{r.p, r.s, r.d})
		o := (&output.Object{}).Set("Status", r.s)
		if r.d != "" {
			o.Set("Details", r.d)
		}
		obj.Set(r.p, o)
	}
	return n.render(g, opts, tbl, obj)
}

// consumerProcessRows are the consumers' rows of `get processes`:
// process, status, details.
func consumerProcessRows(cs []consumerStatus, diskFull string) [][3]string {
	var out [][3]string
	for _, c := range cs {
		st := strings.ToUpper(c.Status.State[:1]) + c.Status.State[1:]
		detail := c.Status.Detail
		if diskFull != "" && c.Status.State == "running" {
			st, detail = "Paused", diskFull+": every partition waits for space"
		}
		if detail == "" {
			detail = fmt.Sprintf("%d partitions", len(c.Status.Partitions))
		} else {
			detail = fmt.Sprintf("%d partitions, %s", len(c.Status.Partitions), detail)
		}
		if f := c.Status.Failures; f.Restarts > 0 {
			detail += fmt.Sprintf("; restarts: %d, last at %s", f.Restarts, clock(f.LastAt))
			if !strings.Contains(detail, f.LastError) {
				detail += ": " + f.LastError
			}
		}
		out = append(out, [3]string{fmt.Sprintf("Kafka Consumer #%d", c.ID), st, detail})
	}
	return out
}

// tableWriterRows are `get processes` rows for the table writers that
// failed: restarted (count, last error, when) or stopped for good. Writers
// that never failed are not listed.
func (n *Node) tableWriterRows() [][3]string {
	st := n.catalog.Status()
	keys := make([]string, 0, len(st))
	for k, s := range st {
		if s.Failures.Restarts > 0 || s.Failures.Stopped {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([][3]string, 0, len(keys))
	for _, k := range keys {
		f := st[k].Failures
		status, detail := "Running", fmt.Sprintf("restarts: %d, last at %s: %s", f.Restarts, clock(f.LastAt), f.LastError)
		if f.Stopped {
			status = "Stopped"
			detail = "stopped after repeated failures, writes refused until the node restarts or the table is dropped; last: " + f.LastError
		}
		out = append(out, [3]string{"Table Writer " + k, status, detail})
	}
	return out
}

func (n *Node) thresholdText() string {
	th := n.currentThresholds()
	if th.Time == 0 && th.Volume == 0 {
		return "Rows are committed as they arrive (visible within 0.5 s)"
	}
	return fmt.Sprintf("Default streaming thresholds are %d seconds and %s bytes", int64(th.Time/time.Second), output.Thousands(th.Volume))
}

func mappingText(e spec.Expr) string {
	switch e.Kind {
	case spec.ExprNow:
		return "now()"
	case spec.ExprLiteral:
		return e.Literal
	}
	// EdgeLake shows the bring's words as a Python list.
	words := strings.Fields(strings.TrimSpace(e.Text[strings.Index(strings.ToLower(e.Text), "bring")+len("bring"):]))
	for i, w := range words {
		words[i] = "'" + w + "'"
	}
	return "[" + strings.Join(words, ", ") + "]"
}

type topicCount struct{ msgs, errs int64 }

func topicTotals(parts []actors.PartitionCounters) (map[string]*topicCount, time.Time, time.Time, string) {
	out := map[string]*topicCount{}
	var lastMsg, lastErr time.Time
	lastText := ""
	for _, p := range parts {
		tc := out[p.Topic]
		if tc == nil {
			tc = &topicCount{}
			out[p.Topic] = tc
		}
		tc.msgs += p.Messages
		tc.errs += p.Errors
		if p.LastMessage.After(lastMsg) {
			lastMsg = p.LastMessage
		}
		if p.LastError.After(lastErr) {
			lastErr, lastText = p.LastError, p.LastErrorText
		}
	}
	return out, lastMsg, lastErr, lastText
}

func (n *Node) getMsgClient(g *command.Get, opts ExecOptions) Result {
	cs := n.consumerStatuses()
	if len(cs) == 0 {
		if g.JSON {
			return jsonText("[]")
		}
		return text("No message client subscriptions")
	}
	var sel []consumerStatus
	for _, c := range cs {
		if id, ok := g.Where["id"]; ok {
			if want, err := strconv.Atoi(id); err != nil || want != c.ID {
				continue
			}
		}
		if b, ok := g.Where["broker"]; ok && b != c.Spec.Broker() {
			continue
		}
		if t, ok := g.Where["topic"]; ok && !slices.ContainsFunc(c.Spec.Topics, func(x spec.TopicSpec) bool { return x.Name == t }) {
			continue
		}
		sel = append(sel, c)
	}
	if len(sel) == 0 {
		if id, ok := g.Where["id"]; ok && len(g.Where) == 1 {
			return text(fmt.Sprintf("Subscription %s is not in use", id))
		}
		return text("No such client subscription")
	}
	detailed := strings.EqualFold(g.Where["detailed"], "true")
	diskFull := n.diskFullText()
	statistics := strings.EqualFold(g.Where["statistics"], "true")
	var b strings.Builder
	var objs []*output.Object
	for _, c := range sel {
		if diskFull != "" && c.Status.State == "running" {
			c.Status.State, c.Status.Detail = "paused", diskFull+": ingest resumes by itself when space returns"
		}
		objs = append(objs, msgClientObject(c))
		writeMsgClient(&b, c, statistics, detailed, diskFull)
	}
	if g.JSON {
		return jsonText(output.JSON(objs, opts.Terminal && !opts.REST))
	}
	return text(b.String())
}

// msgClientObject is a consumer in `get msg client`'s JSON.
func msgClientObject(c consumerStatus) *output.Object {
	totals, lastMsg, lastErr, lastText := topicTotals(c.Status.Partitions)
	var msgs, errs int64
	for _, tc := range totals {
		msgs += tc.msgs
		errs += tc.errs
	}
	o := (&output.Object{}).Set("id", c.ID).Set("broker", c.Spec.Broker()).Set("connection", "Kafka Consumer").
		Set("state", c.Status.State).Set("detail", c.Status.Detail).
		Set("messages", msgs).Set("success", msgs-errs).Set("errors", errs).
		Set("last_message", lastMsg).Set("last_error", lastErr).Set("last_error_text", lastText)
	var topics []*output.Object
	for _, t := range c.Spec.Topics {
		to := (&output.Object{}).Set("topic", t.Name).Set("dbms", mappingText(t.DBMS)).Set("table", mappingText(t.Table)).Set("errors", t.Errors.String())
		var cols []*output.Object
		for _, col := range t.Columns {
			cols = append(cols, (&output.Object{}).Set("name", col.Name).Set("type", col.Type.String()).Set("mapping", mappingText(col.Value)).Set("optional", col.Optional))
		}
		to.Set("columns", cols)
		topics = append(topics, to)
	}
	o.Set("topics", topics)
	var parts []*output.Object
	for _, p := range c.Status.Partitions {
		pausedWhy := ""
		switch {
		case p.DiskFull:
			pausedWhy = "disk full"
		case p.Paused:
			pausedWhy = "tables behind"
		}
		parts = append(parts, (&output.Object{}).Set("topic", p.Topic).Set("partition", p.Partition).
			Set("stored_offset", p.LowWater).Set("high_watermark", p.HighWatermark).Set("lag", p.Lag()).
			Set("messages", p.Messages).Set("rows", p.Rows).Set("errors", p.Errors).
			Set("p50_ms", p.P50.Milliseconds()).Set("p99_ms", p.P99.Milliseconds()).Set("paused", pausedWhy != "").Set("paused_reason", pausedWhy).Set("stopped", p.Stopped).
			Set("topic_changed", p.Changed).Set("rejected", reasonsObject(p.ErrorsBy)).Set("utf8_repaired", p.UTF8Repaired))
	}
	o.Set("partitions", parts)
	if f := c.Status.Failures; f.Restarts > 0 || f.Stopped {
		o.Set("restarts", f.Restarts).Set("last_failure", f.LastAt).Set("last_failure_text", f.LastError)
	}
	if f := c.Status.Fetch; f.Waits > 0 {
		o.Set("fetch_unmapped_bytes", f.Held).Set("fetch_budget_bytes", f.Max).Set("fetch_waits", f.Waits)
	}
	return o
}

// writeMsgClient writes a consumer as `get msg client` prints it.
func writeMsgClient(b *strings.Builder, c consumerStatus, statistics, detailed bool, diskFull string) {
	totals, lastMsg, lastErr, lastText := topicTotals(c.Status.Partitions)
	var msgs, errs int64
	for _, tc := range totals {
		msgs += tc.msgs
		errs += tc.errs
	}
	fmt.Fprintf(b, "\nSubscription ID: %04d\nUser:         unused\nBroker:       %s\nConnection:   Kafka Consumer (%s%s)\n\n", c.ID, c.Spec.Broker(), c.Status.State, suffix(c.Status.Detail))
	if f := c.Status.Failures; f.Restarts > 0 {
		fmt.Fprintf(b, "Restarts:     %d, last at %s: %s\n\n", f.Restarts, clock(f.LastAt), f.LastError)
	}
	if f := c.Status.Fetch; f.Waits > 0 {
		fmt.Fprintf(b, "Mapping behind: %.1f of %d MiB fetched and not yet mapped; fetching waited %d times for mapping to catch up\n\n",
			float64(f.Held)/(1<<20), f.Max>>20, f.Waits)
	}
	if statistics {
		st := output.Table{Indent: "     ", Header: [][]string{{"Topic", "Success", "Failure", "Last Error Time", "Last Error"}}}
		var tot, totErr int64
		for _, t := range c.Spec.Topics {
			tc := totals[t.Name]
			if tc == nil {
				tc = &topicCount{}
			}
			st.Rows = append(st.Rows, []string{t.Name, strconv.FormatInt(tc.msgs-tc.errs, 10), strconv.FormatInt(tc.errs, 10), clock(lastErr), lastText})
			tot += tc.msgs - tc.errs
			totErr += tc.errs
		}
		b.WriteString(st.String())
		fmt.Fprintf(b, "\nTotal Success: %d, Total Error: %d\n", tot, totErr)
		return
	}
	counters := output.Table{Indent: "     ", Header: [][]string{{"Messages", "Success", "Errors", "Last message time", "Last error time", "Last Error"}}}
	counters.Rows = [][]string{{strconv.FormatInt(msgs, 10), strconv.FormatInt(msgs-errs, 10), strconv.FormatInt(errs, 10), clock(lastMsg), clock(lastErr), lastText}}
	b.WriteString(counters.String())
	b.WriteString("     \n     Subscribed Topics:\n")
	tt := output.Table{Indent: "     ", Header: [][]string{{"Topic", "Dynamic", "QOS", "DBMS", "Table", "Column name", "Column Type", "Mapping Function", "Optional", "Errors"}}}
	for _, t := range c.Spec.Topics {
		for i, col := range t.Columns {
			r := []string{"", "False", "", "", "", col.Name, col.Type.String(), mappingText(col.Value), boolText(col.Optional), ""}
			if i == 0 {
				r[0], r[2], r[3], r[4], r[9] = t.Name, "0", mappingText(t.DBMS), mappingText(t.Table), t.Errors.String()
			}
			tt.Rows = append(tt.Rows, r)
		}
	}
	b.WriteString(tt.String())
	if reasons := rejectTable(c.Status.Partitions); len(reasons.Rows) > 0 {
		b.WriteString(reasons.String())
	}
	var repaired int64
	for _, p := range c.Status.Partitions {
		repaired += p.UTF8Repaired
	}
	if repaired > 0 {
		fmt.Fprintf(b, "     \n     Messages stored with invalid UTF-8 replaced by U+FFFD: %d\n", repaired)
	}
	if detailed || len(c.Status.Partitions) > 0 {
		pt := output.Table{Title: "     \n     Partitions:", Indent: "     ",
			Header: [][]string{{"Topic", "Partition", "Stored offset", "High watermark", "Lag", "Messages", "Rows", "Errors", "p50 ms", "p99 ms", "State"}}}
		for _, p := range c.Status.Partitions {
			state := partitionState(p, diskFull)
			pt.Rows = append(pt.Rows, []string{p.Topic, strconv.Itoa(int(p.Partition)), offText(p.LowWater), offText(p.HighWatermark), lagText(p),
				strconv.FormatInt(p.Messages, 10), strconv.FormatInt(p.Rows, 10), strconv.FormatInt(p.Errors, 10),
				strconv.FormatInt(p.P50.Milliseconds(), 10), strconv.FormatInt(p.P99.Milliseconds(), 10), state})
		}
		b.WriteString(pt.String())
	}
}

// partitionState is a partition's state as get msg client and
// lakenode.partitions show it.
func partitionState(p actors.PartitionCounters, diskFull string) string {
	switch {
	case p.Changed != "":
		return "topic changed: " + p.Changed
	case p.Stopped != "":
		return "stopped " + p.Stopped
	case p.DiskFull && diskFull != "":
		return "paused: " + diskFull
	case p.DiskFull:
		return "paused: disk full"
	case p.Paused:
		return "paused (tables behind)"
	}
	return "consuming"
}

// rejectTable counts a consumer's rejected messages per topic and reason.
func rejectTable(parts []actors.PartitionCounters) output.Table {
	t := output.Table{Title: "     \n     Rejected messages:", Indent: "     ", Header: [][]string{{"Topic", "Reason", "Messages"}}}
	type key struct{ topic, reason string }
	counts := map[key]int64{}
	var keys []key
	for _, p := range parts {
		for r, n := range p.ErrorsBy {
			k := key{p.Topic, r}
			if _, ok := counts[k]; !ok {
				keys = append(keys, k)
			}
			counts[k] += n
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.topic+"\x00"+a.reason, b.topic+"\x00"+b.reason) })
	for _, k := range keys {
		t.Rows = append(t.Rows, []string{k.topic, k.reason, strconv.FormatInt(counts[k], 10)})
	}
	return t
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// lagText shows a partition's lag when it is known, negative too: a stored
// offset beyond the high watermark is never shown as caught up.
func lagText(p actors.PartitionCounters) string {
	if lag, ok := p.KnownLag(); ok {
		return strconv.FormatInt(lag, 10)
	}
	return ""
}

func offText(v int64) string {
	if v < 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

func boolText(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func (n *Node) getMsgBrokers(g *command.Get, opts ExecOptions) Result {
	tbl := output.Table{Indent: "     ", Header: [][]string{{"Broker", "Topic", "Client ID", "Messages", "Success", "Failure"}}}
	var objs []*output.Object
	for _, c := range n.consumerStatuses() {
		totals, _, _, _ := topicTotals(c.Status.Partitions)
		for _, t := range c.Spec.Topics {
			tc := totals[t.Name]
			if tc == nil {
				tc = &topicCount{}
			}
			tbl.Rows = append(tbl.Rows, []string{c.Spec.Broker(), t.Name, strconv.Itoa(c.ID), strconv.FormatInt(tc.msgs, 10), strconv.FormatInt(tc.msgs-tc.errs, 10), strconv.FormatInt(tc.errs, 10)})
			objs = append(objs, (&output.Object{}).Set("Broker", c.Spec.Broker()).Set("Topic", t.Name).Set("Client ID", c.ID).Set("Messages", tc.msgs).Set("Success", tc.msgs-tc.errs).Set("Failure", tc.errs))
		}
	}
	if len(tbl.Rows) == 0 && !g.JSON {
		return text("No message client subscriptions")
	}
	return n.render(g, opts, tbl, objs)
}

func (n *Node) getStreaming(g *command.Get, opts ExecOptions) Result {
	th := n.currentThresholds()
	stats := n.catalog.Stats()
	if g.What == "streaming config" {
		var buffered, flushed int64
		for _, s := range stats {
			buffered += s.PendingRows
			flushed += s.Rows
		}
		tbl := output.Table{Title: "Flush Thresholds", Header: [][]string{{"Threshold", "Value", "Streamer"}}}
		tbl.Rows = [][]string{
			{"Threshold Time", strconv.FormatInt(int64(th.Time/time.Second), 10), "Running"},
			{"Threshold Volume", output.Thousands(th.Volume), ""},
			{"Write Immediate", boolText(th.Time == 0 && th.Volume == 0), ""},
			{"Buffered Rows", strconv.FormatInt(buffered, 10), ""},
			{"Flushed Rows", strconv.FormatInt(flushed, 10), ""},
		}
		obj := (&output.Object{}).Set("status", "Running").Set("Threshold_Time", int64(th.Time/time.Second)).Set("Threshold_Volume", th.Volume).
			Set("Write_Immediate", th.Time == 0 && th.Volume == 0).Set("Buffered_Rows", buffered).Set("Flushed_Rows", flushed)
		return n.render(g, opts, tbl, obj)
	}
	keys := make([]string, 0, len(stats))
	for k := range stats {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	tbl := output.Table{Title: "Statistics",
		Header: [][]string{
			{"", "Put", "Put", "Streaming", "Streaming", "Cached", "Counter", "Threshold", "Buffer", "Threshold", "Time Left", "Last Process"},
			{"DBMS-Table", "files", "Rows", "Calls", "Rows", "Rows", "Immediate", "Volume(KB)", "Fill(%)", "Time(sec)", "(Sec)", "HH:MM:SS"},
		}}
	var objs []*output.Object
	now := time.Now()
	for _, k := range keys {
		s := stats[k]
		fill := 0.0
		if th.Volume > 0 {
			fill = 100 * float64(s.PendingBytes) / float64(th.Volume)
		}
		left := int64(th.Time / time.Second)
		last := ""
		if !s.LastAdd.IsZero() {
			last = hms(now.Sub(s.LastAdd))
		}
		tbl.Rows = append(tbl.Rows, []string{k, "0", "0", strconv.FormatInt(s.Batches, 10), strconv.FormatInt(s.Rows+s.PendingRows, 10),
			strconv.FormatInt(s.PendingRows, 10), strconv.FormatInt(s.Rows, 10), strconv.FormatInt(th.Volume/1000, 10),
			strconv.FormatFloat(fill, 'f', 2, 64), strconv.FormatInt(int64(th.Time/time.Second), 10), strconv.FormatInt(left, 10), last})
		objs = append(objs, (&output.Object{}).Set("table", k).Set("File Put", 0).Set("File Rows", 0).Set("Streaming Put", s.Batches).
			Set("Streaming Rows", s.Rows+s.PendingRows).Set("Streaming Cached", s.PendingRows).Set("Immediate", s.Rows).
			Set("Threshold Volume", th.Volume/1000).Set("% Buffer Fill", fill).Set("Threshold Time", int64(th.Time/time.Second)).
			Set("Time Left", left).Set("Last Process", last))
	}
	return n.render(g, opts, tbl, objs)
}

// splitTableKey cuts a dbms.table key.
func splitTableKey(k string) (string, string) {
	i := strings.IndexByte(k, '.')
	return k[:i], k[i+1:]
}

func (n *Node) getOperator(g *command.Get, opts ExecOptions) Result {
	stats := n.catalog.Stats()
	keys := make([]string, 0, len(stats))
	for k := range stats {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	now := time.Now()
	split := splitTableKey
	var total, errs int64
	var first, last time.Time
	for _, s := range stats {
		total += s.Rows
		errs += s.Errors
		if !s.FirstInsert.IsZero() && (first.IsZero() || s.FirstInsert.Before(first)) {
			first = s.FirstInsert
		}
		if s.LastInsert.After(last) {
			last = s.LastInsert
		}
	}
	switch g.Topic {
	case "summary":
		rate := 0.0
		if !first.IsZero() {
			rate = float64(total) / max(last.Sub(first).Seconds(), 1)
		}
		elapsed := ""
		if !last.IsZero() {
			elapsed = hms(now.Sub(last))
		}
		tbl := output.Table{Title: "Stats: OPERATOR SUMMARY", Header: [][]string{{"Node name", "Status", "Operational time", "Processing time", "Elapsed time", "Total rows", "Total errors", "Avg. rows/sec"}}}
		tbl.Rows = [][]string{{n.cfg.Name, "Active", hms(now.Sub(n.started)), hms(last.Sub(first)), elapsed, strconv.FormatInt(total, 10), strconv.FormatInt(errs, 10), strconv.FormatFloat(rate, 'f', 1, 64)}}
		obj := (&output.Object{}).Set("node name", n.cfg.Name).Set("status", "Active").Set("operational time", hms(now.Sub(n.started))).
			Set("processing time", hms(last.Sub(first))).Set("elapsed time", elapsed).Set("total rows", total).Set("total errors", errs).Set("avg. rows/sec", rate)
		return n.render(g, opts, tbl, obj)
	case "config":
		tbl := output.Table{Title: "Stats: OPERATOR CONFIG", Header: [][]string{{"Status", "Operational time", "Data dir", "Node"}}}
		tbl.Rows = [][]string{{"Active", hms(now.Sub(n.started)), n.cfg.DataDir, n.cfg.Name}}
		obj := (&output.Object{}).Set("status", "Active").Set("operational time", hms(now.Sub(n.started))).Set("data dir", n.cfg.DataDir).Set("node", n.cfg.Name)
		return n.render(g, opts, tbl, obj)
	}
	var b strings.Builder
	var objs []*output.Object
	want := func(t string) bool { return g.Topic == "" || g.Topic == t }
	if want("json") || want("sql") {
		// lakenode has no JSON files nor SQL files: every commit is an
		// "immediate" insert; the blocks are kept for EdgeLake's scripts.
		title := "Stats: OPERATOR JSON"
		if g.Topic == "sql" {
			title = "Stats: OPERATOR SQL"
		}
		tbl := output.Table{Title: title, Header: [][]string{{"DBMS", "Table", "Files", "Immediate", "Timestamp", "Elapsed_time"}}}
		for _, k := range keys {
			s := stats[k]
			d, t := split(k)
			ts, el := "", ""
			if !s.LastInsert.IsZero() {
				ts, el = strconv.FormatInt(s.LastInsert.Unix(), 10), hms(now.Sub(s.LastInsert))
			}
			tbl.Rows = append(tbl.Rows, []string{d, t, "0", strconv.FormatInt(s.Commits, 10), ts, el})
		}
		b.WriteString(tbl.String())
		b.WriteString("\n")
	}
	if want("inserts") {
		tbl := output.Table{Title: "Stats: OPERATOR INSERTS", Header: [][]string{{"DBMS", "Table", "First insert", "Last insert", "Batch inserts", "Immediate inserts", "DBMS Seconds"}}}
		for _, k := range keys {
			s := stats[k]
			d, t := split(k)
			fi, li := "", ""
			if !s.FirstInsert.IsZero() {
				fi, li = hms(now.Sub(s.FirstInsert)), hms(now.Sub(s.LastInsert))
			}
			tbl.Rows = append(tbl.Rows, []string{d, t, fi, li, "0", strconv.FormatInt(s.Rows, 10), strconv.FormatFloat(s.CommitTime.Seconds(), 'f', 3, 64)})
			objs = append(objs, (&output.Object{}).Set("dbms", d).Set("table", t).Set("first insert", s.FirstInsert).Set("last insert", s.LastInsert).
				Set("batch inserts", 0).Set("immediate inserts", s.Rows).Set("commits", s.Commits).Set("dbms seconds", s.CommitTime.Seconds()))
		}
		b.WriteString(tbl.String())
		b.WriteString("\n")
	}
	if want("error") {
		b.WriteString(operatorErrors(stats, keys, now))
	}
	if g.JSON {
		return jsonText(output.JSON(objs, opts.Terminal && !opts.REST))
	}
	return text(b.String())
}

// operatorErrors is get operator's error block: the commit errors of every
// table and the last one.
func operatorErrors(stats map[string]actors.TableCounters, keys []string, now time.Time) string {
	tbl := output.Table{Title: "Stats: OPERATOR ERROR", Header: [][]string{{"Type", "Counter", "Timestamp", "Elapsed time", "Dbms name", "Table name", "Last error text"}}}
	var n2 int64
	var lastK, lastT string
	var lastAt time.Time
	for _, k := range keys {
		s := stats[k]
		n2 += s.Errors
		if s.LastErrorAt.After(lastAt) {
			lastAt, lastK, lastT = s.LastErrorAt, k, s.LastError
		}
	}
	d, t := "", ""
	if lastK != "" {
		d, t = splitTableKey(lastK)
	}
	ts, el := "0", "00:00:00"
	if !lastAt.IsZero() {
		ts, el = output.Thousands(lastAt.Unix()), hms(now.Sub(lastAt))
	}
	tbl.Rows = [][]string{{"Commit Errors", strconv.FormatInt(n2, 10), ts, el, d, t, lastT}}
	return tbl.String()
}

func (n *Node) getDatabases(g *command.Get, opts ExecOptions) Result {
	names := n.store.DBMSs()
	n.dbmsMu.Lock()
	for d := range n.dbms {
		if !slices.Contains(names, d) {
			names = append(names, d)
		}
	}
	n.dbmsMu.Unlock()
	slices.Sort(names)
	tbl := output.Table{Header: [][]string{{"Database", "Tables"}}}
	var objs []*output.Object
	for _, d := range names {
		c := 0
		for _, t := range n.store.Tables() {
			if t.DBMS == d {
				c++
			}
		}
		tbl.Rows = append(tbl.Rows, []string{d, strconv.Itoa(c)})
		objs = append(objs, (&output.Object{}).Set("database", d).Set("tables", c))
	}
	return n.render(g, opts, tbl, objs)
}

func timeRange(t *schema.Table, st tables.TableStats) (string, string) {
	if !st.HasTime {
		return "", ""
	}
	f := func(us int64) string { return time.UnixMicro(us).UTC().Format(schema.TimestampLayout) }
	return f(st.MinTime), f(st.MaxTime)
}

func (n *Node) getTables(g *command.Get, opts ExecOptions) Result {
	dbms := g.Where["dbms"]
	tbl := output.Table{Header: [][]string{{"Database", "Table name", "Rows", "Sealed", "Size on disk", "Time column", "From", "To", "Retention"}}}
	var objs []*output.Object
	for _, t := range n.store.Tables() {
		if dbms != "*" && t.DBMS != dbms {
			continue
		}
		st := n.store.Stats(t)
		// Of the rows, those in sealed column blocks: a node whose seal
		// keeps up holds only the last --seal-after's rows as rows.
		sealed, _, err := n.store.SealedRows(t)
		if err != nil {
			return failf("get tables: %v", err)
		}
		from, to := timeRange(t, st)
		tc := t.Columns[t.TimeColumn].Name
		keep := "forever"
		if t.Retention > 0 {
			keep = t.Retention.String()
		}
		tbl.Rows = append(tbl.Rows, []string{t.DBMS, t.Name, strconv.FormatInt(st.Rows, 10), strconv.FormatInt(sealed, 10), output.Thousands(int64(st.DiskBytes)), tc, from, to, keep})
		objs = append(objs, (&output.Object{}).Set("dbms", t.DBMS).Set("table", t.Name).Set("rows", st.Rows).Set("sealed_rows", sealed).Set("bytes", st.DiskBytes).Set("time_column", tc).Set("from", from).Set("to", to).Set("retention", keep))
	}
	if len(objs) == 0 && !g.JSON {
		return text(fmt.Sprintf("No tables in dbms %s", dbms))
	}
	return n.render(g, opts, tbl, objs)
}

func (n *Node) getColumns(g *command.Get, opts ExecOptions) Result {
	t, ok := n.store.Table(g.Where["dbms"], g.Where["table"])
	if !ok {
		return failf("table %s.%s does not exist%s", g.Where["dbms"], g.Where["table"], n.suggestTable(g.Where["dbms"], g.Where["table"]))
	}
	tbl := output.Table{Title: fmt.Sprintf("Schema for DBMS: '%s' and Table: '%s'", t.DBMS, t.Name), Header: [][]string{{"Column Name", "Column Type"}}}
	obj := &output.Object{}
	for _, c := range t.Columns {
		tbl.Rows = append(tbl.Rows, []string{c.Name, c.Type.SQLName()})
		obj.Set(c.Name, c.Type.SQLName())
	}
	return n.render(g, opts, tbl, obj)
}

func (n *Node) suggestTable(dbms, name string) string {
	var names []string
	for _, t := range n.store.Tables() {
		names = append(names, t.FullName())
	}
	if s := schema.Closest(dbms+"."+name, names); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}

func (n *Node) getRowsCount(g *command.Get, opts ExecOptions) Result {
	dbms, table := g.Where["dbms"], g.Where["table"]
	tbl := output.Table{Header: [][]string{{"DBMS", "Table", "Rows"}}}
	objs := []*output.Object{}
	for _, t := range n.store.Tables() {
		if (dbms != "" && dbms != "*" && t.DBMS != dbms) || (table != "" && t.Name != table) {
			continue
		}
		rows := n.store.Stats(t).Rows
		tbl.Rows = append(tbl.Rows, []string{t.DBMS, t.Name, strconv.FormatInt(rows, 10)})
		objs = append(objs, (&output.Object{}).Set("dbms", t.DBMS).Set("table", t.Name).Set("rows", rows))
	}
	if len(objs) == 0 && !g.JSON {
		if table != "" {
			return failf("table %s.%s does not exist%s", dbms, table, n.suggestTable(dbms, table))
		}
		return text("No tables")
	}
	return n.render(g, opts, tbl, objs)
}

func reasonsObject(m map[string]int64) *output.Object {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	o := &output.Object{}
	for _, k := range keys {
		o.Set(k, m[k])
	}
	return o
}

func (n *Node) getErrorLog(g *command.Get, opts ExecOptions) Result {
	entries := n.errLog.list()
	// The latest rejected message of each partition is an error too.
	for _, c := range n.consumerStatuses() {
		for _, p := range c.Status.Partitions {
			if p.Errors > 0 {
				entries = append(entries, errorEntry{At: p.LastError, Kind: "message",
					Text: fmt.Sprintf("consumer %d, %s[%d]: %s (%d rejected so far)", c.ID, p.Topic, p.Partition, p.LastErrorText, p.Errors)})
			}
		}
	}
	slices.SortStableFunc(entries, func(a, b errorEntry) int { return a.At.Compare(b.At) })
	tbl := output.Table{Header: [][]string{{"Time", "Kind", "Error"}}}
	var objs []*output.Object
	for _, e := range entries {
		tbl.Rows = append(tbl.Rows, []string{clock(e.At), e.Kind, e.Text})
		objs = append(objs, (&output.Object{}).Set("time", e.At).Set("kind", e.Kind).Set("text", e.Text))
	}
	if len(entries) == 0 && !g.JSON {
		return text("No errors")
	}
	return n.render(g, opts, tbl, objs)
}
