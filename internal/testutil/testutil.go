// Package testutil holds helpers shared by the process tests (test/...).
package testutil

import (
	"net"
	"testing"
)

// FreeAddrs returns n loopback addresses whose ports were free a moment
// ago.
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
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

// Tail returns the last n bytes of s (a daemon's log for a failure
// message).
func Tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
