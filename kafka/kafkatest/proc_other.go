//go:build !linux

package kafkatest

import "os/exec"

// dieWithParent does nothing where the kernel cannot tie a child's life to
// its parent's; brokers are still stopped by the tests' cleanups.
func dieWithParent(*exec.Cmd) {}
