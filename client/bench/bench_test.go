package bench

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/internal/fakepool"
)

func setup(t *testing.T) (context.Context, *client.IOContext) {
	t.Helper()
	return fakepool.Open(t, 30*time.Second)
}

func count(t *testing.T, ctx context.Context, io *client.IOContext) int {
	n := 0
	for _, err := range io.ListObjects(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func TestWriteSeqRandCleanup(t *testing.T) {
	ctx, io := setup(t)
	var out bytes.Buffer
	w, err := Run(ctx, io, Config{Mode: ModeWrite, Duration: 1050 * time.Millisecond, BlockSize: 4096, Concurrency: 2, NoCleanup: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"Maintaining 2 concurrent writes of 4096 bytes to objects of size 4096 for up to 1 seconds or 0 objects\n",
		"Object prefix: benchmark_data_",
		"  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)\n",
		"Total writes made:      ",
		"Write size:             4096\n",
		"Average IOPS:           ",
		"p99 latency(s):         ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`(?m)^    1 +\d+ +\d+ +\d+ `).MatchString(text) {
		t.Errorf("no per-second line for second 1:\n%s", text)
	}
	if w.Ops == 0 || w.Bytes != w.Ops*4096 || w.LatencyP50 > w.LatencyP99 || w.LatencyP99 > w.LatencyMax || w.LatencyMin > w.LatencyAvg {
		t.Fatalf("write summary %+v", w)
	}
	if n := count(t, ctx, io); n != int(w.Ops)+1 {
		t.Fatalf("%d objects after writing %d (+ metadata)", n, w.Ops)
	}

	out.Reset()
	s, err := Run(ctx, io, Config{Mode: ModeSeq, Duration: 30 * time.Second, Concurrency: 4}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Ops != w.Ops || s.Bytes != w.Bytes || !strings.Contains(out.String(), "Total reads made:") || !strings.Contains(out.String(), "Read size:              4096\n") {
		t.Fatalf("seq read %d ops %d bytes after writing %d ops:\n%s", s.Ops, s.Bytes, w.Ops, out.String())
	}
	r, err := Run(ctx, io, Config{Mode: ModeRand, Duration: 200 * time.Millisecond, Concurrency: 4, Seed: 1}, &bytes.Buffer{})
	if err != nil || r.Ops == 0 {
		t.Fatalf("rand: %+v %v", r, err)
	}

	n, err := Cleanup(ctx, io, DefaultRunName, "", 8)
	if err != nil || n != int(w.Ops) {
		t.Fatalf("cleanup removed %d of %d: %v", n, w.Ops, err)
	}
	if left := count(t, ctx, io); left != 0 {
		t.Fatalf("%d objects left after cleanup", left)
	}
	if _, err := Run(ctx, io, Config{Mode: ModeSeq, Duration: time.Second}, &bytes.Buffer{}); !errors.Is(err, ErrNoData) {
		t.Fatalf("seq without a write run: %v", err)
	}
}

func TestWriteCleansUpByDefault(t *testing.T) {
	ctx, io := setup(t)
	var out bytes.Buffer
	if _, err := Run(ctx, io, Config{Mode: ModeWrite, Duration: 200 * time.Millisecond, BlockSize: 100, Concurrency: 2}, &out); err != nil {
		t.Fatal(err)
	}
	if n := count(t, ctx, io); n != 0 || !strings.Contains(out.String(), "Cleaning up (deleting benchmark objects)") {
		t.Fatalf("%d objects left; output:\n%s", n, out.String())
	}
}

func TestVerifyCatchesWrongData(t *testing.T) {
	ctx, io := setup(t)
	w, err := Run(ctx, io, Config{Mode: ModeWrite, Duration: 100 * time.Millisecond, BlockSize: 1000, Concurrency: 1, NoCleanup: true, RunName: "run1"}, &bytes.Buffer{})
	if err != nil || w.Ops == 0 {
		t.Fatalf("write: %v", err)
	}
	md, err := readMetadata(ctx, io, "run1")
	if err != nil {
		t.Fatal(err)
	}
	// Object 0 now holds object 1's content: right size, wrong object.
	other := newPattern(1000).fill(make([]byte, 1000), objectName(md.Prefix, 1))
	if err := io.WriteFull(ctx, objectName(md.Prefix, 0), other); err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, io, Config{Mode: ModeSeq, Duration: time.Second, Concurrency: 1, RunName: "run1"}, &bytes.Buffer{})
	if !errors.Is(err, ErrVerify) {
		t.Fatalf("seq over a swapped object: %v", err)
	}
	if _, err := Run(ctx, io, Config{Mode: ModeSeq, Duration: time.Second, Concurrency: 1, RunName: "run1", NoVerify: true}, &bytes.Buffer{}); err != nil {
		t.Fatalf("seq --no-verify: %v", err)
	}
	n, err := Cleanup(ctx, io, "", md.Prefix, 4)
	if err != nil || n != int(w.Ops) {
		t.Fatalf("cleanup by prefix: %d of %d, %v", n, w.Ops, err)
	}
}

func TestConfigChecks(t *testing.T) {
	for _, cfg := range []Config{
		{Mode: "read", Duration: time.Second},
		{Mode: ModeWrite},
		{Mode: ModeWrite, Duration: time.Second, BlockSize: -1},
		{Mode: ModeWrite, Duration: time.Second, Concurrency: 5000},
	} {
		if _, err := cfg.withDefaults(); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

func TestStats(t *testing.T) {
	sd, lo, hi := stats([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	if lo != 2 || hi != 9 || sd < 2.13 || sd > 2.14 {
		t.Fatalf("stats: sd %v lo %v hi %v", sd, lo, hi)
	}
	ds := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if quantile(ds, 0.5) != 5 || quantile(ds, 0.99) != 10 || quantile(ds[:1], 0.99) != 1 {
		t.Fatal("quantiles")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"4096": 4096, "4K": 4096, "4KiB": 4096, "4M": 4 << 20, "1G": 1 << 30, "16k": 16384, "0": 0} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "4T", "1.5M"} {
		if _, err := ParseSize(in); !errors.Is(err, ErrBadConfig) {
			t.Errorf("ParseSize(%q): %v", in, err)
		}
	}
}
