package node

import (
	"net"
	"net/http"

	"github.com/asynkron/protoactor-go/remote"

	"github.com/lakenode/lakenode/node/auth"
)

// checkAuth refuses a configuration that would open a port beyond loopback
// without a token or mutual TLS, and a partial TLS set.
func (cfg Config) checkAuth() error {
	if err := cfg.Auth.Validate(); err != nil {
		return err
	}
	if cfg.PGAddr != "" {
		if err := cfg.Auth.CheckListen("--pg", cfg.PGAddr); err != nil {
			return err
		}
	}
	if cfg.HTTPAddr != "" {
		if err := cfg.Auth.CheckListen("--http", cfg.HTTPAddr); err != nil {
			return err
		}
	}
	if cfg.ListenAddr != "" {
		if err := cfg.Auth.CheckListen("--listen", cfg.ListenAddr); err != nil {
			return err
		}
	}
	return nil
}

// remoteOptions authenticate the remote endpoint, both the streams it
// accepts and the ones it opens to other nodes.
func (n *Node) remoteOptions() ([]remote.ConfigOption, error) {
	return n.cfg.Auth.RemoteOptions(n.log.Warn)
}

// guardHTTP puts the REST port behind its token, Host and Origin checks.
func (n *Node) guardHTTP(h http.Handler) http.Handler {
	g := &auth.HTTPGuard{
		Token:       n.cfg.Auth.Token,
		MetricsOpen: n.cfg.MetricsOpen,
		Bound:       n.httpLn.Addr().String(),
		TLS:         n.cfg.Auth.TLSCert != "",
		Log:         n.log.Warn,
	}
	return g.Wrap(h)
}

// serveTLS sets the REST port's TLS configuration (HTTPS with --tls-cert,
// client certificates required with --client-ca).
func (n *Node) serveTLS() error {
	cfg, err := n.cfg.Auth.ServerTLS()
	if err != nil {
		return err
	}
	n.http.TLSConfig = cfg
	return nil
}

func (n *Node) serveHTTP(ln net.Listener) error {
	if n.http.TLSConfig != nil {
		return n.http.ServeTLS(ln, "", "")
	}
	return n.http.Serve(ln)
}
