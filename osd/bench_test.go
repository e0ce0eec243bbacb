package osd

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorados/gorados/proto/pb"
)

// BenchmarkReplicatedWrite measures acknowledged replicated writes (size 3,
// three OSDs in this process with real stores and loopback gRPC), 16 in
// flight, and reports the fsyncs all OSDs paid per acknowledged write.
func BenchmarkReplicatedWrite(b *testing.B) {
	for _, size := range []int{4 << 10, 4 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) { benchWrite(b, size) })
	}
}

func benchCluster(b *testing.B) *testCluster {
	c := newTestCluster(b, 3, 32)
	c.waitActive()
	return c
}

func benchWrite(b *testing.B, size int) {
	c := benchCluster(b)
	data := bytes.Repeat([]byte{0x5a}, size)
	before := c.commits()
	b.SetBytes(int64(size))
	b.ResetTimer()
	c.parallel(b, 16, func(i int) *pb.OpRequest {
		return c.request(fmt.Sprintf("bench-%d", i), wfull(data))
	})
	b.StopTimer()
	after := c.commits()
	b.ReportMetric(float64(2*(after.commits-before.commits))/float64(b.N), "fsyncs/write")
	b.ReportMetric(float64(after.txns-before.txns)/float64(max(after.commits-before.commits, 1)), "txns/commit")
}

// BenchmarkRead measures reads of existing objects from the primaries, 16
// in flight.
func BenchmarkRead(b *testing.B) {
	for _, size := range []int{4 << 10, 4 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			c := benchCluster(b)
			data := bytes.Repeat([]byte{0xa5}, size)
			const objects = 64
			for i := range objects {
				mustOK(b, "prefill", c.do(c.request(fmt.Sprintf("r-%d", i), wfull(data))))
			}
			b.SetBytes(int64(size))
			b.ResetTimer()
			c.parallel(b, 16, func(i int) *pb.OpRequest {
				return c.request(fmt.Sprintf("r-%d", i%objects), readOp())
			})
		})
	}
}

type commitCounts struct{ commits, txns uint64 }

func (c *testCluster) commits() commitCounts {
	var out commitCounts
	for _, to := range c.osds {
		s := to.st.Stats()
		out.commits += s.Commits
		out.txns += s.Txns
	}
	return out
}

// parallel runs b.N requests built by mk with n workers, failing the
// benchmark on any result but OK.
func (c *testCluster) parallel(b *testing.B, n int, mk func(i int) *pb.OpRequest) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	reqs := make([]*pb.OpRequest, b.N)
	for i := range reqs {
		reqs[i] = mk(i)
	}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				r := c.do(reqs[i])
				if r.GetResult() != pb.Result_RESULT_OK {
					mu.Lock()
					b.Errorf("op %d: %s: %s", i, r.GetResult(), r.GetMessage())
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
}
