// Package bench is `radosctl bench` and `radosctl cleanup`: a load
// generator with the modes and output of `rados bench` (write, then seq or
// rand reads of the objects written), reporting bandwidth, IOPS and
// latency (average, p50, p99, max) per second and in total.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorados/gorados/client"
)

// Modes of a run.
const (
	ModeWrite = "write"
	ModeSeq   = "seq"
	ModeRand  = "rand"
)

// DefaultRunName names the metadata object that tells seq, rand and
// cleanup what the last write run left (rados' benchmark_last_metadata).
const DefaultRunName = "benchmark_last_metadata"

// Errors returned by the package.
var (
	// ErrBadConfig: a Config field is out of range.
	ErrBadConfig = errors.New("invalid bench configuration")
	// ErrNoData: seq or rand found no objects of a previous write run.
	ErrNoData = errors.New("no benchmark objects")
	// ErrVerify: an object read back does not hold what was written.
	ErrVerify = errors.New("benchmark data mismatch")
)

// Config is one bench run.
type Config struct {
	// Mode is ModeWrite, ModeSeq or ModeRand.
	Mode string
	// Duration bounds the run (seq also ends when every object was read).
	Duration time.Duration
	// BlockSize is the size of each write (and object); default 4 MiB.
	BlockSize int
	// Concurrency is the number of ops in flight; default 16.
	Concurrency int
	// NoCleanup keeps the objects of a write run for seq and rand.
	NoCleanup bool
	// RunName names the metadata object; default DefaultRunName.
	RunName string
	// NoVerify skips checking the data read back.
	NoVerify bool
	// Seed seeds rand's object choice (0: from the clock).
	Seed uint64
}

func (cfg Config) withDefaults() (Config, error) {
	if cfg.BlockSize == 0 {
		cfg.BlockSize = 4 << 20
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 16
	}
	if cfg.RunName == "" {
		cfg.RunName = DefaultRunName
	}
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	switch {
	case cfg.Mode != ModeWrite && cfg.Mode != ModeSeq && cfg.Mode != ModeRand:
		return cfg, fmt.Errorf("%w: mode %q: use write, seq or rand", ErrBadConfig, cfg.Mode)
	case cfg.Duration <= 0:
		return cfg, fmt.Errorf("%w: duration %v: give a positive number of seconds", ErrBadConfig, cfg.Duration)
	case cfg.BlockSize < 1 || cfg.BlockSize > 64<<20:
		return cfg, fmt.Errorf("%w: block size %d: use 1 byte to 64 MiB", ErrBadConfig, cfg.BlockSize)
	case cfg.Concurrency < 1 || cfg.Concurrency > 1024:
		return cfg, fmt.Errorf("%w: concurrency %d: use 1 to 1024", ErrBadConfig, cfg.Concurrency)
	}
	return cfg, nil
}

// metadata is what a write run leaves in its run-name object.
type metadata struct {
	Prefix     string `json:"prefix"`
	Objects    int    `json:"objects"`
	ObjectSize int    `json:"object_size"`
}

// objectName is the name of object i of a run.
func objectName(prefix string, i int) string { return fmt.Sprintf("%s_object%d", prefix, i) }

// Prefix returns the object prefix of a write run started now by this
// process, as rados names it: benchmark_data_HOST_PID.
func Prefix() string {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return fmt.Sprintf("benchmark_data_%s_%d", host, os.Getpid())
}

// Run runs one bench on ioctx, printing the per-second lines and the
// summary to out as rados bench does, and returns the summary.
func Run(ctx context.Context, ioctx *client.IOContext, cfg Config, out io.Writer) (*Summary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Mode == ModeWrite {
		return runWrite(ctx, ioctx, cfg, out)
	}
	return runRead(ctx, ioctx, cfg, out)
}

// runWrite writes objects for the duration, records them in the metadata
// object and, unless NoCleanup, removes them again.
func runWrite(ctx context.Context, ioctx *client.IOContext, cfg Config, out io.Writer) (*Summary, error) {
	prefix := Prefix()
	fmt.Fprintf(out, "Maintaining %d concurrent writes of %d bytes to objects of size %d for up to %d seconds or 0 objects\n",
		cfg.Concurrency, cfg.BlockSize, cfg.BlockSize, int(cfg.Duration.Seconds()))
	fmt.Fprintf(out, "Object prefix: %s\n", prefix)
	pat := newPattern(cfg.BlockSize)
	var next atomic.Int64
	op := func(ctx context.Context, buf []byte) (int, error) {
		i := int(next.Add(1) - 1)
		name := objectName(prefix, i)
		return cfg.BlockSize, ioctx.WriteFull(ctx, name, pat.fill(buf, name))
	}
	sum, err := drive(ctx, cfg, out, op, func() bool { return false })
	if err != nil {
		return sum, err
	}
	sum.write(out, "writes", cfg.BlockSize)
	md, _ := json.Marshal(metadata{Prefix: prefix, Objects: int(sum.Ops), ObjectSize: cfg.BlockSize})
	if err := ioctx.WriteFull(ctx, cfg.RunName, md); err != nil {
		return sum, fmt.Errorf("record the run in %q: %w", cfg.RunName, err)
	}
	if !cfg.NoCleanup {
		fmt.Fprintln(out, "Cleaning up (deleting benchmark objects)")
		start := time.Now()
		n, err := Cleanup(ctx, ioctx, cfg.RunName, "", cfg.Concurrency)
		if err != nil {
			return sum, err
		}
		fmt.Fprintf(out, "Removed %d objects\n", n)
		fmt.Fprintf(out, "Clean up completed and total clean up time :%f\n", time.Since(start).Seconds())
	}
	return sum, nil
}

// runRead reads the objects of the last write run: in order once (seq) or
// at random (rand), for the duration.
func runRead(ctx context.Context, ioctx *client.IOContext, cfg Config, out io.Writer) (*Summary, error) {
	md, err := readMetadata(ctx, ioctx, cfg.RunName)
	if err != nil {
		return nil, err
	}
	if md.Objects == 0 {
		return nil, fmt.Errorf("%w: the last write run (%q) wrote no object", ErrNoData, cfg.RunName)
	}
	pat := newPattern(md.ObjectSize)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	var mu sync.Mutex
	var next atomic.Int64
	pick := func() int {
		if cfg.Mode == ModeSeq {
			return int(next.Add(1) - 1)
		}
		mu.Lock()
		defer mu.Unlock()
		return rng.IntN(md.Objects)
	}
	op := func(ctx context.Context, buf []byte) (int, error) {
		i := pick()
		if i >= md.Objects {
			return 0, errSeqDone
		}
		name := objectName(md.Prefix, i)
		data, err := ioctx.Read(ctx, name, 0, 0)
		if err != nil {
			return 0, err
		}
		if !cfg.NoVerify && !pat.check(data, name) {
			return len(data), fmt.Errorf("%w: %s holds %d bytes that differ from what the write run stored", ErrVerify, name, len(data))
		}
		return len(data), nil
	}
	done := func() bool { return cfg.Mode == ModeSeq && int(next.Load()) >= md.Objects }
	sum, err := drive(ctx, cfg, out, op, done)
	if err != nil {
		return sum, err
	}
	sum.write(out, "reads", md.ObjectSize)
	return sum, nil
}

var errSeqDone = errors.New("every object was read")

func readMetadata(ctx context.Context, ioctx *client.IOContext, runName string) (metadata, error) {
	var md metadata
	b, err := ioctx.Read(ctx, runName, 0, 0)
	if errors.Is(err, client.ErrNotFound) {
		return md, fmt.Errorf("%w: no run named %q in pool %q: run `radosctl bench SECONDS write --no-cleanup` first", ErrNoData, runName, ioctx.PoolName())
	}
	if err != nil {
		return md, err
	}
	if md, err = parseMetadata(b); err != nil {
		return md, fmt.Errorf("%w: %q does not hold bench metadata (%v): remove it or pick another --run-name", ErrNoData, runName, err)
	}
	return md, nil
}

// parseMetadata decodes a run's metadata object, which anyone may have
// overwritten: it must name a prefix, a count and a size in range.
func parseMetadata(b []byte) (metadata, error) {
	var md metadata
	if err := json.Unmarshal(b, &md); err != nil {
		return md, err
	}
	if md.Prefix == "" || md.ObjectSize <= 0 || md.ObjectSize > 64<<20 || md.Objects < 0 || md.Objects > 1<<30 {
		return md, fmt.Errorf("prefix %q, %d objects of %d bytes", md.Prefix, md.Objects, md.ObjectSize)
	}
	return md, nil
}

// Cleanup removes the objects of the write run recorded in runName and
// the record itself, or, with a prefix, every object whose name starts
// with it. It returns the number of objects removed.
func Cleanup(ctx context.Context, ioctx *client.IOContext, runName, prefix string, concurrency int) (int, error) {
	var names []string
	if prefix != "" {
		for e, err := range ioctx.ListObjects(ctx) {
			if err != nil {
				return 0, err
			}
			if len(e.Name) >= len(prefix) && e.Name[:len(prefix)] == prefix {
				names = append(names, e.Name)
			}
		}
		sort.Strings(names)
	} else {
		md, err := readMetadata(ctx, ioctx, runName)
		if err != nil {
			return 0, err
		}
		for i := range md.Objects {
			names = append(names, objectName(md.Prefix, i))
		}
	}
	n, err := removeAll(ctx, ioctx, names, max(concurrency, 1))
	if err != nil || prefix != "" {
		return n, err
	}
	if err := ioctx.Remove(ctx, runName); err != nil && !errors.Is(err, client.ErrNotFound) {
		return n, err
	}
	return n, nil
}

// removeAll removes names with concurrency removals in flight; absent
// objects are not an error (a cleanup may be repeated).
func removeAll(ctx context.Context, ioctx *client.IOContext, names []string, concurrency int) (int, error) {
	var removed atomic.Int64
	var firstErr error
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for name := range work {
				err := ioctx.Remove(ctx, name)
				switch {
				case err == nil:
					removed.Add(1)
				case !errors.Is(err, client.ErrNotFound):
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	return int(removed.Load()), firstErr
}

// ParseSize reads a byte count with an optional binary suffix: "4096",
// "4K", "4KiB", "4M", "1G" (K = 1024).
func ParseSize(s string) (int, error) {
	num, mult := strings.TrimSpace(s), 1
	for _, suf := range []struct {
		s string
		m int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(num, suf.s) {
			num, mult = strings.TrimSuffix(num, suf.s), suf.m
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%w: size %q: give bytes, optionally with K, M or G", ErrBadConfig, s)
	}
	return n * mult, nil
}
