package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"
)

// opFunc runs one op with buf as scratch space and returns the bytes
// moved.
type opFunc func(ctx context.Context, buf []byte) (int, error)

// recorder collects what the workers did, for the per-second lines and
// the summary.
type recorder struct {
	mu        sync.Mutex
	start     time.Time
	started   int64
	finished  int64
	bytes     int64
	lats      []time.Duration
	lastLat   time.Duration
	secBytes  []int64 // bytes finished per whole second
	secOps    []int64
	lastBytes int64
	lastOps   int64
}

func (r *recorder) begin() {
	r.mu.Lock()
	r.started++
	r.mu.Unlock()
}

func (r *recorder) end(n int, lat time.Duration) {
	r.mu.Lock()
	r.finished++
	r.bytes += int64(n)
	r.lats = append(r.lats, lat)
	r.lastLat = lat
	r.mu.Unlock()
}

// drive runs op with cfg.Concurrency workers until the duration passes,
// done reports true, an op reports errSeqDone, or an op fails (which ends
// the run with that error). It prints a line per second.
func drive(ctx context.Context, cfg Config, out io.Writer, op opFunc, done func() bool) (*Summary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rec := &recorder{start: time.Now(), lats: make([]time.Duration, 0, 1024)}
	deadline := rec.start.Add(cfg.Duration)
	var errMu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() {
			buf := make([]byte, cfg.BlockSize)
			for time.Now().Before(deadline) && !done() && ctx.Err() == nil {
				rec.begin()
				t0 := time.Now()
				n, err := op(ctx, buf)
				if errors.Is(err, errSeqDone) {
					rec.mu.Lock()
					rec.started--
					rec.mu.Unlock()
					return
				}
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					cancel()
					return
				}
				rec.end(n, time.Since(t0))
			}
		})
	}
	stopTicker := rec.report(out, &wg)
	wg.Wait()
	stopTicker()
	elapsed := time.Since(rec.start)
	if firstErr != nil {
		return nil, firstErr
	}
	return rec.summary(elapsed), nil
}

// report prints the header and a line per second until the returned
// function is called.
func (r *recorder) report(out io.Writer, wg *sync.WaitGroup) func() {
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		printHeader(out)
		fmt.Fprintf(out, "%5d %7d %9d %9d %9d %9d %11s %11d\n", 0, 0, 0, 0, 0, 0, "-", 0)
		for sec := 1; ; sec++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if sec%20 == 0 {
				printHeader(out)
			}
			r.line(out, sec)
		}
	}()
	return func() {
		close(stop)
		<-finished
		r.closeSecond()
	}
}

func printHeader(out io.Writer) {
	fmt.Fprintln(out, "  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)")
}

// line prints the state after sec seconds, as rados bench does.
func (r *recorder) line(out io.Writer, sec int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	curBytes := r.bytes - r.lastBytes
	r.secBytes = append(r.secBytes, curBytes)
	r.secOps = append(r.secOps, r.finished-r.lastOps)
	r.lastBytes, r.lastOps = r.bytes, r.finished
	elapsed := time.Since(r.start).Seconds()
	avgLat := 0.0
	if r.finished > 0 {
		avgLat = sumDur(r.lats).Seconds() / float64(r.finished)
	}
	fmt.Fprintf(out, "%5d %7d %9d %9d %9.5g %9.5g %11.6g %11.6g\n", sec, r.started-r.finished, r.started, r.finished,
		mib(float64(r.bytes)/elapsed), mib(float64(curBytes)), r.lastLat.Seconds(), avgLat)
}

// closeSecond accounts the partial last second of a run shorter than a
// second, so that it still has a bandwidth sample; in longer runs the
// tail is left out, as rados bench does, since a fraction of a second
// extrapolated to a rate would distort the max and min.
func (r *recorder) closeSecond() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.secBytes) > 0 {
		return
	}
	if frac := time.Since(r.start).Seconds(); frac > 0 {
		r.secBytes = append(r.secBytes, int64(float64(r.bytes)/frac))
		r.secOps = append(r.secOps, int64(float64(r.finished)/frac))
	}
}

func sumDur(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

func mib(b float64) float64 { return b / (1 << 20) }

// Summary is the result of a run.
type Summary struct {
	Elapsed time.Duration
	Ops     int64
	Bytes   int64
	// BandwidthMiB is the average bandwidth in MiB/s (rados' "MB/sec").
	BandwidthMiB float64
	// BandwidthStddev, BandwidthMax and BandwidthMin are over the per-second samples.
	BandwidthStddev, BandwidthMax, BandwidthMin float64
	// IOPS is the average ops per second; IOPSStddev, IOPSMax and IOPSMin
	// are over the per-second samples.
	IOPS                      float64
	IOPSStddev                float64
	IOPSMax, IOPSMin          int64
	LatencyAvg, LatencyStddev time.Duration
	LatencyMin, LatencyMax    time.Duration
	LatencyP50, LatencyP99    time.Duration
}

func (r *recorder) summary(elapsed time.Duration) *Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &Summary{Elapsed: elapsed, Ops: r.finished, Bytes: r.bytes}
	secs := elapsed.Seconds()
	s.BandwidthMiB, s.IOPS = mib(float64(r.bytes))/secs, float64(r.finished)/secs
	bw := make([]float64, len(r.secBytes))
	for i, b := range r.secBytes {
		bw[i] = mib(float64(b))
	}
	s.BandwidthStddev, s.BandwidthMin, s.BandwidthMax = stats(bw)
	iops := make([]float64, len(r.secOps))
	for i, n := range r.secOps {
		iops[i] = float64(n)
	}
	var lo, hi float64
	s.IOPSStddev, lo, hi = stats(iops)
	s.IOPSMin, s.IOPSMax = int64(lo), int64(hi)
	if len(r.lats) > 0 {
		lats := slices.Clone(r.lats)
		slices.Sort(lats)
		s.LatencyMin, s.LatencyMax = lats[0], lats[len(lats)-1]
		s.LatencyAvg = sumDur(lats) / time.Duration(len(lats))
		s.LatencyP50, s.LatencyP99 = quantile(lats, 0.50), quantile(lats, 0.99)
		var sq float64
		for _, l := range lats {
			d := (l - s.LatencyAvg).Seconds()
			sq += d * d
		}
		s.LatencyStddev = time.Duration(math.Sqrt(sq/float64(len(lats))) * float64(time.Second))
	}
	return s
}

// quantile returns the q-quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// stats returns the sample standard deviation, min and max of xs.
func stats(xs []float64) (stddev, lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	lo, hi = xs[0], xs[0]
	var mean float64
	for _, x := range xs {
		mean += x
		lo, hi = min(lo, x), max(hi, x)
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return 0, lo, hi
	}
	var sq float64
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	return math.Sqrt(sq / float64(len(xs)-1)), lo, hi
}

// write prints the summary with rados bench's labels, plus the p50 and
// p99 latencies rados does not print.
func (s *Summary) write(out io.Writer, what string, size int) {
	sizeLabel := "Write size:"
	if what == "reads" {
		sizeLabel = "Read size:"
	}
	rows := []struct{ k, v string }{
		{"Total time run:", fmt.Sprintf("%.4f", s.Elapsed.Seconds())},
		{"Total " + what + " made:", fmt.Sprint(s.Ops)},
		{sizeLabel, fmt.Sprint(size)},
		{"Object size:", fmt.Sprint(size)},
		{"Bandwidth (MB/sec):", fmt.Sprintf("%.4f", s.BandwidthMiB)},
		{"Stddev Bandwidth:", fmt.Sprintf("%.4f", s.BandwidthStddev)},
		{"Max bandwidth (MB/sec):", fmt.Sprintf("%.4f", s.BandwidthMax)},
		{"Min bandwidth (MB/sec):", fmt.Sprintf("%.4f", s.BandwidthMin)},
		{"Average IOPS:", fmt.Sprint(int64(math.Round(s.IOPS)))},
		{"Stddev IOPS:", fmt.Sprintf("%.4f", s.IOPSStddev)},
		{"Max IOPS:", fmt.Sprint(s.IOPSMax)},
		{"Min IOPS:", fmt.Sprint(s.IOPSMin)},
		{"Average Latency(s):", fmt.Sprintf("%.6f", s.LatencyAvg.Seconds())},
		{"Stddev Latency(s):", fmt.Sprintf("%.6f", s.LatencyStddev.Seconds())},
		{"Max latency(s):", fmt.Sprintf("%.6f", s.LatencyMax.Seconds())},
		{"Min latency(s):", fmt.Sprintf("%.6f", s.LatencyMin.Seconds())},
		{"p50 latency(s):", fmt.Sprintf("%.6f", s.LatencyP50.Seconds())},
		{"p99 latency(s):", fmt.Sprintf("%.6f", s.LatencyP99.Seconds())},
	}
	for _, r := range rows {
		fmt.Fprintf(out, "%-24s%s\n", r.k, r.v)
	}
}
