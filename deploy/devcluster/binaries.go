package devcluster

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// modulePath is the module whose cmd/mon and cmd/osd the launcher builds.
const modulePath = "github.com/gorados/gorados"

// Binaries returns the directory holding the mon and osd executables:
//  1. the directory of the running executable, when both are there (an
//     installed release, `make build`);
//  2. dir/bin, freshly built with `go build` when the working directory is
//     inside the gorados source tree (so that `go run ./cmd/radosctl dev
//     up` always runs daemons built from the same source; the build cache
//     makes this quick when nothing changed);
//  3. the directory on PATH that holds both.
//
// Source builds come before PATH on purpose: a stale or unrelated `mon`
// on PATH must not shadow the checkout being worked on.
func Binaries(dir string, progress io.Writer) (string, error) {
	if exe, err := os.Executable(); err == nil {
		if d := filepath.Dir(exe); hasBinaries(d) {
			return d, nil
		}
	}
	if root, ok := moduleRoot(); ok {
		out := filepath.Join(dir, "bin")
		if err := build(root, out, progress); err != nil {
			return "", err
		}
		return out, nil
	}
	if mon, err := exec.LookPath("mon"); err == nil {
		if d := filepath.Dir(mon); hasBinaries(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w next to this program, in a gorados source tree or on PATH: run from the source checkout, or `make build` and use bin/radosctl", ErrNoBinaries)
}

func hasBinaries(dir string) bool {
	for _, name := range []string{"mon", "osd"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// moduleRoot finds the gorados go.mod at or above the working directory.
func moduleRoot() (string, bool) {
	d, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if f, err := os.Open(filepath.Join(d, "go.mod")); err == nil {
			first := ""
			if sc := bufio.NewScanner(f); sc.Scan() {
				first = strings.TrimSpace(sc.Text())
			}
			f.Close()
			return d, first == "module "+modulePath
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

// build compiles cmd/mon and cmd/osd of the module at root into out.
func build(root, out string, progress io.Writer) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(progress, "building mon and osd into %s ...\n", out)
	var stderr bytes.Buffer
	cmd := exec.Command("go", "build", "-o", out+string(os.PathSeparator), "./cmd/mon", "./cmd/osd")
	cmd.Dir, cmd.Stderr = root, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: go build ./cmd/mon ./cmd/osd in %s: %v\n%s", ErrNoBinaries, root, err, stderr.String())
	}
	return nil
}
