package mon_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorados/gorados/client/monclient"
)

// rssKiB reads a process's resident set size (and peak) from /proc.
func rssKiB(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm, nil
}

// BenchmarkMonRSS1000OSDs100Pools fills a 3-monitor cluster with 1,000
// booted OSDs (50 hosts) and 100 pools, then reports the leader's resident
// memory and the map's encoded size. Run with -benchtime 1x.
func BenchmarkMonRSS1000OSDs100Pools(b *testing.B) {
	c := newMonCluster(b, 3, "--pg-per-osd-max", "0")
	c.startAll()
	cl := c.client()
	c.waitMap(cl, 20*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	parallel(b, 1000, 32, func(i int) error {
		id, _, err := cl.OSDCreate(ctx, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
		if err != nil {
			return err
		}
		_, err = cl.OSDBoot(ctx, monclient.BootInfo{ID: id, PublicAddr: fmt.Sprintf("10.0.%d.%d:6800", i/250, i%250),
			Host: fmt.Sprintf("host%02d", i/20), DeviceClass: "hdd"})
		return err
	})
	parallel(b, 100, 16, func(i int) error {
		_, err := cl.PoolCreate(ctx, monclient.PoolCreateOpts{Name: fmt.Sprintf("pool%03d", i), PGNum: 64})
		return err
	})
	fill := time.Since(start)
	m := c.waitMap(cl, 20*time.Second)
	enc, _ := m.Marshal()
	li := c.leader(cl, 10*time.Second)
	time.Sleep(time.Second)
	rss, hwm, err := rssKiB(c.procs[li].cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rss)/1024, "rss_MiB")
	b.ReportMetric(float64(hwm)/1024, "peak_rss_MiB")
	b.ReportMetric(float64(len(enc))/1024, "map_KiB")
	b.ReportMetric(float64(m.Epoch), "epochs")
	b.ReportMetric(fill.Seconds(), "fill_s")
}

// parallel runs fn(0..n-1) on workers goroutines and fails b on an error.
func parallel(b *testing.B, n, workers int, fn func(i int) error) {
	var wg sync.WaitGroup
	next := make(chan int)
	var once sync.Once
	var firstErr error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}
