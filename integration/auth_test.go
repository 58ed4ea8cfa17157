package integration

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/lakenode/lakenode/actors/actorpb"
	"github.com/lakenode/lakenode/cluster"
	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/node/auth"
	"github.com/lakenode/lakenode/node/auth/authtest"
)

// newToken writes a random token to a mode-600 file, as the README says.
func newToken(t testing.TB) (token, file string) {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.StdEncoding.EncodeToString(b)
	file = filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return token, file
}

// request sends a REST request with the given headers (a "Host" entry
// replaces the Host header) and returns the status and body.
func request(t testing.TB, url string, headers map[string]string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// authExec runs a command through the REST port with the token and fails
// the test unless it succeeds.
func (p *nodeProc) authExec(token, command string) string {
	p.t.Helper()
	st, body := request(p.t, "http://"+p.http+"/", map[string]string{"command": command, "Authorization": "Bearer " + token})
	if st != http.StatusOK {
		p.t.Fatalf("%q on %s: status %d: %s\n%s", command, p.name, st, body, p.logTail())
	}
	return body
}

func (p *nodeProc) logCount(s string) int {
	b, _ := os.ReadFile(p.log.Name())
	return strings.Count(string(b), s)
}

const refusedLine = "remote endpoint refused a connection"

// TestAuthREST: with a token every request but /healthz needs it (401
// without or with a wrong one), /metrics too unless --metrics-open; without
// a token (loopback) a foreign Host header or origin is refused.
func TestAuthREST(t *testing.T) {
	tok, file := newToken(t)
	a := startNode(t, "rest-token", t.TempDir(), "", "--auth-token-file", file)
	m := startNode(t, "rest-metrics-open", t.TempDir(), "", "--auth-token-file", file, "--metrics-open")
	open := startNode(t, "rest-open", t.TempDir(), "")
	cmd := map[string]string{"command": "get version"}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	_, port, _ := net.SplitHostPort(open.http)
	cases := []struct {
		name    string
		url     string
		headers map[string]string
		want    int
	}{
		{"no token", "http://" + a.http + "/", cmd, 401},
		{"wrong token", "http://" + a.http + "/", with(cmd, "Authorization", "Bearer wrong-wrong-wrong-wrong"), 401},
		{"right token", "http://" + a.http + "/", with(cmd, "Authorization", "Bearer "+tok), 200},
		{"healthz open", "http://" + a.http + "/healthz", nil, 200},
		{"metrics closed", "http://" + a.http + "/metrics", nil, 401},
		{"metrics with token", "http://" + a.http + "/metrics", map[string]string{"Authorization": "Bearer " + tok}, 200},
		{"metrics open", "http://" + m.http + "/metrics", nil, 200},
		{"metrics open, command still closed", "http://" + m.http + "/", cmd, 401},
		{"profiles closed", "http://" + a.http + "/debug/pprof/heap", nil, 401},
		{"profiles closed with metrics open", "http://" + m.http + "/debug/pprof/goroutine", nil, 401},
		{"profiles with token", "http://" + a.http + "/debug/pprof/heap", map[string]string{"Authorization": "Bearer " + tok}, 200},
		{"no cmdline profile", "http://" + a.http + "/debug/pprof/cmdline", map[string]string{"Authorization": "Bearer " + tok}, 404},
		{"open node", "http://" + open.http + "/", cmd, 200},
		{"open node, localhost", "http://" + open.http + "/", with(cmd, "Host", "localhost:"+port), 200},
		{"open node, rebinding Host", "http://" + open.http + "/", with(cmd, "Host", "attacker.example:"+port), 403},
		{"open node, cross-origin", "http://" + open.http + "/", with(cmd, "Origin", "http://attacker.example"), 403},
		{"open node, own origin", "http://" + open.http + "/", with(cmd, "Origin", "http://"+open.http), 200},
		{"token node, cross-origin with token", "http://" + a.http + "/", with(cmd, "Origin", "http://attacker.example", "Authorization", "Bearer "+tok), 200},
	}
	for _, c := range cases {
		st, body := request(t, c.url, c.headers)
		if st != c.want {
			t.Errorf("%s: status %d, want %d: %s", c.name, st, c.want, body)
		}
		if strings.Contains(body, tok) {
			t.Errorf("%s: the reply shows the token", c.name)
		}
	}
	// The refusals of one source are logged once a minute.
	if n := a.logCount("REST request refused"); n != 1 {
		t.Errorf("node with token logged %d REST refusals, want 1 (two requests for one reason)", n)
	}
	if n := open.logCount("REST request refused"); n != 2 {
		t.Errorf("open node logged %d REST refusals, want 2 (one per reason)", n)
	}
	for _, p := range []*nodeProc{a, m, open} {
		p.stop()
		if p.logCount(tok) != 0 {
			t.Errorf("%s's log shows the token", p.name)
		}
	}
}

// TestAuthConnectAndRemote: --connect without the token or with a wrong one
// is refused with a clear error, with the right one it works; a process that
// is not a member sends CommandRequest and a NodeInfoRequest naming an
// address of its choosing straight over the remote port: no reply, no dial,
// and the refusals are logged once.
func TestAuthConnectAndRemote(t *testing.T) {
	tok, file := newToken(t)
	n := startNode(t, "remote-token", t.TempDir(), "", "--auth-token-file", file)

	_, stderr, code := runCLI(t, "", "--connect", n.listen, "-c", "get version")
	if code != 1 || !strings.Contains(stderr, "refused by the node at "+n.listen+": missing or wrong token") {
		t.Fatalf("--connect without a token: exit %d, stderr %q", code, stderr)
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("wrong-wrong-wrong-wrong-wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runCLI(t, "", "--connect", n.listen, "--auth-token-file", wrong, "-c", "get version")
	if code != 1 || !strings.Contains(stderr, "missing or wrong token") || strings.Contains(stderr, "wrong-wrong") {
		t.Fatalf("--connect with a wrong token: exit %d, stderr %q", code, stderr)
	}
	stdout, stderr, code := runCLI(t, "", "--connect", n.listen, "--auth-token-file", file, "-c", "get version")
	if code != 0 || !strings.HasPrefix(stdout, "lakenode ") {
		t.Fatalf("--connect with the token: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// A trap address: the node must never dial it. The intruder names it
	// as its own address, in the message and as the sender.
	trap, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer trap.Close()
	var dials atomic.Int32
	go func() {
		for {
			c, err := trap.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			_ = c.Close()
		}
	}()
	ask := func(listen string, sec auth.Settings) error {
		opts, err := sec.RemoteOptions(nil)
		if err != nil {
			t.Fatal(err)
		}
		sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
		rem := remote.NewRemote(sys, remote.Configure("127.0.0.1", 0, opts...))
		rem.Start()
		defer rem.Shutdown(false)
		target := actor.NewPID(listen, cluster.CommandActorName)
		sys.Root.RequestWithCustomSender(target, &actorpb.NodeInfoRequest{From: "intruder", FromAddress: trap.Addr().String()}, actor.NewPID(trap.Addr().String(), "intruder"))
		_, err = sys.Root.RequestFuture(target, &actorpb.CommandRequest{Line: "get version"}, 5*time.Second).Result()
		return err
	}
	if err := ask(n.listen, auth.Settings{}); err == nil {
		t.Fatal("a CommandRequest without the token was answered")
	}
	if err := ask(n.listen, auth.Settings{Token: []byte("wrong-wrong-wrong-wrong-wrong")}); err == nil {
		t.Fatal("a CommandRequest with a wrong token was answered")
	}
	// Ten seconds, many heartbeats, have passed: the trap was not dialed,
	// and the node runs on.
	if d := dials.Load(); d != 0 {
		t.Fatalf("the node dialed the address named by an unauthenticated heartbeat %d times", d)
	}
	if r := n.authExec(tok, "get nodes"); strings.Contains(r, "intruder") || strings.Contains(r, trap.Addr().String()) {
		t.Fatalf("the intruder is listed:\n%s", r)
	}
	// With the token the same request is answered (the test's client works).
	if err := ask(n.listen, auth.Settings{Token: []byte(tok)}); err != nil {
		t.Fatalf("a CommandRequest with the token: %v", err)
	}
	// The control: a node without a token (loopback) answers the same
	// intruder, and dials the trap (its reply, and one verification ping).
	open := startNode(t, "remote-open", t.TempDir(), "")
	if err := ask(open.listen, auth.Settings{}); err != nil {
		t.Fatalf("an open node did not answer: %v", err)
	}
	waitFor(t, 30*time.Second, func() bool { return dials.Load() > 0 }, "the open node to dial the trap")
	open.stop()
	// Every refusal came from 127.0.0.1 for one reason: logged once.
	if c := n.logCount(refusedLine); c != 1 {
		t.Fatalf("refusals logged %d times, want once\n%s", c, n.logTail())
	}
	n.stop()
	if n.logCount(tok) != 0 {
		t.Fatal("the node's log shows the token")
	}
}

// TestAuthCluster: two nodes sharing a token form a cluster and run client
// () answers over both; a node started with another cluster's token and
// --seeds naming a member does not join: the member does not list it, its
// rows are not in run client () answers, and the refusal is logged once.
func TestAuthCluster(t *testing.T) {
	b := kafkatest.Shared(t)
	kafkatest.CreateTopic(t, b, "auth_a", 2)
	kafkatest.CreateTopic(t, b, "auth_b", 2)
	host, port, _ := net.SplitHostPort(b.Addr())
	consumer := func(topic string) string {
		return fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = %s and dbms = fleet and table = pings and column.timestamp.timestamp = "bring [timestamp]" and column.seq.int = "bring [seq]" and column.device.str = "bring [device_name]")`, host, port, topic)
	}
	tok, file := newToken(t)
	rogueTok, rogueFile := newToken(t)
	la, lb := freeAddr(t), freeAddr(t)
	// node-a holds topic auth_a, node-b auth_b; the rogue holds auth_a too,
	// so its rows in an answer would double node-a's.
	a := startNodeWith(t, "auth-a", t.TempDir(), la, consumer("auth_a"), "--seeds", lb, "--auth-token-file", file)
	bn := startNodeWith(t, "auth-b", t.TempDir(), lb, consumer("auth_b"), "--seeds", la, "--auth-token-file", file)
	rogue := startNodeWith(t, "auth-rogue", t.TempDir(), freeAddr(t), consumer("auth_a"), "--seeds", la, "--auth-token-file", rogueFile)

	const half, total = 500, 1000
	now := time.Now()
	var va, vb [][]byte
	for i := range half {
		va = append(va, pingMessage(i, now))
		vb = append(vb, pingMessage(half+i, now))
	}
	kafkatest.Produce(t, b, "auth_a", va...)
	kafkatest.Produce(t, b, "auth_b", vb...)
	rows := func(p *nodeProc, token string) int64 {
		return parseCount(p.authExec(token, "get rows count where dbms = fleet and table = pings and format = json"), "fleet", "pings")
	}
	waitFor(t, 90*time.Second, func() bool {
		return rows(a, tok) == half && rows(bn, tok) == half && rows(rogue, rogueTok) == half
	}, "each node to hold its %d rows", half)
	waitFor(t, 30*time.Second, func() bool {
		return strings.Count(a.authExec(tok, "get nodes"), "fleet.pings") == 2 && a.logCount(refusedLine) > 0
	}, "node-a to list node-b's table, and to refuse the rogue")
	want := fmt.Sprintf(`{"count(*)": %d, "count(distinct seq)": %d}`, total, total)
	for _, p := range []*nodeProc{a, bn} {
		body := p.authExec(tok, `run client () sql fleet "select count(*), count(distinct seq) from pings"`)
		if !strings.Contains(body, want) || !strings.Contains(body, `"Nodes": 2`) {
			t.Fatalf("run client () on %s:\n%s\nwant %s from 2 nodes", p.name, body, want)
		}
		if nodes := p.authExec(tok, "get nodes"); strings.Contains(nodes, "auth-rogue") {
			t.Fatalf("%s lists the rogue node:\n%s", p.name, nodes)
		}
	}
	if nodes := rogue.authExec(rogueTok, "get nodes"); strings.Contains(nodes, "auth-a") || strings.Contains(nodes, "auth-b") {
		t.Fatalf("the rogue lists a member:\n%s", nodes)
	}
	// The rogue pings node-a every second; node-a logs the refusal once.
	if c := a.logCount(refusedLine); c != 1 {
		t.Fatalf("node-a logged the rogue's refusal %d times, want once\n%s", c, a.logTail())
	}
	for _, p := range []*nodeProc{rogue, a, bn} {
		p.stop()
	}
	for _, p := range []*nodeProc{rogue, a, bn} {
		if p.logCount(tok) != 0 || p.logCount(rogueTok) != 0 {
			t.Fatalf("%s's log shows a token", p.name)
		}
	}
}

// TestAuthRefusedStart: a non-loopback address without a token or mutual
// TLS, and a bad token file, are refused at start with how to fix it.
func TestAuthRefusedStart(t *testing.T) {
	tok, file := newToken(t)
	loose := filepath.Join(t.TempDir(), "loose")
	if err := os.WriteFile(loose, []byte(tok), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		// 0.0.0.0 is refused before anything binds.
		{"listen wildcard", []string{"--listen", "0.0.0.0:0"}, 1, "--listen 0.0.0.0:0 is not a loopback address"},
		{"http wildcard", []string{"--http", "0.0.0.0:0"}, 1, "--http 0.0.0.0:0 is not a loopback address"},
		{"empty host", []string{"--listen", ":0"}, 1, "--auth-token-file FILE"},
		{"world-readable token", []string{"--auth-token-file", loose}, 2, "readable or writable by others"},
		{"empty token", []string{"--auth-token-file", empty}, 2, "the token is empty"},
		{"missing token file", []string{"--auth-token-file", filepath.Join(t.TempDir(), "nope")}, 2, "no such file"},
		{"half a TLS pair", []string{"--tls-cert", file}, 2, "--tls-cert and --tls-key go together"},
	}
	for _, c := range cases {
		args := append([]string{"--data-dir", t.TempDir()}, c.args...)
		args = append(args, "-c", "get version")
		_, stderr, code := runCLI(t, "", args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.name, code, stderr, c.code, c.want)
		}
		if strings.Contains(stderr, tok) {
			t.Errorf("%s: stderr shows the token", c.name)
		}
	}
}

// TestAuthMutualTLS: two nodes with certificates of one CA and --client-ca
// form a cluster over mutual TLS; REST is HTTPS and needs a client
// certificate; --connect works with the certificate and is refused without.
func TestAuthMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := authtest.WriteCA(t, dir, "cluster")
	sec := auth.Settings{TLSCert: cert, TLSKey: key, ClientCA: ca}
	cli, err := sec.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cli}, Timeout: 30 * time.Second}
	tlsArgs := []string{"--tls-cert", cert, "--tls-key", key, "--client-ca", ca}
	start := func(name, listen, seeds string) (httpAddr string, done chan error, cmd *exec.Cmd) {
		httpAddr = freeAddr(t)
		args := append([]string{"--serve", "--name", name, "--data-dir", t.TempDir(), "--http", httpAddr, "--listen", listen, "--pg", "127.0.0.1:0", "--seeds", seeds, "--log-level", "info"}, tlsArgs...)
		cmd = exec.Command(binary(t), args...)
		logf, err := os.Create(filepath.Join(t.TempDir(), "node.log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done = make(chan error, 1)
		go func() { done <- cmd.Wait(); _ = logf.Close() }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-done
		})
		waitFor(t, 60*time.Second, func() bool {
			resp, err := client.Get("https://" + httpAddr + "/healthz")
			if err != nil {
				return false
			}
			_ = resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, "node %s to serve HTTPS", name)
		return httpAddr, done, cmd
	}
	la, lb := freeAddr(t), freeAddr(t)
	ha, _, _ := start("tls-a", la, lb)
	start("tls-b", lb, la)
	cmd := func(c string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+ha+"/", nil)
		req.Header.Set("command", c)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, 30*time.Second, func() bool {
		st, body := cmd("get nodes")
		return st == http.StatusOK && strings.Contains(body, "tls-b") && strings.Contains(body, "alive")
	}, "tls-a to list tls-b over mutual TLS")
	if st, body := cmd("run client (tls-b) get version"); st != http.StatusOK || !strings.Contains(body, "[From Node tls-b]") {
		t.Fatalf("run client (tls-b): %d %s", st, body)
	}
	// REST without a client certificate: the handshake fails.
	noCert := cli.Clone()
	noCert.Certificates = nil
	if resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: noCert}}).Get("https://" + ha + "/healthz"); err == nil {
		_ = resp.Body.Close()
		t.Fatal("REST served a client without a certificate")
	}
	stdout, stderr, code := runCLI(t, "", append([]string{"--connect", la, "-c", "get version"}, tlsArgs...)...)
	if code != 0 || !strings.HasPrefix(stdout, "lakenode ") {
		t.Fatalf("--connect with the certificate: exit %d, %q %q", code, stdout, stderr)
	}
	_, otherCert, otherKey := authtest.WriteCA(t, dir, "other")
	_, stderr, code = runCLI(t, "", "--connect", la, "--tls-cert", otherCert, "--tls-key", otherKey, "--client-ca", ca, "-c", "get version")
	if code != 1 || !strings.Contains(stderr, "TLS handshake failed") {
		t.Fatalf("--connect with another CA's certificate: exit %d, stderr %q", code, stderr)
	}
}
