package kafkatest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SecuredUser is the SCRAM user of every secured listener.
const SecuredUser = "lakenode"

// Secured is a broker's TLS and SASL listener: TLS with a certificate signed
// by Certs' CA, SCRAM-SHA-512 (and SCRAM-SHA-256) authentication of User.
type Secured struct {
	Addr     string
	Certs    *Certs
	User     string
	Password string
	// Kind is the broker kind: "kfake" or "apache".
	Kind string
	// Broker is the listener as a Broker for this package's helpers
	// (CreateTopic, Produce, ConsumeAll, ...), whose clients use TLS and
	// SCRAM; tests must not stop or restart it.
	Broker *Broker
}

// Opts are the client options that connect to the listener: TLS trusting
// the CA and SCRAM-SHA-512.
func (s *Secured) Opts() []kgo.Opt {
	return []kgo.Opt{
		kgo.DialTLSConfig(s.Certs.ClientTLS()),
		kgo.SASL(scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism()),
	}
}

// Client returns a client of the secured listener, closed at the end of
// the test.
func (s *Secured) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append(append([]kgo.Opt{kgo.SeedBrokers(s.Addr)}, s.Opts()...), opts...)...)
	if err != nil {
		t.Fatalf("kafkatest: a client of %s: %v", s.Addr, err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// randomPassword is a fresh password for a broker's SCRAM user.
func randomPassword() (string, error) {
	var p [12]byte
	if _, err := rand.Read(p[:]); err != nil {
		return "", fmt.Errorf("generating a password: %w", err)
	}
	return "pw-" + hex.EncodeToString(p[:]), nil
}

// Secured returns the broker's TLS and SCRAM listener. An Apache Kafka
// broker has it from its start, on a second listener of the same process
// (SASL_SSL); a kfake broker gets a second kfake process with TLS and SASL
// on first use, stopped with the broker. An external broker has none: the
// test fails, saying so.
func (b *Broker) Secured(t testing.TB) *Secured {
	t.Helper()
	b.securedMu.Lock()
	defer b.securedMu.Unlock()
	if b.secured == nil && b.securedErr == nil {
		switch b.kind {
		case KindKfake:
			b.secured, b.companion, b.securedErr = startSecuredKfake(filepath.Join(b.dir, "secured"))
		default:
			b.securedErr = fmt.Errorf("a %s broker has no TLS and SASL listener", b.kind)
		}
	}
	if b.securedErr != nil {
		t.Fatalf("kafkatest: %v", b.securedErr)
	}
	return b.secured
}

func startSecuredKfake(dir string) (*Secured, *Broker, error) {
	certs, err := WriteCerts(filepath.Join(dir, "certs"))
	if err != nil {
		return nil, nil, err
	}
	pass, err := randomPassword()
	if err != nil {
		return nil, nil, err
	}
	s := &Secured{Certs: certs, User: SecuredUser, Password: pass, Kind: KindKfake}
	c := &Broker{kind: KindKfake, dir: dir,
		extraArgs: []string{"-tls-cert", filepath.Join(certs.Dir, certs.ServerCert), "-tls-key", filepath.Join(certs.Dir, certs.ServerKey), "-sasl-user", s.User},
		extraEnv:  []string{"KFAKEBROKER_SASL_PASSWORD=" + pass},
	}
	c.clientOpts = s.Opts()
	if err := c.Start(); err != nil {
		return nil, nil, fmt.Errorf("the secured kfake broker: %w", err)
	}
	s.Addr, s.Broker = c.Addr(), c
	return s, c, nil
}

// propertyValue escapes a multi-line value for a Java properties file.
func propertyValue(v string) string {
	return strings.ReplaceAll(strings.TrimSpace(v), "\n", `\n`)
}

// apacheSecured prepares an Apache Kafka broker's SASL_SSL listener on a
// free port: certificates in dir/certs, a SCRAM password, and the
// server.properties lines of the listener (PEM key material inline, no
// keystore files).
func apacheSecured(dir string) (*Secured, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	certs, err := WriteCerts(filepath.Join(dir, "certs"))
	if err != nil {
		return nil, "", err
	}
	pass, err := randomPassword()
	if err != nil {
		return nil, "", err
	}
	s := &Secured{Addr: addr, Certs: certs, User: SecuredUser, Password: pass, Kind: KindApache}
	const jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
	props := strings.Join([]string{
		"sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256",
		"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=" + jaas,
		"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=" + jaas,
		"listener.name.sasl_ssl.ssl.keystore.type=PEM",
		"listener.name.sasl_ssl.ssl.keystore.certificate.chain=" + propertyValue(string(certs.ServerCertPEM)),
		"listener.name.sasl_ssl.ssl.keystore.key=" + propertyValue(string(certs.ServerKeyPEM)),
		"listener.name.sasl_ssl.ssl.truststore.type=PEM",
		"listener.name.sasl_ssl.ssl.truststore.certificates=" + propertyValue(string(certs.CAPEM)),
	}, "\n") + "\n"
	return s, props, nil
}

// scramArgs are the storage tool's arguments that create the SCRAM user.
func (s *Secured) scramArgs() []string {
	var out []string
	for _, m := range []string{"SCRAM-SHA-512", "SCRAM-SHA-256"} {
		out = append(out, "--add-scram", fmt.Sprintf("%s=[name=%s,password=%s]", m, s.User, s.Password))
	}
	return out
}
