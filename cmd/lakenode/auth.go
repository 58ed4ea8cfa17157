package main

import (
	"flag"
	"os"

	"github.com/lakenode/lakenode/node"
)

// authOptions are the flags that authenticate the node's ports, and
// --connect's connection to a node. The token is never a command-line value
// (ps shows those): it comes from a file or LAKENODE_AUTH_TOKEN.
type authOptions struct {
	files       node.AuthFiles
	metricsOpen bool
}

func addAuthFlags(fs *flag.FlagSet, a *authOptions) {
	fs.StringVar(&a.files.TokenFile, "auth-token-file", "", "read the cluster's token from `FILE` (mode 600; else $"+node.AuthTokenEnv+"): REST requests need `Authorization: Bearer TOKEN`, remote actor messages carry it")
	fs.StringVar(&a.files.TLSCert, "tls-cert", "", "PEM certificate `FILE` of this node: HTTPS on the REST port; with --client-ca, mutual TLS on every port")
	fs.StringVar(&a.files.TLSKey, "tls-key", "", "PEM private key `FILE` of --tls-cert")
	fs.StringVar(&a.files.ClientCA, "client-ca", "", "PEM `FILE` of the CA that signs the cluster's certificates: clients and other nodes must present one it signed")
	fs.BoolVar(&a.metricsOpen, "metrics-open", false, "serve /metrics without the token")
}

// settings reads the token (file, else environment) and checks the TLS set.
func (a *authOptions) settings() (node.AuthSettings, error) {
	return a.files.Settings(os.Getenv)
}
