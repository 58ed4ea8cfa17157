package pgwire

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakenode/lakenode/node/auth/authtest"
)

// TestTLS: with a certificate the server offers TLS; a client that is not
// on loopback sends its password in clear only inside it, and SCRAM
// otherwise. sslmode=require without a certificate is refused by the
// client (the server answers N).
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := authtest.WriteCA(t, dir, "pg")
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, Config{Token: []byte("s3cret-token"), TLS: &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, treatAsRemote: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, mode := range []string{"sslmode=verify-full&sslrootcert=" + ca, "sslmode=disable"} {
		c, err := pgx.Connect(ctx, "postgres://tester:s3cret-token@"+addr+"/lsl_demo?"+mode)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		var n int64
		if err := c.QueryRow(ctx, "select count(*) from ping_sensor").Scan(&n); err != nil || n != 3 {
			t.Errorf("%s: count %d %v", mode, n, err)
		}
		if tlsOn := isTLS(c); tlsOn != (mode != "sslmode=disable") {
			t.Errorf("%s: TLS %v", mode, tlsOn)
		}
		_ = c.Close(ctx)
	}
	_, err = pgx.Connect(ctx, "postgres://tester:wrong@"+addr+"/lsl_demo?sslmode=verify-full&sslrootcert="+ca)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != codeInvalidPass {
		t.Errorf("wrong token over TLS: %v", err)
	}

	plain := startServer(t, Config{})
	if _, err := pgx.Connect(ctx, "postgres://tester@"+plain+"/lsl_demo?sslmode=require"); err == nil {
		t.Error("sslmode=require connected to a server without a certificate")
	}
}

func isTLS(c *pgx.Conn) bool {
	_, ok := c.PgConn().Conn().(*tls.Conn)
	return ok
}
