//go:build !unix

package devcluster

import "syscall"

const (
	sigTerm = syscall.Signal(15)
	sigKill = syscall.Signal(9)
)

func detach(bool) *syscall.SysProcAttr { return nil }

func signalPid(int, syscall.Signal) error { return ErrUnsupported }

func alive(int) bool { return false }
