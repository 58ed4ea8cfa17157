package spec

import (
	"fmt"
	"log/slog"
	"strings"
)

// Redacted stands for a secret wherever a command or a setting is shown.
const Redacted = "***"

// Security is how a Kafka client of a consumer or an export connects, as
// written in the command (`tls = true and tls_ca = FILE and sasl =
// scram-sha-512 and user = NAME and password = SECRET ...`). The file names
// are read from the node's --secrets-dir, and a value written
// `$LAKENODE_NAME` is read from the environment of the node that runs the
// command; both happen on that node, not in the parser.
type Security struct {
	TLS        bool   // tls = true, or implied by a tls_* key
	CA         string // tls_ca: PEM file of the CAs that sign the brokers' certificates
	Cert       string // tls_cert: PEM file of the client certificate (with tls_key)
	Key        string // tls_key: PEM file of the client key
	SkipVerify bool   // tls_skip_verify = true: no check of the broker's certificate
	SASL       string // "", "plain", "scram-sha-256" or "scram-sha-512"
	User       string
	Password   string // never shown: String, Format and LogValue print ***
}

// IsZero reports whether nothing was set: a plaintext client without SASL.
func (s Security) IsZero() bool { return s == Security{} }

// String describes the settings with the password replaced by ***.
func (s Security) String() string {
	if s.IsZero() {
		return "plaintext"
	}
	var parts []string
	if s.TLS {
		parts = append(parts, "tls")
		for _, f := range []struct{ k, v string }{{"tls_ca", s.CA}, {"tls_cert", s.Cert}, {"tls_key", s.Key}} {
			if f.v != "" {
				parts = append(parts, f.k+"="+f.v)
			}
		}
		if s.SkipVerify {
			parts = append(parts, "tls_skip_verify")
		}
	}
	if s.SASL != "" {
		parts = append(parts, "sasl="+s.SASL, "user="+s.User)
		if s.Password != "" {
			parts = append(parts, "password="+Redacted)
		}
	}
	return strings.Join(parts, " ")
}

// Format prints String for every verb, so %v, %+v and %#v never show the
// password either.
func (s Security) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, s.String()) }

// LogValue logs String.
func (s Security) LogValue() slog.Value { return slog.StringValue(s.String()) }

// SASLMechanisms are the accepted values of `sasl = ...`.
var SASLMechanisms = []string{"plain", "scram-sha-256", "scram-sha-512"}

// EnvPrefix starts the names of environment variables a command may name
// with `$NAME`: only these, so a command cannot send other variables of the
// node's environment to a broker of the caller's choosing.
const EnvPrefix = "LAKENODE_"
