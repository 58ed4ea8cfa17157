// Package local starts N lakenode node processes on this machine that know
// each other as seeds: `lakenode cluster up`.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config describes a local cluster. Node i (from 0) is named node-i, listens
// on 127.0.0.1:BasePort+2i and serves HTTP on BasePort+2i+1, with its data in
// DataDir/node-i and its log in DataDir/node-i.log.
type Config struct {
	Bin      string // the lakenode binary
	Nodes    int
	BasePort int    // default 32048
	DataDir  string // default ./lakenode-cluster
	// Embedded, when set, runs an embedded broker on node 0 at this address.
	Embedded string
}

// Node is one started node.
type Node struct {
	Name, Listen, HTTP, PG string
	cmd                    *exec.Cmd
	done                   chan error
}

// Cluster is a set of running node processes.
type Cluster struct {
	Nodes []*Node
}

// Up starts the nodes and waits until node 0 sees all the others.
func Up(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Nodes < 1 {
		return nil, errors.New("cluster up: --nodes must be at least 1")
	}
	if cfg.BasePort == 0 {
		cfg.BasePort = 32048
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "./lakenode-cluster"
	}
	c := &Cluster{}
	var listens []string
	for i := range cfg.Nodes {
		listens = append(listens, "127.0.0.1:"+strconv.Itoa(cfg.BasePort+3*i))
	}
	for i := range cfg.Nodes {
		n := &Node{Name: fmt.Sprintf("node-%d", i), Listen: listens[i], HTTP: "127.0.0.1:" + strconv.Itoa(cfg.BasePort+3*i+1), PG: "127.0.0.1:" + strconv.Itoa(cfg.BasePort+3*i+2)}
		var seeds []string
		for j, l := range listens {
			if j != i {
				seeds = append(seeds, l)
			}
		}
		dir := filepath.Join(cfg.DataDir, n.Name)
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			c.Down()
			return nil, err
		}
		args := []string{"--serve", "--name", n.Name, "--listen", n.Listen, "--http", n.HTTP, "--pg", n.PG, "--data-dir", dir,
			"--log-level", "info", "--log-file", filepath.Join(cfg.DataDir, n.Name+".log")}
		if len(seeds) > 0 {
			args = append(args, "--seeds", strings.Join(seeds, ","))
		}
		if i == 0 && cfg.Embedded != "" {
			args = append(args, "--kafka-embedded", cfg.Embedded)
		}
		n.cmd = exec.Command(cfg.Bin, args...)
		n.cmd.Stdout, n.cmd.Stderr = io.Discard, io.Discard
		if err := n.cmd.Start(); err != nil {
			c.Down()
			return nil, fmt.Errorf("starting %s: %w", n.Name, err)
		}
		n.done = make(chan error, 1)
		go func() { n.done <- n.cmd.Wait() }()
		c.Nodes = append(c.Nodes, n)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range c.Nodes {
		for !n.healthy() {
			select {
			case err := <-n.done:
				n.done <- err
				c.Down()
				return nil, fmt.Errorf("%s exited during start-up (%v); see its log in %s", n.Name, err, cfg.DataDir)
			default:
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				c.Down()
				return nil, fmt.Errorf("%s did not start within 60 s; see its log in %s", n.Name, cfg.DataDir)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Wait until node 0 sees every other node.
	for {
		body, err := c.Nodes[0].Command("get nodes where format = json")
		if err == nil && strings.Count(body, `"status": "alive"`) == cfg.Nodes-1 {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			c.Down()
			return nil, errors.New("the nodes did not all join within 60 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (n *Node) healthy() bool {
	resp, err := http.Get("http://" + n.HTTP + "/healthz")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Command runs a command on the node through its REST port.
func (n *Node) Command(cmd string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+n.HTTP+"/", nil)
	req.Header.Set("command", cmd)
	if t := strings.TrimSpace(os.Getenv("LAKENODE_AUTH_TOKEN")); t != "" {
		req.Header.Set("Authorization", "Bearer "+t) // the nodes inherit it
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", n.Name, strings.TrimSpace(string(b)))
	}
	return string(b), err
}

// Down stops every node gracefully (SIGTERM; SIGKILL after 60 s).
func (c *Cluster) Down() {
	for _, n := range c.Nodes {
		if n.cmd.Process != nil {
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, n := range c.Nodes {
		select {
		case err := <-n.done:
			n.done <- err
		case <-time.After(60 * time.Second):
			_ = n.cmd.Process.Kill()
		}
	}
}
