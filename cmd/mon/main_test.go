package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunRefusesBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--data", t.TempDir(), "extra"}, 2, "unexpected argument"},
		{[]string{"--initial-members", "a=nohostport", "--data", t.TempDir()}, 2, "HOST:PORT"},
		{[]string{"--initial-members", "a=127.0.0.1:1,a=127.0.0.1:2", "--data", t.TempDir()}, 2, "repeats"},
		{[]string{"--log-level", "loud", "--data", t.TempDir()}, 2, "--log-level"},
		{[]string{"--data", t.TempDir()}, 1, "first start needs --id"},
		{[]string{}, 1, "--data is required"},
		{[]string{"--no-such-flag"}, 2, "no-such-flag"},
		{[]string{"--osd-min-down-reporters", "0", "--data", t.TempDir()}, 2, "--osd-min-down-reporters must be at least 1"},
	}
	for _, c := range cases {
		var errOut bytes.Buffer
		if code := run(c.args, &errOut); code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("mon %v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errOut.String(), c.code, c.want)
		}
	}
}
