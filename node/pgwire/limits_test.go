package pgwire

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

func waitUntil(t *testing.T, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// 200 clients at once against the default cap of 100: 100 sessions open,
// the other 100 get SQLSTATE 53300, the open ones keep working, and once
// they close new clients get in.
func TestTwoHundredConnectionsAtOnce(t *testing.T) {
	addr, srv := startServerSrv(t, Config{})
	const clients = 2 * DefaultMaxConns
	var (
		mu      sync.Mutex
		conns   []*pgx.Conn
		refused int
		other   []error
		wg      sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range clients {
		wg.Go(func() {
			c, err := pgx.Connect(ctx, "postgres://tester@"+addr+"/lsl_demo?sslmode=disable")
			mu.Lock()
			defer mu.Unlock()
			var pe *pgconn.PgError
			switch {
			case err == nil:
				conns = append(conns, c)
			case errors.As(err, &pe) && pe.Code == codeTooManyConns:
				refused++
			default:
				other = append(other, err)
			}
		})
	}
	wg.Wait()
	if len(conns) != DefaultMaxConns || refused != clients-DefaultMaxConns || len(other) > 0 {
		t.Fatalf("%d sessions, %d refused with 53300, other errors %v", len(conns), refused, other)
	}
	for _, c := range []*pgx.Conn{conns[0], conns[len(conns)-1]} {
		var n int64
		if err := c.QueryRow(ctx, "select count(*) from ping_sensor").Scan(&n); err != nil || n != 3 {
			t.Fatalf("an open session at the cap: %d %v", n, err)
		}
	}
	for _, c := range conns {
		_ = c.Close(ctx)
	}
	waitUntil(t, 10*time.Second, func() bool { return srv.Sessions() == 0 }, "the sessions to close")
	c := connect(t, addr, "")
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("after the crowd left: %v", err)
	}
}

// Connections still in start-up count against the cap: clients that
// connect and send nothing cannot crowd the node beyond MaxConns plus its
// slack, and they are cut off at the start-up timeout.
func TestStartupConnectionsCountAgainstTheCap(t *testing.T) {
	cfg := Config{MaxConns: 2, StartupTimeout: 2 * time.Second}
	addr, srv := startServerSrv(t, cfg)
	silent := make([]net.Conn, 0, 8)
	for range 2 + srv.connSlack() {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		silent = append(silent, nc)
	}
	defer func() {
		for _, nc := range silent {
			_ = nc.Close()
		}
	}()
	waitUntil(t, 5*time.Second, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.conns == 2+srv.connSlack()
	}, "the silent connections to be counted")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := pgx.Connect(ctx, "postgres://tester@"+addr+"/lsl_demo?sslmode=disable")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != codeTooManyConns {
		t.Fatalf("a client past the silent ones: %v, want SQLSTATE %s", err, codeTooManyConns)
	}
	// The silent ones time out in start-up; then there is room.
	waitUntil(t, 10*time.Second, func() bool {
		c, err := pgx.Connect(ctx, "postgres://tester@"+addr+"/lsl_demo?sslmode=disable")
		if err != nil {
			return false
		}
		_ = c.Close(ctx)
		return true
	}, "room after the start-up timeout")
}

// A client that asks for a large result and stops reading is cut off at
// the write timeout; its session ends and the node serves the others.
func TestClientThatStopsReadingIsCutOff(t *testing.T) {
	addr, srv := startServerSrv(t, Config{WriteTimeout: 300 * time.Millisecond})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "tester", "database": "lsl_demo"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("start-up: %v", err)
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	fe.Send(&pgproto3.Query{String: "select s from endless"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	// Never read again: the server's writes block once the socket buffers
	// are full, and the write timeout ends the session.
	waitUntil(t, 60*time.Second, func() bool { return srv.Sessions() == 0 }, "the session of a client that stopped reading to end")
	c := connect(t, addr, "")
	var n int64
	if err := c.QueryRow(context.Background(), "select count(*) from ping_sensor").Scan(&n); err != nil || n != 3 {
		t.Fatalf("another client after the cut-off: %d %v", n, err)
	}
}

// SET lakenode.now fixes the session's now() (the engine gets it), checks
// its value, and default gives the clock back.
func TestSessionNow(t *testing.T) {
	addr := startServer(t, Config{})
	c := connect(t, addr, "")
	ctx := context.Background()
	if _, err := c.Exec(ctx, "set lakenode.now = 'yesterday-ish'"); err == nil {
		t.Fatal("a bad lakenode.now was accepted")
	}
	if _, err := c.Exec(ctx, "set lakenode.now = '2026-12-01T10:00:30Z'"); err != nil {
		t.Fatal(err)
	}
	var shown string
	if err := c.QueryRow(ctx, "show lakenode.now").Scan(&shown); err != nil || shown != "2026-12-01T10:00:30Z" {
		t.Fatalf("show lakenode.now = %q %v", shown, err)
	}
	// ping_sensor's rows are at 10:00, 10:01 and 10:02 on 2026-12-01.
	var n int64
	if err := c.QueryRow(ctx, "select count(*) from ping_sensor where timestamp < now()").Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows before the session's now(): %d %v", n, err)
	}
	if _, err := c.Exec(ctx, "set lakenode.now = default"); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "select count(*) from ping_sensor where timestamp < now()").Scan(&n); err != nil || n != 3 {
		t.Fatalf("rows before the clock's now(): %d %v", n, err)
	}
}
