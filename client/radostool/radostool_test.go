package radostool

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/internal/fakepool"
)

func setup(t *testing.T) (context.Context, *client.IOContext) {
	t.Helper()
	return fakepool.Open(t, 20*time.Second)
}

func TestPutGetChunked(t *testing.T) {
	ctx, io := setup(t)
	for _, size := range []int{0, 1, ChunkSize, 2*ChunkSize + 12345} {
		data := make([]byte, size)
		r := rand.New(rand.NewPCG(uint64(size), 1))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		n, err := Put(ctx, io, "f", bytes.NewReader(data))
		if err != nil || n != int64(size) {
			t.Fatalf("put %d bytes: %d, %v", size, n, err)
		}
		var out bytes.Buffer
		n, err = Get(ctx, io, "f", &out)
		if err != nil || n != int64(size) || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("get after put of %d bytes: %d bytes, %v", size, n, err)
		}
	}
	// A put replaces a longer object entirely.
	if _, err := Put(ctx, io, "f", strings.NewReader("short")); err != nil {
		t.Fatal(err)
	}
	st, err := io.Stat(ctx, "f")
	if err != nil || st.Size != 5 {
		t.Fatalf("stat after shorter put: %+v %v", st, err)
	}
	line := FormatStat("data", "f", st)
	if !regexp.MustCompile(`^data/f mtime \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000, size 5$`).MatchString(line) {
		t.Fatalf("stat line %q", line)
	}
	if _, err := Get(ctx, io, "absent", &bytes.Buffer{}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("get absent: %v", err)
	}
}

func TestLsXattrsOmap(t *testing.T) {
	ctx, io := setup(t)
	for _, n := range []string{"b", "a", "c"} {
		if err := io.WriteFull(ctx, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	io.SetNamespace("ns")
	if err := io.WriteFull(ctx, "d", nil); err != nil {
		t.Fatal(err)
	}
	io.SetNamespace("")
	var out bytes.Buffer
	if n, err := Ls(ctx, io, &out); err != nil || n != 3 {
		t.Fatalf("ls: %d %v", n, err)
	}
	if got := sortLines(out.String()); got != "a\nb\nc" {
		t.Fatalf("ls output %q", got)
	}
	io.SetNamespace(client.AllNamespaces)
	out.Reset()
	if _, err := Ls(ctx, io, &out); err != nil || sortLines(out.String()) != "\ta\n\tb\n\tc\nns\td" {
		t.Fatalf("ls --all: %q %v", out.String(), err)
	}
	io.SetNamespace("")

	for _, x := range []string{"user.z", "user.a"} {
		if err := io.SetXattr(ctx, "a", x, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if err := ListXattrs(ctx, io, "a", &out); err != nil || out.String() != "user.a\nuser.z\n" {
		t.Fatalf("listxattr %q %v", out.String(), err)
	}

	if err := io.SetOmap(ctx, "a", map[string][]byte{"k2": []byte("hello"), "k1": {}}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := GetOmapVal(ctx, io, "a", "k2", &out, false); err != nil ||
		!strings.HasPrefix(out.String(), "value (5 bytes) :\n00000000  68 65 6c 6c 6f") || !strings.Contains(out.String(), "|hello|") {
		t.Fatalf("getomapval %q %v", out.String(), err)
	}
	out.Reset()
	if err := GetOmapVal(ctx, io, "a", "k2", &out, true); err != nil || out.String() != "hello" {
		t.Fatalf("getomapval raw %q %v", out.String(), err)
	}
	if err := GetOmapVal(ctx, io, "a", "nope", &out, true); !errors.Is(err, client.ErrNoData) {
		t.Fatalf("missing key: %v", err)
	}
	out.Reset()
	if err := ListOmapKeys(ctx, io, "a", &out); err != nil || out.String() != "k1\nk2\n" {
		t.Fatalf("listomapkeys %q %v", out.String(), err)
	}
	out.Reset()
	if err := ListOmapVals(ctx, io, "a", &out); err != nil || !strings.HasPrefix(out.String(), "k1\nvalue (0 bytes) :\n") {
		t.Fatalf("listomapvals %q %v", out.String(), err)
	}
}

func sortLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
