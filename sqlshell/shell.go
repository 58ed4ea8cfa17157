// Package sqlshell is lakenode's interactive shell: line editing with
// history and tab completion (ergochat/readline), multi-line `< ... >`
// blocks, help, Ctrl-C to cancel the running command, and asynchronous node
// lines printed above the prompt.
//
// It reaches a node only through the Conn interface it declares, so the same
// shell runs in-process or against a remote node. It knows nothing of
// actors or storage.
package sqlshell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ergochat/readline"

	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
)

// Reply is a command's outcome as the shell prints it.
type Reply = output.Reply

// Conn runs commands on a node.
type Conn interface {
	Execute(ctx context.Context, line string) Reply
	// Complete returns the candidates for the word at the cursor, whole
	// words: before and after are the command typed so far (an unfinished
	// block's earlier lines included) split at the cursor.
	Complete(ctx context.Context, before, after string) []string
}

// StreamConn is a Conn that can write a command's result to stdout as it is
// produced (a long json:output reply), notices first on stderr; the Reply
// then carries only what was not written.
type StreamConn interface {
	Conn
	ExecuteTo(ctx context.Context, line string, stdout, stderr io.Writer) Reply
}

// Config configures a Shell.
type Config struct {
	Conn   Conn
	Prompt string // shown as "PROMPT> "
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// HistoryFile defaults to ~/.lakenode_history; "-" disables history.
	HistoryFile string
	// Progress shows a progress line on Stderr (a terminal) for a command
	// that runs longer than a second: the rows its queries scan on this
	// node (an in-process node: a node reached with --connect reports
	// none).
	Progress bool
}

// Shell is one interactive session.
type Shell struct {
	cfg Config

	mu sync.Mutex
	rl *readline.Instance

	comp *completer
}

// New returns a shell; Run starts it.
func New(cfg Config) *Shell {
	if cfg.HistoryFile == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cfg.HistoryFile = filepath.Join(home, ".lakenode_history")
		}
	}
	if cfg.HistoryFile == "-" {
		cfg.HistoryFile = ""
	}
	return &Shell{cfg: cfg, comp: &completer{conn: cfg.Conn}}
}

// Printer returns a function that prints an asynchronous line above the
// prompt without corrupting the line being typed.
func (s *Shell) Printer() func(string) {
	return func(line string) {
		s.mu.Lock()
		rl := s.rl
		s.mu.Unlock()
		if !strings.HasSuffix(line, "\n") {
			line += "\n"
		}
		if rl != nil {
			_, _ = rl.Write([]byte(line))
			return
		}
		_, _ = io.WriteString(s.cfg.Stderr, line)
	}
}

// Run reads and runs commands until Ctrl-D, `exit` or ctx ends.
func (s *Shell) Run(ctx context.Context) error {
	rl, err := readline.NewFromConfig(&readline.Config{
		Prompt:            s.cfg.Prompt + "> ",
		HistoryFile:       s.cfg.HistoryFile,
		HistorySearchFold: true,
		// Blocks are saved whole, once complete, not line by line.
		DisableAutoSaveHistory: true,
		AutoComplete:           s.comp,
		Stdin:                  s.cfg.Stdin,
		Stdout:                 s.cfg.Stdout,
		Stderr:                 s.cfg.Stderr,
		InterruptPrompt:        "^C",
		EOFPrompt:              "exit",
		Undo:                   true,
	})
	if err != nil {
		return fmt.Errorf("starting the shell: %w", err)
	}
	s.mu.Lock()
	s.rl = rl
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.rl = nil
		s.mu.Unlock()
		_ = rl.Close()
	}()
	go func() {
		<-ctx.Done()
		_ = rl.Close()
	}()
	fmt.Fprintf(rl.Stdout(), "lakenode shell on %s: `help` lists the commands, Ctrl-D or `exit` leaves.\n", s.cfg.Prompt)
	var block []string
	for {
		if len(block) > 0 {
			rl.SetPrompt("... ")
		} else {
			rl.SetPrompt(s.cfg.Prompt + "> ")
		}
		line, err := rl.ReadLine()
		if err == nil {
			resetHistoryCursor(rl)
		}
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			block = nil
			s.comp.setBlock(nil)
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(block) > 0 || strings.HasPrefix(strings.TrimSpace(line), "<") {
			block = append(block, line)
			joined := strings.Join(block, "\n")
			if !command.BlockComplete(joined) {
				s.comp.setBlock(block)
				continue
			}
			line = command.StripBlock(strings.Join(block, " "))
			block = nil
			s.comp.setBlock(nil)
		}
		line = strings.TrimSpace(line)
		if line != "" {
			// The history file never holds a secret.
			_ = rl.SaveToHistory(command.Redact(line))
		}
		switch strings.ToLower(line) {
		case "":
			continue
		case "exit", "quit", `\q`:
			return nil
		}
		s.runOne(ctx, rl, line)
	}
}

// resetHistoryCursor puts readline's history cursor back on the newest
// (pending) entry and forgets edits made to browsed entries. With
// DisableAutoSaveHistory, Enter leaves the cursor on the entry last recalled
// with Up, Down or Ctrl-R, and SaveToHistory then stores that entry's edit
// buffer — the line being typed — instead of its argument: a block typed
// after browsing the history (say Up, Ctrl-U, then the block's last line)
// was stored as its last line only. Saving an empty line is readline's
// (v0.1.3) way to move the cursor back without storing anything; it is done
// after every line so each line of a block also starts from the newest entry.
func resetHistoryCursor(rl *readline.Instance) {
	_ = rl.SaveToHistory("")
}

// runOne runs a command; Ctrl-C cancels it, not the shell.
func (s *Shell) runOne(ctx context.Context, rl *readline.Instance, line string) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	go func() {
		select {
		case <-sig:
			cancel()
		case <-cctx.Done():
		}
	}()
	start := time.Now()
	stdout, stderr := rl.Stdout(), rl.Stderr()
	stopProgress := func() {}
	if s.cfg.Progress {
		rows := &atomic.Int64{}
		cctx = output.WithProgress(cctx, rows)
		p := newProgress(stderr, rows, time.Now)
		tick := time.NewTicker(progressEvery)
		done := make(chan struct{})
		go p.run(tick.C, done)
		defer func() { tick.Stop(); close(done) }()
		stdout = &stopOnWrite{w: stdout, stop: p.stop}
		stderr = &stopOnWrite{w: stderr, stop: p.stop}
		stopProgress = p.stop
	}
	runAndPrint(cctx, s.cfg.Conn, line, stdout, stderr)
	stopProgress()
	fmt.Fprintf(rl.Stderr(), "(%s)\n", formatElapsed(time.Since(start)))
}

func formatElapsed(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// completer asks the node for the candidates at the cursor, given the
// whole command typed so far: command words, what may follow them, and
// names (dbms, tables, columns) where they may stand.
type completer struct {
	conn Conn

	mu    sync.Mutex
	block []string // the lines of an unfinished block
}

func (c *completer) setBlock(lines []string) {
	c.mu.Lock()
	c.block = append([]string(nil), lines...)
	c.mu.Unlock()
}

func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	head, tail := string(line[:pos]), string(line[pos:])
	prefix := head[command.WordStart(head):]
	c.mu.Lock()
	before := strings.Join(append(append([]string(nil), c.block...), head), " ")
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	names := c.conn.Complete(ctx, before, tail)
	cancel()
	var out [][]rune
	for _, w := range names {
		if len(w) >= len(prefix) && strings.EqualFold(w[:len(prefix)], prefix) {
			out = append(out, []rune(w[len(prefix):]+" "))
		}
	}
	return out, len([]rune(prefix))
}
