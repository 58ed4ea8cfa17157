package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Security is how every client of one consumer or export connects: TLS
// (nil for plaintext) and SASL. The node builds it from a command's keys,
// with key material it read from its --secrets-dir; this package reads no
// files.
type Security struct {
	TLS *tls.Config
	// SASL is "", "plain", "scram-sha-256" or "scram-sha-512".
	SASL     string
	User     string
	Password string // never shown: String, Format and LogValue omit it
}

// String describes the settings without the password.
func (s Security) String() string {
	var parts []string
	if s.TLS != nil {
		parts = append(parts, "tls")
		if s.TLS.InsecureSkipVerify {
			parts = append(parts, "tls_skip_verify")
		}
	}
	if s.SASL != "" {
		parts = append(parts, "sasl="+s.SASL, "user="+s.User, "password=***")
	}
	if len(parts) == 0 {
		return "plaintext"
	}
	return strings.Join(parts, " ")
}

// Format prints String for every verb.
func (s Security) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, s.String()) }

// LogValue logs String.
func (s Security) LogValue() slog.Value { return slog.StringValue(s.String()) }

// opts are the client options of the settings.
func (s Security) opts() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if s.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(s.TLS.Clone()))
	}
	switch s.SASL {
	case "":
	case "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: s.User, Pass: s.Password}.AsMechanism()))
	case "scram-sha-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.User, Pass: s.Password}.AsSha256Mechanism()))
	case "scram-sha-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("kafka: unknown SASL mechanism %q (plain, scram-sha-256 or scram-sha-512)", s.SASL)
	}
	return opts, nil
}

// newClient creates a client with the settings' options after opts.
func (s Security) newClient(opts ...kgo.Opt) (*kgo.Client, error) {
	so, err := s.opts()
	if err != nil {
		return nil, err
	}
	return kgo.NewClient(append(opts, so...)...)
}

// Explain turns the errors of a misconfigured connection into what to do
// about them; other errors are returned as they are.
func (s Security) Explain(err error) error {
	if err == nil {
		return nil
	}
	hint := s.hint(err)
	if hint == "" {
		return err
	}
	return &explained{hint: hint, err: err}
}

// explained is an error with a hint in front of the client's error.
type explained struct {
	hint string
	err  error
}

func (e *explained) Error() string { return e.hint + " (" + e.err.Error() + ")" }
func (e *explained) Unwrap() error { return e.err }

func (s Security) hint(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	var host x509.HostnameError
	var record tls.RecordHeaderError
	var alert tls.AlertError
	var firstEOF *kgo.ErrFirstReadEOF
	msg := err.Error()
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return fmt.Sprintf("SASL authentication failed for user %q: check user and password (and sasl = %s)", s.User, s.SASL)
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return fmt.Sprintf("the broker does not accept sasl = %s", s.SASL)
	case errors.As(err, &unknownCA):
		return "TLS: the broker's certificate is signed by an unknown authority: give tls_ca = FILE, the CA's PEM file under the node's --secrets-dir"
	case errors.As(err, &host):
		return "TLS: the broker's certificate is not valid for the address in the command: use the name or address the certificate was issued for"
	case errors.As(err, &verify):
		return "TLS: the broker's certificate cannot be verified: check tls_ca = FILE and the certificate's validity"
	case errors.As(err, &record):
		return "TLS: the broker does not speak TLS on this port: remove tls = true or use the broker's TLS port"
	case errors.As(err, &alert), strings.Contains(msg, "remote error: tls:"):
		if s.TLS != nil && len(s.TLS.Certificates) == 0 {
			return "TLS: the broker refused the handshake; it may require a client certificate: give tls_cert = FILE and tls_key = FILE"
		}
		return "TLS: the broker refused the handshake: check the client certificate (tls_cert, tls_key) and the broker's TLS settings"
	case s.TLS == nil && strings.Contains(msg, "speaking to a tls endpoint"):
		// franz-go recognises a TLS alert where a response should be.
		return "the broker answered with TLS: it requires tls = true on this port"
	case errors.As(err, &firstEOF):
		switch {
		case s.TLS == nil:
			return "the broker closed the connection at once: it may require tls = true (a plaintext client on a TLS port) or SASL"
		case s.SASL == "":
			return "the broker closed the connection at once: it may require SASL: give sasl = ..., user = ... and password = ..."
		}
		return "the broker closed the connection at once: check tls and sasl against the broker's listener"
	}
	if s.SASL != "" && errors.Is(err, io.EOF) {
		return fmt.Sprintf("the broker closed the connection; if this persists, SASL authentication failed for user %q: check user and password (and sasl = %s)", s.User, s.SASL)
	}
	var nerr net.Error
	if s.TLS != nil && errors.As(err, &nerr) && strings.Contains(msg, "handshake") {
		return "TLS: the handshake did not complete: the port may not be a TLS port"
	}
	return ""
}
