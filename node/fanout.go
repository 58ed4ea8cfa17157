package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors/actorpb"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// defaultMaxTime bounds how long run client () waits for a node.
const defaultMaxTime = 20 * time.Second

// maxTimeHeader is the message header of a PartialRequest that carries how
// long (µs) the asking node waits for the answer, so that the share stops
// when nobody waits for it any more (a duration, not a time: clocks differ).
const maxTimeHeader = "lakenode-max-time-us"

// partialMaxTime reads maxTimeHeader; defaultMaxTime when it is missing.
func partialMaxTime(h actor.ReadonlyMessageHeader) time.Duration {
	if h != nil {
		if us, err := strconv.ParseInt(h.Get(maxTimeHeader), 10, 64); err == nil && us > 0 {
			return time.Duration(us) * time.Microsecond
		}
	}
	return defaultMaxTime
}

// requestPartial sends a PartialRequest with the time its asker waits.
func (n *Node) requestPartial(pid *actor.PID, req *actorpb.PartialRequest, maxTime time.Duration) (any, error) {
	f := actor.NewFuture(n.sys, maxTime)
	n.sys.Root.Send(pid, &actor.MessageEnvelope{
		Header:  map[string]string{maxTimeHeader: strconv.FormatInt(maxTime.Microseconds(), 10)},
		Message: req,
		Sender:  f.PID(),
	})
	return f.Result()
}

// partialFor answers a PartialRequest: this node's share of a query. ctx
// ends when the asking node cancels its query or goes away.
func (n *Node) partialFor(ctx context.Context, m *actorpb.PartialRequest) *actorpb.PartialReply {
	n.remoteRuns.partials.Add(1)
	defer n.remoteRuns.partials.Add(-1)
	start := time.Now()
	rep := &actorpb.PartialReply{Node: n.cfg.Name}
	defer func() { rep.ElapsedUs = time.Since(start).Microseconds() }()
	table, err := lsql.TableOf(m.Query)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	if _, ok := n.store.Table(m.Dbms, table); !ok {
		rep.NoTable = true
		return rep
	}
	lopt := lsql.Options{Now: time.UnixMicro(m.Now)}
	if m.PeriodProbe {
		a, _, err := lsql.PeriodLast(ctx, n.store, m.Dbms, m.Query, lopt)
		if err != nil {
			rep.Error = err.Error()
		}
		rep.PeriodFound, rep.PeriodLast = a.Found, a.Last
		return rep
	}
	if m.PeriodSet {
		lopt.PeriodAnchor = &lsql.PeriodAnchor{Found: m.PeriodFound, Last: m.PeriodLast}
	}
	if m.Since {
		lopt.Commits = n.localRange(m.Dbms, table, m.CommitsAfter)
		rep.CommitsUpto = lopt.Commits.UpTo
	}
	prep, err := lsql.Prepare(ctx, n.store, m.Dbms, m.Query, lopt)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	pt, err := prep.Partial(ctx, n.store)
	if err != nil {
		rep.Error = err.Error()
		if ctx.Err() != nil {
			n.log.Info("query share canceled", "dbms", m.Dbms, "query", clip(m.Query, 200), "why", context.Cause(ctx), "after", time.Since(start).Round(time.Millisecond), "err", err)
		}
		return rep
	}
	return encodePartial(rep, pt, prep)
}

func encodeValue(v schema.Value) []byte { return tables.AppendValues(nil, []schema.Value{v}) }

func decodeValue(b []byte) (schema.Value, error) {
	r, err := tables.DecodeValues(b, 1)
	if err != nil {
		return schema.Null, err
	}
	return r[0], nil
}

func encodePartial(rep *actorpb.PartialReply, pt *lsql.Partial, prep *lsql.Prepared) *actorpb.PartialReply {
	rep.Scanned = pt.Scanned
	rep.Ncols, rep.Nout = int32(prep.TableColumns()), int32(prep.Columns())
	for _, g := range pt.Groups {
		pg := &actorpb.PartialGroup{Key: []byte(g.Key), First: tables.AppendValues(nil, g.First)}
		for _, s := range g.States {
			st := &actorpb.AggState{N: s.N, SumI: s.SumI, SumF: s.SumF, IsFloat: s.IsFloat, Min: encodeValue(s.Min), Max: encodeValue(s.Max)}
			for d := range s.Distinct {
				st.Distinct = append(st.Distinct, []byte(d))
			}
			pg.States = append(pg.States, st)
		}
		rep.Groups = append(rep.Groups, pg)
	}
	for _, r := range pt.Rows {
		rep.Rows = append(rep.Rows, &actorpb.PartialRow{Vals: tables.AppendValues(nil, r.Vals), Keys: tables.AppendValues(nil, r.Keys), Nkeys: int32(len(r.Keys))})
	}
	return rep
}

func decodePartial(rep *actorpb.PartialReply) (*lsql.Partial, error) {
	pt := &lsql.Partial{Scanned: rep.Scanned}
	for _, g := range rep.Groups {
		first, err := tables.DecodeValues(g.First, int(rep.Ncols))
		if err != nil {
			return nil, err
		}
		pg := lsql.PartialGroup{Key: string(g.Key), First: first}
		for _, s := range g.States {
			st := lsql.AggState{N: s.N, SumI: s.SumI, SumF: s.SumF, IsFloat: s.IsFloat}
			if st.Min, err = decodeValue(s.Min); err != nil {
				return nil, err
			}
			if st.Max, err = decodeValue(s.Max); err != nil {
				return nil, err
			}
			if len(s.Distinct) > 0 {
				st.Distinct = make(map[string]struct{}, len(s.Distinct))
				for _, d := range s.Distinct {
					st.Distinct[string(d)] = struct{}{}
				}
			}
			pg.States = append(pg.States, st)
		}
		pt.Groups = append(pt.Groups, pg)
	}
	for _, r := range rep.Rows {
		vals, err := tables.DecodeValues(r.Vals, int(rep.Nout))
		if err != nil {
			return nil, err
		}
		keys, err := tables.DecodeValues(r.Keys, int(r.Nkeys))
		if err != nil {
			return nil, err
		}
		pt.Rows = append(pt.Rows, lsql.PartialRow{Vals: vals, Keys: keys})
	}
	return pt, nil
}

// clusterQuery is `run client () sql ...`: a partial plan on every node
// hosting the table (this one and the live peers of the seed list), merged
// here. If this node does not host the table, a peer that does coordinates.
func (n *Node) clusterQuery(ctx context.Context, rc *command.RunClient, q *command.SQL, opts ExecOptions) Result {
	if strings.HasPrefix(q.Options.Dest, "kafka@") && q.Options.Format != "json:output" {
		return failf("dest = %s sends one message per row: use format = json:output", q.Options.Dest)
	}
	table, err := lsql.TableOf(q.Query)
	if err != nil {
		var se *lsql.Error
		if errors.As(err, &se) {
			return fail(&sqlError{err: se, line: q})
		}
		return fail(err)
	}
	hosts, lost := n.tableHosts(q.DBMS, table)
	_, local := n.store.Table(q.DBMS, table)
	if !local {
		if len(hosts) == 0 {
			if len(lost) > 0 {
				return failf("run client (): table %s.%s is only on nodes that stopped answering: %v", q.DBMS, table, memberNames(lost))
			}
			return failf("run client (): no node hosts table %s.%s", q.DBMS, table)
		}
		// Let a node that hosts the table coordinate.
		id := n.requestID()
		rep, err := n.ask(ctx, actor.NewPID(hosts[0].address, CommandActorName), &actorpb.CommandRequest{Line: "run client () " + rc.Command, Terminal: opts.Terminal && !opts.REST, Job: opts.Job, Id: id}, id, defaultMaxTime+5*time.Second)
		if ctx.Err() != nil {
			return failf("query canceled")
		}
		if err != nil {
			return failf("run client (): node %s did not answer: %v", hosts[0].name, err)
		}
		cr, ok := rep.(*actorpb.CommandReply)
		if !ok {
			return internal(fmt.Errorf("run client (): unexpected reply %T", rep))
		}
		if cr.Error != "" {
			return Result{Err: errors.New(cr.Error), Notices: cr.Notices, Internal: cr.Internal}
		}
		return Result{Text: cr.Text, JSON: cr.Json, Notices: cr.Notices}
	}
	if len(hosts) == 0 && len(lost) == 0 {
		return n.runSQL(ctx, q, opts)
	}
	var sx *sinceExport
	if q.Options.SinceLast {
		if sx, err = n.openSince(ctx, q, opts); err != nil {
			return fail(err)
		}
		defer sx.close()
	}
	maxTime := q.Options.MaxTime
	if maxTime <= 0 {
		maxTime = defaultMaxTime
	}
	if rc.Timeout > 0 {
		maxTime = rc.Timeout
	}
	start := time.Now()
	sq := scatterQuery{dbms: q.DBMS, query: q.Query, table: table, hosts: hosts, lost: lost, subset: rc.Subset, maxTime: maxTime, now: start, sx: sx}
	if !strings.HasPrefix(q.Options.Dest, "kafka@") && !streamable(q.Options.Format, q.Options.Dest, opts) {
		// This node's share of a reply built whole stops at the cap; the
		// merged answer is checked when it is rendered.
		sq.maxRows = n.cfg.MaxResultRows
	}
	res, stats, err := n.scatter(ctx, sq)
	if err != nil {
		var se *lsql.Error
		var tm *lsql.TooManyRowsError
		switch {
		case errors.As(err, &se):
			return fail(&sqlError{err: se, line: q})
		case errors.As(err, &tm):
			return tooManyRows(tm.Max, q.Options.Format)
		case ctx.Err() != nil:
			return failf("query canceled")
		case errors.Is(err, context.DeadlineExceeded):
			return failf("run client (): this node's share ran longer than %v (max_time or timeout)", maxTime)
		}
		return fail(err)
	}
	if len(stats.missing) > 0 {
		res.Notices = append(res.Notices, fmt.Sprintf("partial answer: no reply from %v", stats.missing))
	}
	return n.renderSQL(ctx, q, res, start, stats, opts, sx)
}

// scatterQuery is one run client () query.
type scatterQuery struct {
	dbms, query, table string
	hosts, lost        []*member // live peers hosting the table; lost ones
	subset             bool
	maxTime            time.Duration
	now                time.Time
	sx                 *sinceExport
	maxRows            int64 // Options.MaxRows of this node's share
}

// scatter sends each host the query's partial plan, runs it here too, and
// merges the partials. SQL errors come back as *lsql.Error.
func (n *Node) scatter(ctx context.Context, sq scatterQuery) (*lsql.Result, clusterStats, error) {
	hosts, sx, maxTime, start := sq.hosts, sq.sx, sq.maxTime, sq.now
	lopt := lsql.Options{Now: start, MaxRows: sq.maxRows}
	if sx != nil {
		lopt.Commits = n.localRange(sq.dbms, sq.table, sx.last[n.cfg.Name])
	}
	qctx, cancel := context.WithTimeout(ctx, maxTime)
	defer cancel()
	// period() counts back from the latest time over every node, not from
	// each node's own.
	anchor, err := n.clusterPeriodAnchor(qctx, sq.dbms, sq.query, hosts, start, maxTime)
	if err != nil {
		return nil, clusterStats{}, err
	}
	lopt.PeriodAnchor = anchor
	prep, err := lsql.Prepare(qctx, n.store, sq.dbms, sq.query, lopt)
	if err != nil {
		return nil, clusterStats{}, err
	}
	type answer struct {
		name string
		pt   *lsql.Partial
		err  error
		upto uint64 // since = last: the last commit the answer covers
		took time.Duration
	}
	answers := make([]answer, len(hosts)+1, len(hosts)+1+len(sq.lost))
	for _, m := range sq.lost {
		answers = append(answers, answer{name: m.name, err: fmt.Errorf("no heartbeat since %s", m.lastSeen.UTC().Format(time.TimeOnly))})
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t0 := time.Now()
		pt, err := prep.Partial(qctx, n.store)
		answers[0] = answer{name: n.cfg.Name, pt: pt, err: err, took: time.Since(t0)}
		if lopt.Commits != nil {
			answers[0].upto = lopt.Commits.UpTo
		}
	}()
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := answer{name: h.name}
			req := &actorpb.PartialRequest{Dbms: sq.dbms, Query: sq.query, Now: start.UnixMicro(), Id: n.requestID()}
			if anchor != nil {
				req.PeriodSet, req.PeriodFound, req.PeriodLast = true, anchor.Found, anchor.Last
			}
			if sx != nil {
				req.Since, req.CommitsAfter = true, sx.last[h.name]
			}
			// Canceled or past max_time here: the host stops its share too.
			res, err := n.ask(qctx, actor.NewPID(h.address, CommandActorName), req, req.Id, maxTime)
			switch rep, ok := res.(*actorpb.PartialReply); {
			case err != nil:
				a.err = fmt.Errorf("no answer within %v", maxTime)
			case !ok:
				a.err = fmt.Errorf("unexpected reply %T", res)
			case rep.Error != "":
				a.err = errors.New(rep.Error)
			case rep.NoTable:
				a.pt = &lsql.Partial{}
			default:
				a.pt, a.err = decodePartial(rep)
				a.upto = rep.CommitsUpto
				a.took = time.Duration(rep.ElapsedUs) * time.Microsecond
			}
			answers[i+1] = a
		}()
	}
	wg.Wait()
	if answers[0].err != nil {
		// This node's own share failed: the query itself is at fault
		// (or was canceled).
		return nil, clusterStats{}, answers[0].err
	}
	var parts []*lsql.Partial
	var missing, why []string
	var times []output.NodeTime
	for _, a := range answers {
		if a.err != nil {
			missing = append(missing, a.name)
			why = append(why, a.name+": "+a.err.Error())
			continue
		}
		parts = append(parts, a.pt)
		times = append(times, output.NodeTime{Name: a.name, Elapsed: a.took})
		if sx != nil && a.upto > 0 {
			sx.next[a.name] = a.upto
		}
	}
	if len(missing) > 0 && !sq.subset {
		return nil, clusterStats{}, fmt.Errorf("run client (): %d of %d nodes did not answer (%s); add subset = true inside the parentheses to accept a partial answer", len(missing), len(answers), strings.Join(why, "; "))
	}
	res, err := prep.Merge(qctx, parts)
	if err != nil {
		return nil, clusterStats{}, err
	}
	return res, clusterStats{nodes: len(parts), target: len(answers), missing: missing, times: times}, nil
}

// QueryCluster runs query the way `run client () sql DBMS "query"` does
// (every live node hosting the table, merged here), with now() = now, and
// returns the merged answer. This node must host the table. It is the entry
// point of the cluster's SQL behaviour tests.
func (n *Node) QueryCluster(ctx context.Context, dbms, query string, now time.Time) (*lsql.Result, error) {
	table, err := lsql.TableOf(query)
	if err != nil {
		return nil, err
	}
	hosts, lost := n.tableHosts(dbms, table)
	res, _, err := n.scatter(ctx, scatterQuery{dbms: dbms, query: query, table: table, hosts: hosts, lost: lost, maxTime: defaultMaxTime, now: now})
	return res, err
}

// clusterPeriodAnchor returns, for a query with period(), the latest of the
// anchors of this node and the hosts (nil without period()). Hosts that do
// not answer are left out here; the query proper reports them.
func (n *Node) clusterPeriodAnchor(ctx context.Context, dbms, query string, hosts []*member, start time.Time, maxTime time.Duration) (*lsql.PeriodAnchor, error) {
	if !strings.Contains(strings.ToLower(query), "period") {
		return nil, nil
	}
	a, has, err := lsql.PeriodLast(ctx, n.store, dbms, query, lsql.Options{Now: start})
	if err != nil || !has {
		return nil, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := n.requestPartial(actor.NewPID(h.address, CommandActorName),
				&actorpb.PartialRequest{Dbms: dbms, Query: query, Now: start.UnixMicro(), PeriodProbe: true}, maxTime)
			rep, ok := res.(*actorpb.PartialReply)
			if err != nil || !ok || rep.Error != "" || !rep.PeriodFound {
				return
			}
			mu.Lock()
			if !a.Found || rep.PeriodLast > a.Last {
				a.Found, a.Last = true, rep.PeriodLast
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &a, nil
}

// tableHosts returns the live peers hosting dbms.table, and the lost ones
// (stopped answering without leaving): their rows are unavailable, and the
// answer says so.
func (n *Node) tableHosts(dbms, table string) (hosts, lost []*member) {
	for _, m := range n.livePeers() {
		if m.hosts(dbms, table) {
			hosts = append(hosts, m)
		}
	}
	for _, m := range n.lostPeers() {
		if m.hosts(dbms, table) {
			lost = append(lost, m)
		}
	}
	return hosts, lost
}

func memberNames(ms []*member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.name
	}
	return out
}

type clusterStats struct {
	nodes, target int
	missing       []string
	times         []output.NodeTime
}
