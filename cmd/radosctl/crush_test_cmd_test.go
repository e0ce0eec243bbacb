package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mappingTestdata = "../../crush/testdata/mapping"

// runRadosctl runs the command tree in-process and returns its output.
func runRadosctl(args ...string) (string, error) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// crushtoolArgsToRadosctl rewrites crushtool's `--weight D W` pairs into
// radosctl's `--weight D:W`; the other flags have the same names.
func crushtoolArgsToRadosctl(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--weight" && i+2 < len(args) {
			out = append(out, "--weight", args[i+1]+":"+args[i+2])
			i += 2
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// TestCrushTestGolden runs every golden crushtool case through the command,
// with the text and the binary map, and compares the output byte for byte.
func TestCrushTestGolden(t *testing.T) {
	f, err := os.Open(filepath.Join(mappingTestdata, "cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		want := readGzip(t, filepath.Join(mappingTestdata, "out", fields[0]+"."+fields[1]+".txt.gz"))
		for _, ext := range []string{".txt", ".bin"} {
			args := append([]string{"crush", "test", filepath.Join(mappingTestdata, "maps", fields[0]+ext)},
				crushtoolArgsToRadosctl(fields[2:])...)
			got, err := runRadosctl(args...)
			if err != nil {
				t.Fatalf("radosctl %s: %v", strings.Join(args, " "), err)
			}
			if got != want {
				t.Errorf("radosctl %s: output differs from crushtool (%d vs %d bytes)", strings.Join(args, " "), len(got), len(want))
			}
		}
		n++
	}
	if n < 100 {
		t.Fatalf("only %d cases", n)
	}
}

func readGzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestCrushTestBadInput(t *testing.T) {
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.bin")
	bin, err := os.ReadFile(filepath.Join(mappingTestdata, "maps", "cluster240.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, bin[:len(bin)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(mappingTestdata, "maps", "cluster240.txt")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{good, "--rule", "9", "--num-rep", "3"}, "unknown rule 9"},
		{[]string{good, "--rule", "-1", "--num-rep", "3"}, "unknown rule -1"},
		{[]string{good, "--num-rep", "0"}, "--num-rep 0"},
		{[]string{good, "--num-rep", "-2"}, "--num-rep -2"},
		{[]string{good, "--num-rep", "3", "--weight", "1:1.5"}, "outside [0, 1]"},
		{[]string{good, "--num-rep", "3", "--weight", "1:-0.1"}, "outside [0, 1]"},
		{[]string{good, "--num-rep", "3", "--weight", "1:NaN"}, "not a number"},
		{[]string{good, "--num-rep", "3", "--weight", "240:0.5"}, "no such device"},
		{[]string{good, "--num-rep", "3", "--weight", "x:0.5"}, "not a device id"},
		{[]string{good, "--num-rep", "3", "--weight", "0.5"}, "use OSD:W"},
		{[]string{good, "--num-rep", "3", "--max-x", "2147483648"}, "32-bit x"},
		{[]string{truncated, "--num-rep", "3"}, "load CRUSH map"},
		{[]string{filepath.Join(dir, "missing"), "--num-rep", "3"}, "read CRUSH map"},
		{[]string{good}, "num-rep"},
	}
	for _, c := range cases {
		out, err := runRadosctl(append([]string{"crush", "test"}, c.args...)...)
		if err == nil {
			t.Errorf("%v: no error, output %q", c.args, out)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
			t.Errorf("%v: error %q, want one line containing %q", c.args, msg, c.want)
		}
		if out != "" {
			t.Errorf("%v: printed %q before failing", c.args, out)
		}
	}
}

func TestParseDeviceWeight(t *testing.T) {
	for in, want := range map[string]struct {
		id int32
		w  float32
	}{"3:0.5": {3, 0.5}, "osd.7:1": {7, 1}, "0:0": {0, 0}, "12:0.1": {12, 0.1}} {
		id, w, err := parseDeviceWeight(in)
		if err != nil || id != want.id || w != want.w {
			t.Errorf("parseDeviceWeight(%q) = %d, %v, %v", in, id, w, err)
		}
	}
}
