package kafkatest

import (
	"errors"
	"fmt"
	"syscall"
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
	return nil
}
