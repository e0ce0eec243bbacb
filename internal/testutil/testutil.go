// Package testutil holds helpers shared by the process tests (test/...).
package testutil

import (
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
)

// FreeAddrs returns n loopback addresses whose ports were free a moment
// ago. They are on a loopback address of this process's own (LoopbackIP),
// not on 127.0.0.1: the kernel hands out 127.0.0.1's ports as the source
// ports of outgoing loopback connections, and one of those taking a port
// between this call and the daemon's bind made tests fail with "address
// already in use".
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	var ls []net.Listener
	ip := LoopbackIP()
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// LoopbackIP returns an address of 127.0.0.0/8 derived from the process
// id (so parallel test binaries use different ones), or 127.0.0.1 where
// the system only has that one.
func LoopbackIP() string {
	loopbackOnce.Do(func() {
		pid := os.Getpid()
		ip := fmt.Sprintf("127.%d.%d.1", 100+pid%100, 1+(pid/100)%250)
		if l, err := net.Listen("tcp", net.JoinHostPort(ip, "0")); err == nil {
			l.Close()
			loopbackIP = ip
			return
		}
		loopbackIP = "127.0.0.1"
	})
	return loopbackIP
}

var (
	loopbackOnce sync.Once
	loopbackIP   string
)

// Tail returns the last n bytes of s (a daemon's log for a failure
// message).
func Tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
