package osd_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorados/gorados/proto/pb"
)

// BenchmarkCluster runs rados-bench-like loads against real processes: one
// monitor and three OSDs (one per host) on loopback, a pool of size 3, 16
// ops in flight. Writes report the fsyncs every OSD paid per acknowledged
// write (from the OSDs' commit metrics); the end reports the OSDs' RSS.
func BenchmarkCluster(b *testing.B) {
	c := newCluster(b, 3)
	pool := c.createPool("bench", 32, 3, 2)
	rc := c.client(pool)
	var run atomic.Int64
	for _, size := range []int{4 << 10, 4 << 20} {
		name := fmt.Sprintf("%dKiB", size>>10)
		data := bytes.Repeat([]byte{0x5a}, size)
		const objects = 64
		for i := range objects {
			mustOK(b, "prefill", rc.do(b, rc.request(fmt.Sprintf("read-%s-%d", name, i), writeFull(data))))
		}
		b.Run("write-"+name, func(b *testing.B) {
			r := run.Add(1)
			before := c.commitStats(b)
			b.SetBytes(int64(size))
			b.ResetTimer()
			c.load(b, rc, func(i int) *pb.OpRequest {
				return rc.request(fmt.Sprintf("w-%s-%d-%d", name, r, i), writeFull(data))
			})
			b.StopTimer()
			after := c.commitStats(b)
			b.ReportMetric(2*(after.commits-before.commits)/float64(b.N), "fsyncs/write")
			b.ReportMetric((after.txns-before.txns)/max(after.commits-before.commits, 1), "txns/commit")
		})
		for _, mode := range []string{"seq", "rand"} {
			b.Run(mode+"-"+name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				b.SetBytes(int64(size))
				b.ResetTimer()
				c.load(b, rc, func(i int) *pb.OpRequest {
					k := i % objects
					if mode == "rand" {
						k = rng.IntN(objects)
					}
					return rc.request(fmt.Sprintf("read-%s-%d", name, k), readAll())
				})
			})
		}
	}
	for _, o := range c.osds {
		b.Logf("osd.%d VmRSS %s, VmHWM %s", o.id, procStatus(o.p.cmd.Process.Pid, "VmRSS"), procStatus(o.p.cmd.Process.Pid, "VmHWM"))
	}
}

// load runs b.N requests with 16 workers.
func (c *testCluster) load(b *testing.B, rc *rawClient, mk func(i int) *pb.OpRequest) {
	reqs := make([]*pb.OpRequest, b.N)
	for i := range reqs {
		reqs[i] = mk(i)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
				r, err := rc.try(reqs[i])
				if err != nil || r.GetResult() != pb.Result_RESULT_OK {
					b.Errorf("op %d: %v %s", i, err, r.GetResult())
					return
				}
			}
		}()
	}
	wg.Wait()
}

type commitStats struct{ commits, txns float64 }

// commitStats sums the OSDs' group commit counters from /metrics.
func (c *testCluster) commitStats(b *testing.B) commitStats {
	var s commitStats
	for _, o := range c.osds {
		body := httpGet(b, "http://"+o.metric+"/metrics")
		s.commits += metricValue(body, "gorados_osd_store_commit_batch_txns_count")
		s.txns += metricValue(body, "gorados_osd_store_commit_batch_txns_sum")
	}
	return s
}

func metricValue(body, name string) float64 {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}

// procStatus returns a field of /proc/PID/status ("VmRSS" -> "123456 kB").
func procStatus(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			return strings.TrimSpace(strings.TrimPrefix(line, field+":"))
		}
	}
	return "?"
}
