package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorados/gorados/crush"
)

const formatsTestdata = "../../crush/testdata/formats/ok"

// runCrushCmd runs the command tree in-process with stdin and returns its
// standard output.
func runCrushCmd(stdin []byte, args ...string) (string, error) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetIn(bytes.NewReader(stdin))
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(formatsTestdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCrushFormatCommands runs compile, decompile, tree and dump on golden
// maps and compares with crushtool's outputs byte for byte.
func TestCrushFormatCommands(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"spec59", "shadow_pins", "choose_args_all", "all_algs"} {
		txt := filepath.Join(formatsTestdata, name+".txt")
		bin := filepath.Join(dir, name+".bin")
		if _, err := runCrushCmd(nil, "crush", "compile", txt, "-o", bin); err != nil {
			t.Fatalf("%s: compile: %v", name, err)
		}
		if got, _ := os.ReadFile(bin); !bytes.Equal(got, readGolden(t, name+".bin")) {
			t.Errorf("%s: compiled binary differs from crushtool -c", name)
		}
		cases := []struct {
			args []string
			want string
		}{
			{[]string{"crush", "decompile", bin}, name + ".d.txt"},
			{[]string{"crush", "tree", bin}, name + ".tree"},
			{[]string{"crush", "dump", bin}, name + ".json"},
		}
		for _, c := range cases {
			got, err := runCrushCmd(nil, c.args...)
			if err != nil || got != string(readGolden(t, c.want)) {
				t.Errorf("%s: %v: err %v, output differs from %s", name, c.args, err, c.want)
			}
		}
	}
}

func TestCrushDecompileToFileAndStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "map.txt")
	bin := readGolden(t, "spec59.bin")
	if _, err := runCrushCmd(bin, "crush", "decompile", "-", "-o", out); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, readGolden(t, "spec59.d.txt")) {
		t.Fatal("decompiled file differs from crushtool -d")
	}
}

// TestCrushCommandErrors checks that bad input gives one clear line naming
// the file (and line:column for syntax errors) and an error, never a panic.
func TestCrushCommandErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.txt", []byte("device 0 osd.0\nhost h {\n\talg straw2\n\titem osd.0 weight x\n}\n"))
	refused := write("refused.txt", []byte("type 0 osd\nhost h {\n\talg straw2\n}\n"))
	trunc := write("trunc.bin", readGolden(t, "spec59.bin")[:200])
	cases := []struct {
		args []string
		want string
		is   error
	}{
		{[]string{"crush", "compile", bad, "-o", filepath.Join(dir, "o")}, bad + ":4:20: syntax error: expected a number, found \"x\"", crush.ErrSyntax},
		{[]string{"crush", "tree", refused}, refused + ":2:1: bucket type 'host' is not defined", crush.ErrCompile},
		{[]string{"crush", "dump", trunc}, trunc + ": binary CRUSH map is truncated", crush.ErrTruncated},
		{[]string{"crush", "decompile", filepath.Join(dir, "missing")}, "read CRUSH map: open", os.ErrNotExist},
		{[]string{"crush", "compile", bad}, "crush compile: give the output file with -o OUT", nil},
	}
	for _, c := range cases {
		_, err := runCrushCmd(nil, c.args...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err = %v, want one line starting %q", c.args[:2], err, c.want)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%v: err = %v does not wrap %v", c.args[:2], err, c.is)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); !os.IsNotExist(err) {
		t.Errorf("a failed compile left an output file: %v", err)
	}
}
