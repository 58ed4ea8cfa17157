package kafkatest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// kfakeReadyTimeout bounds a kfake broker's start, build excluded.
const kfakeReadyTimeout = 30 * time.Second

// StartKfake starts a kfake broker process for this test; it is stopped at
// the end of the test. Its records live in a directory of the test, so Stop
// or Kill followed by Start keeps them.
func StartKfake(t testing.TB) *Broker {
	t.Helper()
	b, err := newKfake(t.TempDir())
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	t.Cleanup(func() { b.close(false) })
	return b
}

// StartKfakeNoAutoCreate starts a kfake broker that refuses to create
// topics on first use, as a broker with auto.create.topics.enable = false;
// it is stopped at the end of the test.
func StartKfakeNoAutoCreate(t testing.TB) *Broker {
	t.Helper()
	b, err := newKfake(t.TempDir(), "-no-auto-create")
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	t.Cleanup(func() { b.close(false) })
	return b
}

func newKfake(dir string, args ...string) (*Broker, error) {
	b := &Broker{kind: KindKfake, dir: dir, extraArgs: args}
	if err := b.Start(); err != nil {
		return nil, err
	}
	return b, nil
}

var kfakeBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// buildKfake builds the kfakebroker command once per test binary into a
// temporary directory (which Main removes); the Go build cache makes this
// cheap after the first time.
func buildKfake() (string, error) {
	kfakeBin.once.Do(func() {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			kfakeBin.err = errors.New("cannot locate the kafkatest sources to build kfakebroker")
			return
		}
		dir, err := os.MkdirTemp("", "kafkatest-bin-")
		if err != nil {
			kfakeBin.err = fmt.Errorf("building kfakebroker: %w", err)
			return
		}
		kfakeBin.dir = dir
		path := filepath.Join(dir, "kfakebroker")
		cmd := exec.Command("go", "build", "-o", path, "./kfakebroker")
		cmd.Dir = filepath.Dir(file)
		if out, err := cmd.CombinedOutput(); err != nil {
			kfakeBin.err = fmt.Errorf("building kfakebroker: %w\n%s", err, out)
			return
		}
		kfakeBin.path = path
	})
	return kfakeBin.path, kfakeBin.err
}

// removeKfakeBin removes the built kfakebroker.
func removeKfakeBin() {
	if kfakeBin.dir != "" {
		_ = os.RemoveAll(kfakeBin.dir)
	}
}

// startKfakeLocked runs kfakebroker on the broker's address (a free port the
// first time) and waits until it answers metadata requests.
func (b *Broker) startKfakeLocked() error {
	bin, err := buildKfake()
	if err != nil {
		return err
	}
	listen := b.addr
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	b.logPath = filepath.Join(b.dir, "kfake.log")
	cmd := exec.Command(bin, append([]string{"-listen", listen, "-data-dir", filepath.Join(b.dir, "data"), "-partitions", "4"}, b.extraArgs...)...)
	if len(b.extraEnv) > 0 {
		cmd.Env = append(os.Environ(), b.extraEnv...)
	}

	// The broker reports its address on stdout; the rest of stdout goes to
	// the log.
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("starting the kfake broker: %w", err)
	}
	cmd.Stdout = pw
	logf, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		_ = pr.Close()
		_ = pw.Close()
		return fmt.Errorf("opening the broker log: %w", err)
	}
	p, err := b.spawn(cmd)
	_ = pw.Close()
	if err != nil {
		_ = pr.Close()
		_ = logf.Close()
		return err
	}
	addrc := make(chan string, 1)
	go func() {
		defer func() { _ = pr.Close(); _ = logf.Close() }()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "listening on "); ok {
				select {
				case addrc <- strings.TrimSpace(a):
				default:
				}
			}
			_, _ = fmt.Fprintln(logf, line)
		}
	}()

	announced := ""
	return b.awaitReady(p, kfakeReadyTimeout, func(ctx context.Context) error {
		if announced == "" {
			select {
			case announced = <-addrc:
			default:
				return errors.New(`no "listening on" line yet`)
			}
			if b.addr != "" && announced != b.addr {
				b.killLocked()
				return fmt.Errorf("the kfake broker listens on %s instead of %s", announced, b.addr)
			}
			b.addr = announced
		}
		return answersMetadata(ctx, b.addr, b.clientOpts...)
	})
}
