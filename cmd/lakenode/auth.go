package main

import (
	"flag"
	"os"

	"github.com/lakenode/lakenode/node/auth"
)

// authOptions are the flags that authenticate the node's ports, and
// --connect's connection to a node. The token is never a command-line value
// (ps shows those): it comes from a file or LAKENODE_AUTH_TOKEN.
type authOptions struct {
	tokenFile, tlsCert, tlsKey, clientCA string
	metricsOpen                          bool
}

func addAuthFlags(fs *flag.FlagSet, a *authOptions) {
	fs.StringVar(&a.tokenFile, "auth-token-file", "", "read the cluster's token from `FILE` (mode 600; else $"+auth.TokenEnv+"): REST requests need `Authorization: Bearer TOKEN`, remote actor messages carry it")
	fs.StringVar(&a.tlsCert, "tls-cert", "", "PEM certificate `FILE` of this node: HTTPS on the REST port; with --client-ca, mutual TLS on every port")
	fs.StringVar(&a.tlsKey, "tls-key", "", "PEM private key `FILE` of --tls-cert")
	fs.StringVar(&a.clientCA, "client-ca", "", "PEM `FILE` of the CA that signs the cluster's certificates: clients and other nodes must present one it signed")
	fs.BoolVar(&a.metricsOpen, "metrics-open", false, "serve /metrics without the token")
}

// settings reads the token (file, else environment) and checks the TLS set.
func (a *authOptions) settings() (auth.Settings, error) {
	tok, err := auth.LoadToken(a.tokenFile, os.Getenv)
	if err != nil {
		return auth.Settings{}, err
	}
	s := auth.Settings{Token: tok, TLSCert: a.tlsCert, TLSKey: a.tlsKey, ClientCA: a.clientCA}
	if err := s.Validate(); err != nil {
		return auth.Settings{}, err
	}
	return s, nil
}
