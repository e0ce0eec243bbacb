package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// radosctl runs the radosctl binary with env and stdin, and returns its
// standard output; a non-zero exit fails the test unless wantErr.
func radosctl(t *testing.T, env []string, stdin []byte, wantErr bool, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "radosctl"), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if (err != nil) != wantErr {
		t.Fatalf("radosctl %s: %v (want error: %v)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, wantErr, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// TestRadosctlQuickstart follows the README: `radosctl dev up
// --background` in a fresh directory, the data commands against the
// cluster it prints, a short bench, `dev status` and `dev down`.
func TestRadosctlQuickstart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	out, progress := radosctl(t, nil, nil, false, "dev", "up", "--background", "--dir", dir, "--pg-num", "16")
	if !strings.Contains(out, "export GORADOS_CONF="+filepath.Join(dir, "gorados.conf")) {
		t.Fatalf("dev up printed no next steps:\n%s", out)
	}
	if !strings.Contains(progress, "I/O check: wrote, read back and removed 64 objects") {
		t.Fatalf("dev up reported no I/O check:\n%s", progress)
	}
	stopped := false
	defer func() {
		if !stopped {
			radosctl(t, nil, nil, false, "dev", "down", "--dir", dir)
		}
	}()
	env := []string{"GORADOS_CONF=" + filepath.Join(dir, "gorados.conf"), "GORADOS_MON="}

	payload := bytes.Repeat([]byte("gorados "), 1<<17) // 1 MiB
	radosctl(t, env, payload, false, "-p", "data", "put", "greeting", "-")
	got, _ := radosctl(t, env, nil, false, "-p", "data", "get", "greeting", "-")
	if got != string(payload) {
		t.Fatalf("get returned %d bytes, put %d", len(got), len(payload))
	}
	stat, _ := radosctl(t, env, nil, false, "-p", "data", "stat", "greeting")
	if !regexp.MustCompile(`^data/greeting mtime \S+, size 1048576\n$`).MatchString(stat) {
		t.Fatalf("stat: %q", stat)
	}
	radosctl(t, env, nil, false, "-p", "data", "setxattr", "greeting", "user.lang", "en")
	if v, _ := radosctl(t, env, nil, false, "-p", "data", "getxattr", "greeting", "user.lang"); v != "en" {
		t.Fatalf("getxattr: %q", v)
	}
	radosctl(t, env, nil, false, "-p", "data", "setomapval", "greeting", "k", "v")
	if keys, _ := radosctl(t, env, nil, false, "-p", "data", "listomapkeys", "greeting"); keys != "k\n" {
		t.Fatalf("listomapkeys: %q", keys)
	}
	if ls, _ := radosctl(t, env, nil, false, "-p", "data", "ls"); ls != "greeting\n" {
		t.Fatalf("ls: %q", ls)
	}
	_, errOut := radosctl(t, env, nil, true, "-p", "data", "stat", "absent")
	if !strings.Contains(errOut, "object not found") {
		t.Fatalf("stat of a missing object: %q", errOut)
	}
	_, errOut = radosctl(t, env, nil, true, "-p", "nope", "ls")
	if !strings.Contains(errOut, `pool "nope" does not exist`) {
		t.Fatalf("ls of a missing pool: %q", errOut)
	}

	// The PG states the primaries report, in status and pg stat.
	// (Not HEALTH_OK: a nearly full disk on the test machine would rightly
	// add OSD_NEARFULL.)
	if st, _ := radosctl(t, env, nil, false, "status"); !containsAll(st, "4 osds: 4 up, 4 in", "pgs:     16 active+clean", "objects: 1 objects, 1.0 MiB", "usage:") ||
		strings.Contains(st, "Degraded") || strings.Contains(st, "Reduced data availability") {
		t.Fatalf("status of a healthy cluster:\n%s", st)
	}
	if ps, _ := radosctl(t, env, nil, false, "pg", "stat"); ps != "16 pgs: 16 active+clean; 1 objects, 1.0 MiB data\n" {
		t.Fatalf("pg stat: %q", ps)
	}
	var df struct {
		Nodes []struct {
			ID       int32  `json:"id"`
			KBUsed   uint64 `json:"kb_used"`
			KBData   uint64 `json:"kb_used_data"`
			PGs      int    `json:"pgs"`
			Reported bool   `json:"reported"`
		} `json:"nodes"`
	}
	out, _ = radosctl(t, env, nil, false, "osd", "df", "--format", "json")
	if err := json.Unmarshal([]byte(out), &df); err != nil || len(df.Nodes) != 4 {
		t.Fatalf("osd df --format json (%v):\n%s", err, out)
	}
	var copies, pgs int
	for _, n := range df.Nodes {
		if !n.Reported || n.KBUsed == 0 {
			t.Fatalf("osd df: osd.%d reported no space:\n%s", n.ID, out)
		}
		pgs += n.PGs
		if n.KBData >= 1024 {
			copies++
		}
	}
	if copies != 3 || pgs != 48 {
		t.Fatalf("osd df: %d OSDs hold the 1 MiB object (want 3), %d PG copies (want 48):\n%s", copies, pgs, out)
	}

	bench, _ := radosctl(t, env, nil, false, "bench", "2", "write", "-p", "data", "-b", "64K", "-t", "8", "--no-cleanup")
	for _, want := range []string{"Total writes made:", "Bandwidth (MB/sec):", "Average IOPS:", "p99 latency(s):"} {
		if !strings.Contains(bench, want) {
			t.Fatalf("bench write output lacks %q:\n%s", want, bench)
		}
	}
	if seq, _ := radosctl(t, env, nil, false, "bench", "2", "seq", "-p", "data", "-t", "8"); !strings.Contains(seq, "Total reads made:") {
		t.Fatalf("bench seq output:\n%s", seq)
	}
	radosctl(t, env, nil, false, "cleanup", "-p", "data")
	if ls, _ := radosctl(t, env, nil, false, "-p", "data", "ls"); ls != "greeting\n" {
		t.Fatalf("ls after cleanup: %q", ls)
	}

	status, _ := radosctl(t, nil, nil, false, "dev", "status", "--dir", dir)
	if n := strings.Count(status, " running "); n != 7 || !strings.Contains(status, "3/3 monitors in quorum") {
		t.Fatalf("dev status (%d running):\n%s", n, status)
	}
	killedPrimaryMarkedDown(t, env, dir)

	radosctl(t, nil, nil, false, "dev", "down", "--dir", dir)
	stopped = true
	status, _ = radosctl(t, nil, nil, false, "dev", "status", "--dir", dir)
	if strings.Contains(status, " running ") {
		t.Fatalf("daemons still running after dev down:\n%s", status)
	}
}

// TestSystemdUnitsUseKnownFlags checks that every flag the unit files and
// example env files of deploy/ pass to mon and osd is one the binaries
// know, so the units do not rot when flags change.
func TestSystemdUnitsUseKnownFlags(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	flagRE := regexp.MustCompile(`(?:^|\s)--([a-z][a-z-]*)`)
	for bin, files := range map[string][]string{
		"mon": {"deploy/systemd/gorados-mon@.service", "deploy/examples/mon.env"},
		"osd": {"deploy/systemd/gorados-osd@.service"},
	} {
		help, _ := exec.Command(filepath.Join(binDir, bin), "--help").CombinedOutput()
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(root, f))
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "#") {
					continue
				}
				for _, m := range flagRE.FindAllStringSubmatch(line, -1) {
					if !regexp.MustCompile(`-{1,2}` + m[1] + `\b`).Match(help) {
						t.Errorf("%s passes --%s, which `%s --help` does not list", f, m[1], bin)
					}
				}
			}
		}
	}
}

// killedPrimaryMarkedDown kills (-9) the primary of PG 1.0: its peers
// find nothing listening at its addresses and report it, the monitors mark
// it down, and its PGs go on with two copies (active+undersized+degraded);
// restarted, it boots again and every PG is active+clean.
func killedPrimaryMarkedDown(t *testing.T, env []string, dir string) {
	t.Helper()
	out, _ := radosctl(t, env, nil, false, "pg", "dump", "--format", "json")
	var dump struct {
		PGs []struct {
			PGID          string `json:"pgid"`
			State         string `json:"state"`
			ActingPrimary int32  `json:"acting_primary"`
		} `json:"pg_stats"`
	}
	if err := json.Unmarshal([]byte(out), &dump); err != nil || len(dump.PGs) != 16 || dump.PGs[0].PGID != "1.0" {
		t.Fatalf("pg dump --format json (%v):\n%s", err, out)
	}
	victim := fmt.Sprintf("osd.%d", dump.PGs[0].ActingPrimary)
	radosctl(t, nil, nil, false, "dev", "kill", victim, "--dir", dir)
	waitStatus(t, env, "1 osds down", "active+undersized+degraded")
	radosctl(t, env, []byte("written while "+victim+" is down"), false, "-p", "data", "put", "while-down", "-")
	radosctl(t, nil, nil, false, "dev", "start", victim, "--dir", dir)
	waitStatus(t, env, "4 osds: 4 up, 4 in", "pgs:     16 active+clean")
	if got, _ := radosctl(t, env, nil, false, "-p", "data", "get", "while-down", "-"); got != "written while "+victim+" is down" {
		t.Fatalf("object written while %s was down: %q", victim, got)
	}
}

// waitStatus polls `radosctl status` until it contains every one of want.
func waitStatus(t *testing.T, env []string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, _ := radosctl(t, env, nil, false, "status")
		if containsAll(out, want...) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed %q:\n%s", want, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
