package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/lakenode/lakenode/node/auth"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/nodeclient"
	"github.com/lakenode/lakenode/node/output"
)

// The entry points cmd/lakenode calls besides New, Start and Stop: the
// in-process connection the shell, -c and -f use, --connect's connection
// to a running node, and the authentication files. cmd imports only node
// and sqlshell (ARCHITECTURE §3).

// ShellConn runs the shell's, -c's and -f's commands on the node in this
// process. It is a sqlshell.StreamConn.
type ShellConn struct {
	n        *Node
	terminal bool
}

// ShellConn returns the node's connection for the shell and scripts;
// terminal says stdout is a terminal (pretty JSON).
func (n *Node) ShellConn(terminal bool) ShellConn { return ShellConn{n: n, terminal: terminal} }

// Execute runs a command and returns its whole reply.
func (c ShellConn) Execute(ctx context.Context, line string) output.Reply {
	return shellReply(c.n.Execute(ctx, line, ExecOptions{Terminal: c.terminal}))
}

// ExecuteTo runs a command; a json:output reply's rows go to stdout as they
// come, after the notices known then on stderr.
func (c ShellConn) ExecuteTo(ctx context.Context, line string, stdout, stderr io.Writer) output.Reply {
	stream := func(notices []string) io.Writer {
		for _, note := range notices {
			fmt.Fprintln(stderr, note)
		}
		return stdout
	}
	return shellReply(c.n.Execute(ctx, line, ExecOptions{Terminal: c.terminal, Stream: stream}))
}

// Complete returns the candidates for the word at the cursor.
func (c ShellConn) Complete(_ context.Context, before, after string) []string {
	return c.n.CompleteNames(command.MarkCursor(before, after))
}

func shellReply(res Result) output.Reply {
	rep := output.Reply{Text: res.Text, Notices: res.Notices}
	if res.Err != nil {
		rep.Err = res.ErrorText()
	}
	return rep
}

// Connect reaches the running node whose --listen address is addr
// (--connect); terminal says stdout is a terminal. The client is a
// sqlshell.Conn; Close it when done.
func Connect(ctx context.Context, addr string, terminal bool, logger *slog.Logger, sec auth.Settings) (*nodeclient.Client, error) {
	return nodeclient.Dial(ctx, addr, terminal, logger, sec)
}

// AuthSettings are the token and certificates of the node's ports and of
// --connect's connection (Config.Auth).
type AuthSettings = auth.Settings

// AuthTokenEnv is the environment variable holding the cluster's token
// when no token file is named.
const AuthTokenEnv = auth.TokenEnv

// AuthFiles name what authenticates the node's ports and --connect's
// connection: the token file (else $LAKENODE_AUTH_TOKEN) and the TLS set.
type AuthFiles struct {
	TokenFile, TLSCert, TLSKey, ClientCA string
}

// Settings reads the token (the file, else getenv(AuthTokenEnv)) and checks
// the TLS set.
func (a AuthFiles) Settings(getenv func(string) string) (auth.Settings, error) {
	tok, err := auth.LoadToken(a.TokenFile, getenv)
	if err != nil {
		return auth.Settings{}, err
	}
	s := auth.Settings{Token: tok, TLSCert: a.TLSCert, TLSKey: a.TLSKey, ClientCA: a.ClientCA}
	if err := s.Validate(); err != nil {
		return auth.Settings{}, err
	}
	return s, nil
}
