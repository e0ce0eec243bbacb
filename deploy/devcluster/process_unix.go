//go:build unix

package devcluster

import "syscall"

const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

func signalPid(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

// alive reports whether a process with this pid exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
