package kafkatest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Pause stops the broker process with SIGSTOP, as a broker that hangs
// (a long GC pause, a frozen VM) without closing its connections; Resume
// continues it. Both fail for an external broker and for one that is not
// running. A test that pauses its broker must not use the shared one.
func (b *Broker) Pause() error { return b.signal(syscall.SIGSTOP) }

// Resume continues a broker that Pause stopped (SIGCONT).
func (b *Broker) Resume() error { return b.signal(syscall.SIGCONT) }

func (b *Broker) signal(sig syscall.Signal) error {
	if b.kind == KindExternal {
		return errors.New("kafkatest: an external broker cannot be signalled")
	}
	pid := b.pid()
	if pid == 0 {
		return fmt.Errorf("kafkatest: the %s broker is not running", b.kind)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("kafkatest: signalling the %s broker (pid %d) with %v: %w", b.kind, pid, sig, err)
	}
	if sig == syscall.SIGSTOP {
		// kill returns before the process stops: wait until its state
		// says stopped, so that a paused broker answers nothing.
		return waitStopped(pid, 5*time.Second)
	}
	return nil
}

// waitStopped polls /proc/PID/stat until the process's state is stopped
// (T), for at most d; without /proc it returns at once.
func waitStopped(pid int, d time.Duration) error {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		// The state follows the command, which is in parentheses.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't') {
			return nil
		}
	}
	return fmt.Errorf("kafkatest: broker pid %d not stopped %v after SIGSTOP", pid, d)
}
