package clustertest

import (
	"bufio"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// A cluster's first node runs in the test process; the others run in
// processes of their own, the test binary started again in node mode.
// Under the race detector a process can run one node with a remote
// endpoint, not several: protoactor's Remote.Start sets gRPC's process-wide
// logger, which the gRPC server it starts reads at once, so a second
// remote's start in one process always races with the first one's server.
// With one remote a process, the race detector covers every node.
//
// A node process is driven over its stdin, a command a line, each answered
// by a line on its stdout ("ok" or "error: TEXT"): `join ADDR...` adds
// peers, `load FILE` loads the rows of a gob-encoded loadFile. It stops
// when its stdin closes.

// nodeEnv holds, in a node process, its nodeConfig as JSON.
const nodeEnv = "LAKENODE_CLUSTERTEST_NODE"

type nodeConfig struct{ Name, DataDir, Listen string }

// loadFile is a table's rows for a node process.
type loadFile struct {
	DBMS, Table string
	Columns     []schema.Column
	Rows        [][]schema.Value
	Seal        tablestest.Sealing
}

// Main is the TestMain of a package whose tests start clusters: in a node
// process it runs that node; otherwise it runs the tests.
func Main(m *testing.M) {
	if v := os.Getenv(nodeEnv); v != "" {
		if err := serveNode(v, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "clustertest node:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveNode runs a node process: it starts the node, says "ready", obeys
// the commands of in and stops the node when in closes.
func serveNode(cfgJSON string, in io.Reader, out io.Writer) error {
	var nc nodeConfig
	if err := json.Unmarshal([]byte(cfgJSON), &nc); err != nil {
		return fmt.Errorf("%s: %w", nodeEnv, err)
	}
	cfg := node.DefaultConfig()
	cfg.Name, cfg.DataDir, cfg.ListenAddr = nc.Name, nc.DataDir, nc.Listen
	nd, err := node.New(cfg)
	if err != nil {
		return err
	}
	if err := nd.Start(context.Background()); err != nil {
		return err
	}
	defer func() { _ = nd.Stop(context.Background()) }()
	fmt.Fprintln(out, "ready")
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		verb, arg, _ := strings.Cut(sc.Text(), " ")
		var err error
		switch verb {
		case "join":
			nd.Join(strings.Fields(arg)...)
		case "load":
			err = loadRows(nd.Store(), arg)
		default:
			err = fmt.Errorf("unknown command %q", verb)
		}
		if err != nil {
			fmt.Fprintln(out, "error:", err)
			continue
		}
		fmt.Fprintln(out, "ok")
	}
	return sc.Err()
}

// loadRows loads a loadFile as tablestest.LoadSealed does.
func loadRows(s *tables.Store, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	var lf loadFile
	if err := gob.NewDecoder(f).Decode(&lf); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	_, err = tablestest.WriteSealed(s, lf.DBMS, lf.Table, lf.Columns, lf.Rows, lf.Seal)
	return err
}

// nodeProc is a node process of a cluster.
type nodeProc struct {
	t      testing.TB
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr strings.Builder
	exited chan error
}

// startNodeProc starts a node process and waits until it is ready.
func startNodeProc(t testing.TB, nc nodeConfig) *nodeProc {
	t.Helper()
	cfg, err := json.Marshal(nc)
	if err != nil {
		t.Fatal(err)
	}
	p := &nodeProc{t: t, cmd: exec.Command(os.Args[0], "-test.run=^$"), exited: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), nodeEnv+"="+string(cfg))
	p.cmd.Stderr = &p.stderr
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewScanner(stdout)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting node %s: %v", nc.Name, err)
	}
	t.Cleanup(p.stop)
	if !p.out.Scan() || p.out.Text() != "ready" {
		t.Fatalf("node %s did not start: %q\n%s", nc.Name, p.out.Text(), p.stderr.String())
	}
	return p
}

// do sends the node process a command and waits for its answer.
func (p *nodeProc) do(cmd string) {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.in, cmd); err != nil {
		p.t.Fatalf("node process: %q: %v\n%s", cmd, err, p.stderr.String())
	}
	if !p.out.Scan() || p.out.Text() != "ok" {
		p.t.Fatalf("node process: %q: %q\n%s", cmd, p.out.Text(), p.stderr.String())
	}
}

// load loads rows into the node process's store.
func (p *nodeProc) load(dbms, table string, cols []schema.Column, rows [][]schema.Value, seal tablestest.Sealing) {
	p.t.Helper()
	f, err := os.CreateTemp(p.t.TempDir(), "rows-*.gob")
	if err != nil {
		p.t.Fatal(err)
	}
	if err := gob.NewEncoder(f).Encode(loadFile{DBMS: dbms, Table: table, Columns: cols, Rows: rows, Seal: seal}); err != nil {
		p.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		p.t.Fatal(err)
	}
	p.do("load " + f.Name())
}

// stop closes the node process's stdin and waits for it to stop; a node
// that fails (a data race, under the race detector) fails the test.
func (p *nodeProc) stop() {
	_ = p.in.Close()
	go func() { p.exited <- p.cmd.Wait() }()
	select {
	case err := <-p.exited:
		if err != nil {
			p.t.Errorf("node process: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		p.t.Errorf("node process did not stop within 30 s\n%s", p.stderr.String())
	}
}
