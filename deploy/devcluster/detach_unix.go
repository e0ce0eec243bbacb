//go:build unix && !linux

package devcluster

import "syscall"

// detach puts a daemon in its own process group, so that a Ctrl-C in the
// launcher's terminal reaches the launcher only, or in its own session
// when it must outlive the launcher.
func detach(background bool) *syscall.SysProcAttr {
	if background {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true}
}
