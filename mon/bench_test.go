package mon

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/cluster"
)

// benchCluster starts three monitors with production timing (50ms ticks,
// 20ms batch window) and osds OSDs, and returns a client of all three.
func benchCluster(b *testing.B, osds int) (*testCluster, *monclient.Client) {
	b.Helper()
	tc := startTestCluster(b, 3, func(c *Config) {
		c.TickInterval, c.BatchWindow = 0, 0
		c.Limits.PGPerOSDMax = 0
	})
	tc.getMap(0)
	var addrs []string
	for _, m := range tc.members {
		addrs = append(addrs, m.Addr)
	}
	cl, err := monclient.New(addrs)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cl.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := 0; i < osds; i++ {
		if _, _, err := cl.OSDCreate(ctx, ""); err != nil {
			b.Fatal(err)
		}
	}
	return tc, cl
}

// BenchmarkCommitThroughput measures committed map changes per second with
// 3 monitors and 1, 8 or 64 concurrent clients, each reweighting its own
// OSD. changes/epoch above 1 is the batching at work.
func BenchmarkCommitThroughput(b *testing.B) {
	for _, clients := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			tc, cl := benchCluster(b, clients)
			first := tc.getMap(0).Epoch
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func(id int32) {
					defer wg.Done()
					for k := 0; next.Add(1) <= int64(b.N); k++ {
						ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
						_, err := cl.OSDReweight(ctx, id, 0.5+float64(k%2)/4)
						cancel()
						if err != nil {
							b.Error(err)
							return
						}
					}
				}(int32(c))
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			epochs := tc.getMap(0).Epoch - first
			b.ReportMetric(float64(b.N)/el.Seconds(), "changes/s")
			b.ReportMetric(float64(epochs)/el.Seconds(), "epochs/s")
			b.ReportMetric(float64(b.N)/float64(max(epochs, 1)), "changes/epoch")
		})
	}
}

// BenchmarkChangeLatency measures one client's sequential changes (sent to
// a follower half of the time) and reports p50/p99.
func BenchmarkChangeLatency(b *testing.B) {
	_, cl := benchCluster(b, 1)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t0 := time.Now()
		_, err := cl.OSDReweight(ctx, 0, 0.5+float64(i%2)/4)
		lat = append(lat, time.Since(t0))
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportPercentiles(b, lat, "")
}

func reportPercentiles(b *testing.B, lat []time.Duration, prefix string) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), prefix+"p50_ms")
	b.ReportMetric(pct(0.99), prefix+"p99_ms")
}

// BenchmarkSubscriberLag measures, per change, the time from the client's
// acknowledgement (the epoch is committed and applied on the leader) to a
// subscriber on another monitor holding that epoch.
func BenchmarkSubscriberLag(b *testing.B) {
	tc, cl := benchCluster(b, 1)
	li := tc.leaderIndex()
	follower := tc.members[(li+1)%3].Addr
	sub, err := monclient.New([]string{follower})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	held := make(chan cluster.Epoch, 1024)
	arrived := map[cluster.Epoch]time.Time{}
	var mu sync.Mutex
	go func() {
		for u := range sub.Subscribe(ctx, nil) {
			mu.Lock()
			arrived[u.Map.Epoch] = time.Now()
			mu.Unlock()
			held <- u.Map.Epoch
		}
	}()
	lags := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		r, err := cl.OSDReweight(cctx, 0, 0.5+float64(i%2)/4)
		ack := time.Now()
		ccancel()
		if err != nil {
			b.Fatal(err)
		}
		for {
			mu.Lock()
			t, ok := arrived[r.Epoch]
			mu.Unlock()
			if ok {
				lags = append(lags, max(0, t.Sub(ack)))
				break
			}
			<-held
		}
	}
	b.StopTimer()
	reportPercentiles(b, lags, "lag_")
}
