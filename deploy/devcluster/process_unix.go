//go:build unix

package devcluster

import "syscall"

const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

// detach puts a daemon in its own process group, so that a Ctrl-C in the
// launcher's terminal reaches the launcher only (it stops the daemons in
// order), or in its own session when it must outlive the launcher.
func detach(background bool) *syscall.SysProcAttr {
	if background {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true}
}

func signalPid(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

// alive reports whether a process with this pid exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
