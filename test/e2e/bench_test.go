package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/bench"
	"github.com/gorados/gorados/deploy/devcluster"
	"github.com/gorados/gorados/deploy/devcluster/devclustertest"
)

// BenchmarkRadosBench runs `radosctl bench` (package client/bench, the
// same code) against a fresh dev cluster: size 3 on GORADOS_BENCH_HOSTS
// hosts of one OSD (default 3, as the Ceph comparison), 16 ops in flight,
// 4 MiB then 4 KiB objects, write then seq then rand, each for
// GORADOS_BENCH_SECONDS (default 10). Besides the bench summaries it
// reports the fsyncs the OSDs made per acknowledged write (from their
// store commit counters: two fdatasyncs per group commit) and the OSDs'
// RSS. Run with:
//
//	go test ./test/e2e -run '^$' -bench RadosBench -benchtime 1x -timeout 30m -v
func BenchmarkRadosBench(b *testing.B) {
	secs := envInt("GORADOS_BENCH_SECONDS", 10)
	hosts := envInt("GORADOS_BENCH_HOSTS", 3)
	c := devclustertest.Start(b, binDir, devcluster.Config{Hosts: hosts, PGNum: 64, Dir: b.TempDir()})
	ctx := context.Background()
	conn, err := c.Connect(ctx, client.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ioctx, err := conn.OpenPool(ctx, c.Layout().Pool)
	if err != nil {
		b.Fatal(err)
	}
	var rows []string
	for range b.N {
		for _, size := range []int{4 << 20, 4 << 10} {
			for _, mode := range []string{bench.ModeWrite, bench.ModeSeq, bench.ModeRand} {
				rows = append(rows, benchRow(b, ctx, c, ioctx, mode, size, secs))
			}
			if _, err := bench.Cleanup(ctx, ioctx, bench.DefaultRunName, "", 16); err != nil {
				b.Fatal(err)
			}
		}
	}
	time.Sleep(2 * time.Second) // idle
	fmt.Printf("\n%d OSDs on %d hosts, size 3, 16 in flight, %d s per row\n\n", hosts, hosts, secs)
	fmt.Println("| row | bandwidth MiB/s | IOPS | lat avg / p50 / p99 / max (ms) | fsyncs per ack (all OSDs) | txns per commit |")
	fmt.Println("|---|---:|---:|---|---:|---:|")
	for _, r := range rows {
		fmt.Println(r)
	}
	fmt.Println()
	for _, d := range c.Layout().OSDs() {
		pid, _ := c.PID(d.Name)
		fmt.Printf("%s idle after the load: %s\n", d.Name, rss(pid))
	}
}

// benchRow runs one bench and formats its table row.
func benchRow(b *testing.B, ctx context.Context, c *devcluster.Cluster, ioctx *client.IOContext, mode string, size, secs int) string {
	before := commits(ctx, c)
	sum, err := bench.Run(ctx, ioctx, bench.Config{Mode: mode, Duration: time.Duration(secs) * time.Second, BlockSize: size,
		Concurrency: 16, NoCleanup: true}, io.Discard)
	if err != nil {
		b.Fatalf("bench %s %d: %v", mode, size, err)
	}
	after := commits(ctx, c)
	label := fmt.Sprintf("%d KiB %s", size>>10, mode)
	if size >= 1<<20 {
		label = fmt.Sprintf("%d MiB %s", size>>20, mode)
	}
	fsyncs, batch := "-", "-"
	if mode == bench.ModeWrite && sum.Ops > 0 {
		dc, dt := after[0]-before[0], after[1]-before[1]
		fsyncs = fmt.Sprintf("%.2f", 2*dc/float64(sum.Ops))
		if dc > 0 {
			batch = fmt.Sprintf("%.1f", dt/dc)
		}
	}
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) }
	return fmt.Sprintf("| %s | %.1f | %.0f | %s / %s / %s / %s | %s | %s |", label, sum.BandwidthMiB, sum.IOPS,
		ms(sum.LatencyAvg), ms(sum.LatencyP50), ms(sum.LatencyP99), ms(sum.LatencyMax), fsyncs, batch)
}

// commits returns the group commits and the transactions they held,
// summed over the OSDs.
func commits(ctx context.Context, c *devcluster.Cluster) [2]float64 {
	var out [2]float64
	for _, s := range c.ScrapeOSDs(ctx) {
		out[0] += s.Sum("gorados_osd_store_commit_batch_txns_count")
		out[1] += s.Sum("gorados_osd_store_commit_batch_txns_sum")
	}
	return out
}

// rss returns VmRSS and VmHWM of a process.
func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") ||
			strings.HasPrefix(line, "RssAnon:") || strings.HasPrefix(line, "RssFile:") {
			parts = append(parts, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(parts, ", ")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
