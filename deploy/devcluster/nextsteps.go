package devcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// NextSteps returns the lines `dev up` prints once the cluster is ready:
// where things are and the exact commands to try. radosctl is how the
// user runs radosctl (see RadosctlCommand).
func (c *Cluster) NextSteps(radosctl string) string {
	var b strings.Builder
	l := c.layout
	hosts := map[string]bool{}
	for _, d := range l.OSDs() {
		hosts[d.Host] = true
	}
	fmt.Fprintf(&b, "\nThe cluster is up: %d monitors, %d OSDs on %d hosts", len(l.Mons()), len(l.OSDs()), len(hosts))
	if l.Pool != "-" {
		fmt.Fprintf(&b, ", pool %q (size %d, min_size %d, %d PGs, all active)", l.Pool, l.Size, l.MinSize, l.PGNum)
	}
	fmt.Fprintf(&b, ".\nData in %s, daemon logs in %s.\n\n", c.dir, filepath.Join(c.dir, "log"))
	pool := l.Pool
	if pool == "-" {
		pool = "POOL"
	}
	fmt.Fprintf(&b, "Try, in another terminal from this directory:\n\n")
	fmt.Fprintf(&b, "  export GORADOS_CONF=%s\n", c.ConfPath())
	fill := strings.NewReplacer("{R}", radosctl, "{P}", pool)
	for _, line := range []string{
		"{R} status",
		"{R} osd tree",
		"echo 'hello, gorados' | {R} -p {P} put greeting -",
		"{R} -p {P} get greeting -",
		"{R} -p {P} stat greeting",
		"{R} -p {P} ls",
		"{R} osd map {P} greeting",
		"{R} pg stat",
		"{R} bench 10 write -p {P} -t 16 --no-cleanup",
		"{R} bench 10 seq -p {P} -t 16",
		"{R} cleanup -p {P}",
	} {
		fmt.Fprintf(&b, "  %s\n", fill.Replace(line))
	}
	fmt.Fprintf(&b, "\nStop an OSD to watch its PGs carry on with two copies (%s status shows them undersized): %s dev stop osd.0 (and %s dev start osd.0)\n", radosctl, radosctl, radosctl)
	return b.String()
}

// RadosctlCommand returns how the running radosctl was invoked, for
// messages that tell the user what to type: "go run ./cmd/radosctl" under
// go run, "radosctl" when that is what PATH finds, else the path used.
func RadosctlCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "radosctl"
	}
	if strings.Contains(exe, "go-build") {
		return "go run ./cmd/radosctl"
	}
	if onPath, err := exec.LookPath("radosctl"); err == nil && sameFile(onPath, exe) {
		return "radosctl"
	}
	return os.Args[0]
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
