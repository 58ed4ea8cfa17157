package kafka_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// securedCluster starts an in-process kfake broker that speaks TLS only and
// requires SASL (user "app" for PLAIN and SCRAM), with topic seeded.
func securedCluster(t *testing.T, topic string) (addr string, certs *kafkatest.Certs) {
	t.Helper()
	certs, err := kafkatest.WriteCerts(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := certs.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, topic), kfake.TLS(srv), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "app", "right-pw"), kfake.Superuser("SCRAM-SHA-256", "app", "right-pw"), kfake.Superuser("SCRAM-SHA-512", "app", "right-pw"),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, "127.0.0.1:0") }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0], certs
}

// TestSecuredClients sends and reads back through TLS and each SASL
// mechanism with the export producer, the transactional exporter and the
// ping, and checks that a wrong password, an untrusted certificate and a
// plaintext client each fail with an error that says what to do.
func TestSecuredClients(t *testing.T) {
	const topic = "sec"
	addr, certs := securedCluster(t, topic)
	brokers := []string{addr}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, mech := range []string{"plain", "scram-sha-256", "scram-sha-512"} {
		sec := kafka.Security{TLS: certs.ClientTLS(), SASL: mech, User: "app", Password: "right-pw"}
		if err := kafka.PingBrokers(ctx, brokers, sec); err != nil {
			t.Fatalf("%s: ping: %v", mech, err)
		}
		p, err := kafka.NewExportProducer(ctx, brokers, topic, sec, "", nil)
		if err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
		if err := p.SendAll(ctx, topic, nil, [][]byte{[]byte(mech)}); err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
		p.Close()
	}
	sec := kafka.Security{TLS: certs.ClientTLS(), SASL: "scram-sha-512", User: "app", Password: "right-pw"}
	x, err := kafka.NewTxnExporter(ctx, brokers, topic, "job", sec, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.LastCommits(ctx); err != nil {
		t.Fatal(err)
	}
	if err := x.Send(ctx, nil, [][]byte{[]byte("txn")}, kafka.Commits{"n": 1}); err != nil {
		t.Fatal(err)
	}
	x.Close()
	recs, err := kafka.ReadCommitted(ctx, brokers, topic, sec)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("read back %d records, want 4", len(recs))
	}

	for _, c := range []struct {
		name string
		sec  kafka.Security
		want string
	}{
		{"wrong password", kafka.Security{TLS: certs.ClientTLS(), SASL: "scram-sha-512", User: "app", Password: "wrong-pw"}, "check user and password"},
		{"untrusted certificate", kafka.Security{TLS: &tls.Config{MinVersion: tls.VersionTLS12}, SASL: "scram-sha-512", User: "app", Password: "right-pw"}, "tls_ca = FILE"},
		{"plaintext on the TLS port", kafka.Security{SASL: "scram-sha-512", User: "app", Password: "right-pw"}, "tls = true"},
	} {
		pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
		err := kafka.PingBrokers(pctx, brokers, c.sec)
		pcancel()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "right-pw") || err != nil && strings.Contains(err.Error(), "wrong-pw") {
			t.Errorf("%s: the error shows the password: %v", c.name, err)
		}
	}
}

func TestSecurityNeverShowsPassword(t *testing.T) {
	sec := kafka.Security{SASL: "plain", User: "u", Password: "hunter2"}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "sec", sec)
	for _, s := range []string{sec.String(), fmt.Sprintf("%v %+v %#v %s", sec, sec, sec, sec), logged.String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("shown: %s", s)
		}
	}
}
