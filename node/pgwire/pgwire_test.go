package pgwire

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// storeEngine answers from one store with lakenode's SQL engine. Describe
// runs the query and takes the first row's types (the node's engine plans
// them); a query on table `slow` waits until it is canceled.
type storeEngine struct {
	store *tables.Store
}

func (e *storeEngine) Query(ctx context.Context, q Query, w RowWriter) error {
	if strings.Contains(q.SQL, "from slow") {
		<-ctx.Done()
		return ctx.Err()
	}
	if strings.Contains(q.SQL, "from endless") {
		// Rows of 1 KiB until the writer fails (the client went) or the
		// query is canceled.
		if err := w.Columns([]Column{{Name: "s", Type: schema.TypeString}}); err != nil {
			return err
		}
		row := schema.Row{schema.Str(strings.Repeat("x", 1024))}
		for ctx.Err() == nil {
			if err := w.Row(row); err != nil {
				return err
			}
		}
		return ctx.Err()
	}
	p, err := lsql.Prepare(ctx, e.store, q.DBMS, q.SQL, lsql.Options{Now: q.Now})
	if err != nil {
		return err
	}
	names := p.ColumnNames()
	sent := false
	send := func(r schema.Row) error {
		if !sent {
			sent = true
			cols := make([]Column, len(names))
			for i, n := range names {
				cols[i] = Column{Name: n, Type: r[i].Type}
			}
			if err := w.Columns(cols); err != nil {
				return err
			}
		}
		return w.Row(r)
	}
	if _, _, err := p.Stream(ctx, e.store, send); err != nil {
		return err
	}
	if !sent {
		// No row to take types from: a column named as one of the
		// table's has its type.
		types := map[string]schema.Type{}
		for _, t := range e.store.Tables() {
			for _, c := range t.Columns {
				types[c.Name] = c.Type
			}
		}
		cols := make([]Column, len(names))
		for i, n := range names {
			cols[i] = Column{Name: n, Type: types[n]}
		}
		return w.Columns(cols)
	}
	return nil
}

func (e *storeEngine) Describe(ctx context.Context, q Query) ([]Column, error) {
	b := &bufferedRows{}
	if err := e.Query(ctx, q, b); err != nil {
		return nil, err
	}
	return b.cols, nil
}

func (e *storeEngine) Databases(context.Context) ([]string, error) { return []string{"lsl_demo"}, nil }

func (e *storeEngine) Tables(_ context.Context, dbms string) ([]TableInfo, error) {
	var out []TableInfo
	for _, t := range e.store.Tables() {
		if t.DBMS != dbms {
			continue
		}
		ti := TableInfo{Name: t.Name}
		for _, c := range t.Columns {
			ti.Columns = append(ti.Columns, Column{Name: c.Name, Type: c.Type})
		}
		out = append(out, ti)
	}
	return out, nil
}

func (e *storeEngine) Version() string { return "test" }

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// startServer serves a store with a table ping_sensor of three rows.
func startServer(t *testing.T, cfg Config) string {
	t.Helper()
	addr, _ := startServerSrv(t, cfg)
	return addr
}

func startServerSrv(t *testing.T, cfg Config) (string, *Server) {
	t.Helper()
	st := tablestest.Open(t)
	cols := []schema.Column{{Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "device_name", Type: schema.TypeString}, {Name: "value", Type: schema.TypeFloat}, {Name: "ok", Type: schema.TypeBool}}
	var rows [][]schema.Value
	for i, d := range []string{"alpha", "beta", "gamma"} {
		rows = append(rows, []schema.Value{{Type: schema.TypeTimestamp, I: t0.Add(time.Duration(i) * time.Minute).UnixMicro()}, schema.Str(d), schema.Float(float64(i) + 0.5), schema.Bool(i != 1)})
	}
	tablestest.Load(t, st, "lsl_demo", "ping_sensor", cols, rows)
	cfg.Engine = &storeEngine{store: st}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String(), srv
}

func connect(t *testing.T, addr, extra string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://tester@"+addr+"/lsl_demo?sslmode=disable"+extra)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestQueryBothProtocols(t *testing.T) {
	addr := startServer(t, Config{})
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			c := connect(t, addr, "")
			rows, err := c.Query(ctx, `select "device_name", value, timestamp, ok from ping_sensor where value > $1 order by value`, mode, 1.0)
			if err != nil {
				t.Fatal(err)
			}
			type rec struct {
				Dev string
				V   float64
				TS  time.Time
				OK  bool
			}
			got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rec, error) {
				var x rec
				err := r.Scan(&x.Dev, &x.V, &x.TS, &x.OK)
				return x, err
			})
			if err != nil {
				t.Fatal(err)
			}
			want := []rec{{"beta", 1.5, t0.Add(time.Minute), false}, {"gamma", 2.5, t0.Add(2 * time.Minute), true}}
			if len(got) != len(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			for i := range want {
				if got[i].Dev != want[i].Dev || got[i].V != want[i].V || !got[i].TS.Equal(want[i].TS) || got[i].OK != want[i].OK {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
			if tag := rows.CommandTag().String(); tag != "SELECT 2" {
				t.Errorf("command tag %q, want SELECT 2", tag)
			}
		})
	}
}

func TestSessionStatements(t *testing.T) {
	addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "")
	var v, db string
	if err := c.QueryRow(ctx, "select version(), current_database()").Scan(&v, &db); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "PostgreSQL 16.4 (lakenode test)") || db != "lsl_demo" {
		t.Errorf("version() %q, current_database() %q", v, db)
	}
	for _, st := range []string{"SET application_name = 'grafana'", "SET TIME ZONE 'Europe/Berlin'", "BEGIN", "COMMIT", "SET extra_float_digits = 3", "DISCARD ALL"} {
		if _, err := c.Exec(ctx, st); err != nil {
			t.Errorf("%s: %v", st, err)
		}
	}
	var tz, app string
	if err := c.QueryRow(ctx, "show timezone", pgx.QueryExecModeSimpleProtocol).Scan(&tz); err != nil || tz != "Europe/Berlin" {
		t.Errorf("show timezone: %q %v", tz, err)
	}
	if err := c.QueryRow(ctx, "show application_name", pgx.QueryExecModeSimpleProtocol).Scan(&app); err != nil || app != "grafana" {
		t.Errorf("show application_name: %q %v", app, err)
	}
	// TimeZone drives how timestamps print in text format.
	var ts string
	if err := c.QueryRow(ctx, "select timestamp from ping_sensor where device_name = 'alpha'", pgx.QueryExecModeSimpleProtocol).Scan(&ts); err != nil || ts != "2026-12-01 11:00:00+01" {
		t.Errorf("timestamp in Europe/Berlin: %q %v", ts, err)
	}
}

func TestErrors(t *testing.T) {
	addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "")
	for _, tc := range []struct {
		sql, code string
		pos       int32
	}{
		{"insert into ping_sensor values (1)", codeReadOnly, 0},
		{"select * from nosuch", codeUndefinedTable, 15},
		{"select nosuch from ping_sensor", codeUndefinedCol, 8},
		{"select * from pg_catalog.pg_class", codeNotSupported, 0},
		{"listen x", codeNotSupported, 0},
		{"select 'unterminated from ping_sensor", codeSyntax, 8},
	} {
		_, err := c.Exec(ctx, tc.sql, pgx.QueryExecModeSimpleProtocol)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != tc.code || (tc.pos != 0 && pe.Position != tc.pos) {
			t.Errorf("%s: %v (position %d), want SQLSTATE %s at %d", tc.sql, err, posOf(pe), tc.code, tc.pos)
		}
	}
	// The session goes on after errors.
	var n int64
	if err := c.QueryRow(ctx, "select count(*) from ping_sensor").Scan(&n); err != nil || n != 3 {
		t.Errorf("count after errors: %d %v", n, err)
	}
}

func posOf(pe *pgconn.PgError) int32 {
	if pe == nil {
		return -1
	}
	return pe.Position
}

func TestPasswords(t *testing.T) {
	for _, scram := range []bool{false, true} {
		name := "cleartext on loopback"
		if scram {
			name = "scram"
		}
		t.Run(name, func(t *testing.T) {
			addr := startServerAuth(t, scram)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := pgx.Connect(ctx, "postgres://tester:s3cret-token@"+addr+"/lsl_demo?sslmode=disable")
			if err != nil {
				t.Fatalf("right token: %v", err)
			}
			_ = c.Close(ctx)
			_, err = pgx.Connect(ctx, "postgres://tester:wrong@"+addr+"/lsl_demo?sslmode=disable")
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != codeInvalidPass || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("wrong token: %v, want SQLSTATE %s", err, codeInvalidPass)
			}
		})
	}
}

func startServerAuth(t *testing.T, scram bool) string {
	t.Helper()
	cfg := Config{Token: []byte("s3cret-token")}
	if scram {
		cfg.treatAsRemote = true
	}
	return startServer(t, cfg)
}

func TestCancel(t *testing.T) {
	addr := startServer(t, Config{})
	c := connect(t, addr, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(ctx, "select * from slow", pgx.QueryExecModeSimpleProtocol)
		errc <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := c.PgConn().CancelRequest(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != codeCanceled {
				t.Fatalf("canceled query: %v, want SQLSTATE %s", err, codeCanceled)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the query was not canceled")
		}
	}
}

func TestStartupRefusals(t *testing.T) {
	addr := startServer(t, Config{MaxConns: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := pgx.Connect(ctx, "postgres://tester@"+addr+"/?sslmode=disable&database=")
	if err == nil {
		t.Error("a start-up without a database was let in")
	}
	a := connect(t, addr, "")
	b := connect(t, addr, "")
	_, err = pgx.Connect(ctx, "postgres://tester@"+addr+"/lsl_demo?sslmode=disable")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != codeTooManyConns {
		t.Errorf("third session: %v, want SQLSTATE %s", err, codeTooManyConns)
	}
	for _, c := range []*pgx.Conn{a, b} {
		var n int64
		if err := c.QueryRow(ctx, "select count(*) from ping_sensor").Scan(&n); err != nil || n != 3 {
			t.Errorf("an open session after the refusal: %d %v", n, err)
		}
	}
}

// TestGarbage: bytes that are not the protocol end that connection only.
func TestGarbage(t *testing.T) {
	addr := startServer(t, Config{StartupTimeout: time.Second})
	for _, junk := range [][]byte{
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		{0, 0, 0, 8, 0, 3, 0}, // truncated
		{0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0},
	} {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = nc.Write(junk)
		_ = nc.SetReadDeadline(time.Now().Add(15 * time.Second))
		buf := make([]byte, 512)
		for {
			if _, err := nc.Read(buf); err != nil {
				break
			}
		}
		_ = nc.Close()
	}
	// A 100 MB message length after start-up: refused, the server goes on.
	c := connect(t, addr, "")
	raw := c.PgConn().Conn()
	_, _ = raw.Write([]byte{'Q', 0x06, 0, 0, 0})
	c2 := connect(t, addr, "")
	var n int64
	if err := c2.QueryRow(context.Background(), "select count(*) from ping_sensor").Scan(&n); err != nil || n != 3 {
		t.Errorf("after garbage: %d %v", n, err)
	}
}

func TestTranslate(t *testing.T) {
	for _, tc := range []struct {
		in     string
		params []string
		want   string
	}{
		{`select "value" from t`, nil, "select `value` from t"},
		{`select "a""b" from t`, nil, "select `a\"b` from t"},
		{`select 'it''s', 'a\b' from t`, nil, `select 'it''s', 'a\\b' from t`},
		{`select * from t where x = $1 and y = $2`, []string{"5", "'x'"}, `select * from t where x = 5 and y = 'x'`},
		{`select now() - interval '2 hours'`, nil, `select now() - interval 2 hour`},
		{`select '$1' -- $2`, nil, `select '$1' -- $2`},
		// Escape strings: backslash escapes and doubled quotes, the value
		// written as a plain literal.
		{`select E'it\'s\n\t\\' from t`, nil, "select 'it''s\n\t\\\\' from t"},
		{`select e'\x41\101\u00e9\U0001F600\q''' from t`, nil, "select 'AAé😀q''' from t"},
		{`select name'x'`, nil, `select name'x'`}, // not an E string: E ends a word
		// Dollar-quoted strings, taken as they are.
		{`select $$it's \ "x"$$ from t`, nil, `select 'it''s \\ "x"' from t`},
		{`select $tag$a $$ b$tag$, $1`, []string{"7"}, `select 'a $$ b', 7`},
	} {
		got, err := translate(tc.in, tc.params)
		if err != nil || got.SQL != tc.want {
			t.Errorf("translate(%q) = %q, %v; want %q", tc.in, got.SQL, err, tc.want)
		}
	}
	tr, _ := translate(`select "v" from t where x = $1 and nosuch`, []string{"'long literal'"})
	if p := tr.sourcePos(strings.Index(tr.SQL, "nosuch")); p != strings.Index(`select "v" from t where x = $1 and nosuch`, "nosuch") {
		t.Errorf("sourcePos maps nosuch to %d", p)
	}
	for _, bad := range []string{`select $3`, `select E'x`, `select E'\u12'`, `select E'\ud800'`, `select $$x`, `select $a$x$b$`, `select $ x`, `select "x`} {
		if _, err := translate(bad, []string{"1"}); err == nil {
			t.Errorf("translate(%q): no error", bad)
		}
	}
}
