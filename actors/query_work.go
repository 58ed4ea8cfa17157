package actors

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/lakenode/lakenode/actors/actorpb"
	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// LocalQuery answers a query from this node's store alone, whole.
type LocalQuery struct {
	Store   *tables.Store
	DBMS    string
	Query   string
	Options lsql.Options

	Result *lsql.Result // the answer, when the query succeeded
}

func (q *LocalQuery) target() (string, string) { return q.DBMS, q.Query }

func (q *LocalQuery) run(ctx context.Context, _ *queryEnv) error {
	res, err := lsql.Query(ctx, q.Store, q.DBMS, q.Query, q.Options)
	if err == nil {
		// An answer found just as the deadline ran out is not given.
		err = ctx.Err()
	}
	q.Result = res
	return err
}

// StreamQuery answers a query from this node's store and hands each answer
// row to Emit as the scan produces it (lsql.Prepared.Stream).
type StreamQuery struct {
	Store   *tables.Store
	DBMS    string
	Query   string
	Options lsql.Options
	// Prepared is called once the query is planned, before the first row,
	// with its column names and notices; Typed, when set instead, also with
	// the columns' types (lsql.Prepared.ColumnTypes).
	Prepared func(columns, notices []string)
	Typed    func(columns []string, types []schema.Type, notices []string)
	// Emit takes each row; it must not keep it.
	Emit func(schema.Row) error

	Rows, Scanned int64 // rows emitted and scanned
}

func (q *StreamQuery) target() (string, string) { return q.DBMS, q.Query }

func (q *StreamQuery) run(ctx context.Context, _ *queryEnv) error {
	prep, err := lsql.Prepare(ctx, q.Store, q.DBMS, q.Query, q.Options)
	if err != nil {
		return err
	}
	if q.Typed != nil {
		q.Typed(prep.ColumnNames(), prep.ColumnTypes(), prep.Notices())
	} else {
		q.Prepared(prep.ColumnNames(), prep.Notices())
	}
	q.Rows, q.Scanned, err = prep.Stream(ctx, q.Store, q.Emit)
	return err
}

// ShareQuery is this node's share of another node's run client () query:
// the partial answer to a PartialRequest.
type ShareQuery struct {
	Store *tables.Store
	Node  string // this node's name
	Req   *actorpb.PartialRequest

	Reply *actorpb.PartialReply // always set when the work returns
}

func (q *ShareQuery) target() (string, string) { return q.Req.Dbms, q.Req.Query }

// run answers the request; a failure is in the reply, for the asker.
func (q *ShareQuery) run(ctx context.Context, env *queryEnv) error {
	start := time.Now()
	m := q.Req
	rep := &actorpb.PartialReply{Node: q.Node}
	q.Reply = rep
	defer func() { rep.ElapsedUs = time.Since(start).Microseconds() }()
	table, err := lsql.TableOf(m.Query)
	if err != nil {
		rep.Error = err.Error()
		return nil
	}
	if _, ok := q.Store.Table(m.Dbms, table); !ok {
		rep.NoTable = true
		return nil
	}
	lopt := lsql.Options{Now: time.UnixMicro(m.Now)}
	if m.PeriodProbe {
		a, _, err := lsql.PeriodLast(ctx, q.Store, m.Dbms, m.Query, lopt)
		if err != nil {
			rep.Error = err.Error()
		}
		rep.PeriodFound, rep.PeriodLast = a.Found, a.Last
		return nil
	}
	if m.PeriodSet {
		lopt.PeriodAnchor = &lsql.PeriodAnchor{Found: m.PeriodFound, Last: m.PeriodLast}
	}
	if m.Since {
		lopt.Commits = LocalCommits(q.Store, m.Dbms, table, m.CommitsAfter)
		rep.CommitsUpto = lopt.Commits.UpTo
	}
	prep, err := lsql.Prepare(ctx, q.Store, m.Dbms, m.Query, lopt)
	if err != nil {
		rep.Error = err.Error()
		return nil
	}
	pt, err := prep.Partial(ctx, q.Store)
	if err != nil {
		rep.Error = err.Error()
		if ctx.Err() != nil {
			env.log.Info("query share canceled", "dbms", m.Dbms, "query", ClipText(m.Query, 200), "why", context.Cause(ctx), "after", time.Since(start).Round(time.Millisecond), "err", err)
		}
		return nil
	}
	encodePartial(rep, pt, prep)
	return nil
}

// LocalCommits is this node's share of a since = last run: the commits of
// the table after the job's last entry for this node, up to the current
// one.
func LocalCommits(store *tables.Store, dbms, table string, after uint64) *lsql.CommitRange {
	var upto uint64
	if t, ok := store.Table(dbms, table); ok {
		upto = store.Stats(t).Seq
	}
	if upto < after {
		// The table was dropped and created again: its commits start over.
		after = 0
	}
	return &lsql.CommitRange{After: after, UpTo: upto}
}

// ClipText shortens s to about limit bytes (whole UTF-8 characters) for a
// log line or a listing.
func ClipText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Encoding of partial answers between nodes.

func encodeValue(v schema.Value) []byte { return tables.AppendValues(nil, []schema.Value{v}) }

func decodeValue(b []byte) (schema.Value, error) {
	r, err := tables.DecodeValues(b, 1)
	if err != nil {
		return schema.Null, err
	}
	return r[0], nil
}

func encodePartial(rep *actorpb.PartialReply, pt *lsql.Partial, prep *lsql.Prepared) {
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
}

func decodeState(s *actorpb.AggState) (lsql.AggState, error) {
	st := lsql.AggState{N: s.N, SumI: s.SumI, SumF: s.SumF, IsFloat: s.IsFloat}
	var err error
	if st.Min, err = decodeValue(s.Min); err != nil {
		return st, err
	}
	if st.Max, err = decodeValue(s.Max); err != nil {
		return st, err
	}
	if len(s.Distinct) > 0 {
		st.Distinct = make(map[string]struct{}, len(s.Distinct))
		for _, d := range s.Distinct {
			st.Distinct[string(d)] = struct{}{}
		}
	}
	return st, nil
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
			st, err := decodeState(s)
			if err != nil {
				return nil, err
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
