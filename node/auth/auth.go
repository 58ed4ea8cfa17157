// Package auth authenticates a node's own ports: the shared token
// (--auth-token-file or LAKENODE_AUTH_TOKEN), mutual TLS (--tls-cert,
// --tls-key, --client-ca), the REST port's Bearer, Host and Origin checks, and
// the gRPC credentials of the remote actor endpoint. A token is never
// printed: errors name the file or the variable, not the value.
package auth

import (
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// TokenEnv is the environment variable that may carry the token.
const TokenEnv = "LAKENODE_AUTH_TOKEN"

// MinTokenLen is the shortest token accepted, in bytes.
const MinTokenLen = 16

// Settings is how a node (or a --connect client) authenticates: a token,
// mutual TLS, both or neither.
type Settings struct {
	// Token is the shared secret; nil for none.
	Token []byte
	// TLSCert and TLSKey are PEM files: the node's certificate (served on
	// the REST port and the remote endpoint, and presented as the client
	// certificate when dialing other nodes).
	TLSCert, TLSKey string
	// ClientCA is a PEM file of the CA that signs the cluster's
	// certificates: clients must present a certificate it signed, and other
	// nodes' certificates are verified against it.
	ClientCA string
}

// MutualTLS reports whether the remote endpoint uses mutual TLS.
func (s Settings) MutualTLS() bool { return s.TLSCert != "" && s.ClientCA != "" }

// Authenticated reports whether a token or mutual TLS is configured.
func (s Settings) Authenticated() bool { return len(s.Token) > 0 || s.MutualTLS() }

// Validate checks that the TLS flags come as a usable set.
func (s Settings) Validate() error {
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both")
	}
	if s.ClientCA != "" && s.TLSCert == "" {
		return errors.New("--client-ca needs --tls-cert and --tls-key (mutual TLS: the node presents its own certificate too)")
	}
	return nil
}

// LoadToken reads the token from file (when not "") or else from the
// environment variable LAKENODE_AUTH_TOKEN (getenv is os.Getenv in
// production). It returns nil when neither is set. The file must not be
// readable or writable by others, nor empty; surrounding white space (the
// newline of `base64`) is not part of the token.
func LoadToken(file string, getenv func(string) string) ([]byte, error) {
	if file != "" {
		st, err := os.Stat(file)
		if err != nil {
			return nil, fmt.Errorf("--auth-token-file: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("--auth-token-file %s: not a regular file", file)
		}
		if st.Mode().Perm()&0o007 != 0 {
			return nil, fmt.Errorf("--auth-token-file %s: readable or writable by others (mode %04o); run chmod 600 %s", file, st.Mode().Perm(), file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--auth-token-file: %w", err)
		}
		return checkToken([]byte(strings.TrimSpace(string(b))), "--auth-token-file "+file)
	}
	if v := strings.TrimSpace(getenv(TokenEnv)); v != "" {
		return checkToken([]byte(v), TokenEnv)
	}
	return nil, nil
}

func checkToken(tok []byte, from string) ([]byte, error) {
	if len(tok) == 0 {
		return nil, fmt.Errorf("%s: the token is empty; create one with: umask 077; head -c 32 /dev/urandom | base64 > token", from)
	}
	if len(tok) < MinTokenLen {
		return nil, fmt.Errorf("%s: the token is %d bytes, shorter than %d; create one with: umask 077; head -c 32 /dev/urandom | base64 > token", from, len(tok), MinTokenLen)
	}
	for _, c := range tok {
		if c < 0x21 || c > 0x7e {
			return nil, fmt.Errorf("%s: the token must be printable ASCII without spaces (base64 is)", from)
		}
	}
	return tok, nil
}

// Equal compares a presented token with the expected one in constant time.
func Equal(got, want []byte) bool {
	if len(want) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}

// IsLoopback reports whether a listen address (HOST:PORT) binds only the
// loopback interface: 127.0.0.0/8, ::1 or localhost. An empty host, 0.0.0.0,
// :: and host names other than localhost are not.
func IsLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	return IsLoopbackHost(host), nil
}

// IsLoopbackHost is IsLoopback for a bare host.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// CheckListen refuses a non-loopback address without authentication.
// flag names the option (--http, --listen) for the message.
func (s Settings) CheckListen(flag, addr string) error {
	lo, err := IsLoopback(addr)
	if err != nil {
		return fmt.Errorf("%s %q: %w", flag, addr, err)
	}
	if lo || s.Authenticated() {
		return nil
	}
	return fmt.Errorf("%s %s is not a loopback address, and anyone who reaches it could run any command: "+
		"give a token (--auth-token-file FILE, or %s in the environment; create one with: umask 077; head -c 32 /dev/urandom | base64 > token) "+
		"or mutual TLS (--tls-cert, --tls-key and --client-ca), or listen on 127.0.0.1", flag, addr, TokenEnv)
}

// ServerTLS is the TLS configuration of a listener: the node's certificate
// and, with ClientCA, required client certificates signed by it. It is nil
// without --tls-cert.
func (s Settings) ServerTLS() (*tls.Config, error) {
	if s.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if s.ClientCA != "" {
		pool, err := loadPool(s.ClientCA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ClientTLS is the TLS configuration for dialing another node with mutual
// TLS: this node's certificate, and the peer verified against ClientCA. Nil
// unless MutualTLS.
func (s Settings) ClientTLS() (*tls.Config, error) {
	if !s.MutualTLS() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	pool, err := loadPool(s.ClientCA)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--client-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--client-ca %s: no PEM certificate in it", file)
	}
	return pool, nil
}

// onceEvery lets a line through once per key per period: a refused peer
// reconnects repeatedly, and its refusal is logged once a minute.
type onceEvery struct {
	mu     sync.Mutex
	period time.Duration
	last   map[string]time.Time
	now    func() time.Time
}

func newOnceEvery(period time.Duration) *onceEvery {
	return &onceEvery{period: period, last: map[string]time.Time{}, now: time.Now}
}

func (o *onceEvery) allow(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	if t, ok := o.last[key]; ok && now.Sub(t) < o.period {
		return false
	}
	if len(o.last) > 10000 {
		for k, t := range o.last {
			if now.Sub(t) >= o.period {
				delete(o.last, k)
			}
		}
		if len(o.last) > 10000 {
			return false // a flood of sources: stay quiet rather than grow
		}
	}
	o.last[key] = now
	return true
}
