package kafkatest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the broker when the test binary dies
// without running its cleanups (a panic, a test timeout, SIGKILL), so that no
// broker outlives the tests that started it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
