package devcluster

import "syscall"

// detach puts a daemon in its own process group, so that a Ctrl-C in the
// launcher's terminal reaches the launcher only (it stops the daemons in
// order), and has the kernel kill it if the launcher dies, so that a
// crashed launcher or test leaves no daemon behind. A background daemon
// gets its own session instead and outlives the launcher.
func detach(background bool) *syscall.SysProcAttr {
	if background {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
