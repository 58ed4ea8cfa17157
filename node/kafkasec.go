package node

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/node/command"
)

// maxKeyFile bounds a PEM file named by tls_ca, tls_cert or tls_key.
const maxKeyFile = 1 << 20

// envValue returns v, or the value of the environment variable it names
// when it is written $LAKENODE_NAME. Only LAKENODE_* names are read, so a
// command cannot send other parts of the node's environment to a broker of
// its caller's choosing; an unset one is an error naming it (never its
// value).
func envValue(key, v string) (string, error) {
	if !strings.HasPrefix(v, "$") {
		return v, nil
	}
	if err := command.CheckEnvName(v); err != nil {
		return "", fmt.Errorf("%s = %s: %w", key, v, err)
	}
	val, ok := os.LookupEnv(v[1:])
	if !ok || val == "" {
		return "", fmt.Errorf("%s = %s: the environment variable %s is not set on this node", key, v, v[1:])
	}
	return val, nil
}

// kafkaSecurity resolves a command's TLS and SASL keys on this node:
// $LAKENODE_ values from its environment, key files from its --secrets-dir
// (a name that leaves the directory is refused, naming it). The kafka
// package gets the parsed key material, never a path.
func (n *Node) kafkaSecurity(s spec.Security) (kafka.Security, error) {
	var out kafka.Security
	if s.IsZero() {
		return out, nil
	}
	user, err := envValue("user", s.User)
	if err != nil {
		return out, err
	}
	password, err := envValue("password", s.Password)
	if err != nil {
		return out, err
	}
	out.SASL, out.User, out.Password = s.SASL, user, password
	if !s.TLS {
		return out, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.SkipVerify} //nolint:gosec // only when the command says tls_skip_verify = true, with a notice
	read := func(key, name string) ([]byte, error) {
		name, err := envValue(key, name)
		if err != nil {
			return nil, err
		}
		data, err := n.secrets.ReadFile(name, maxKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return data, nil
	}
	if s.CA != "" {
		pem, err := read("tls_ca", s.CA)
		if err != nil {
			return out, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return out, fmt.Errorf("tls_ca = %s: no PEM certificate in the file", s.CA)
		}
		cfg.RootCAs = pool
	}
	if s.Cert != "" {
		certPEM, err := read("tls_cert", s.Cert)
		if err != nil {
			return out, err
		}
		keyPEM, err := read("tls_key", s.Key)
		if err != nil {
			return out, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			// X509KeyPair's errors describe the PEM blocks, not their bytes.
			return out, fmt.Errorf("tls_cert = %s and tls_key = %s: %w", s.Cert, s.Key, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	out.TLS = cfg
	return out, nil
}
