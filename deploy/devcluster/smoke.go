package devcluster

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gorados/gorados/client"
)

// smokeObjects and smokeObjectSize size the I/O check `dev up` runs once
// the pool is active: enough objects to touch most PGs of a default pool,
// small enough to finish in well under a second.
const (
	smokeObjects    = 64
	smokeObjectSize = 64 << 10
)

// SmokeTest writes smokeObjects objects of random data to the pool, reads
// every one back and compares it, then removes them: proof that the cluster
// stores and returns data, not only that its daemons answer. It reports
// what it did through the cluster's output.
func (c *Cluster) SmokeTest(ctx context.Context) error {
	if c.layout.Pool == "-" {
		return nil
	}
	conn, err := c.Connect(ctx, client.Config{})
	if err != nil {
		return err
	}
	defer conn.Close()
	io, err := conn.OpenPool(ctx, c.layout.Pool)
	if err != nil {
		return err
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), 0))
	if err := smokeRoundTrip(ctx, io, rng); err != nil {
		return fmt.Errorf("I/O check on pool %q failed: %w (daemon logs are in %s/log)", c.layout.Pool, err, c.dir)
	}
	c.logf("I/O check: wrote, read back and removed %d objects of %d KiB in pool %q (%d copies each) in %v",
		smokeObjects, smokeObjectSize>>10, c.layout.Pool, c.layout.Size, time.Since(start).Round(time.Millisecond))
	return nil
}

func smokeRoundTrip(ctx context.Context, io *client.IOContext, rng *rand.Rand) error {
	want := make([][]byte, smokeObjects)
	for i := range want {
		want[i] = make([]byte, smokeObjectSize)
		for j := range want[i] {
			want[i][j] = byte(rng.Uint32())
		}
		if err := io.WriteFull(ctx, smokeName(i), want[i]); err != nil {
			return fmt.Errorf("write %s: %w", smokeName(i), err)
		}
	}
	for i := range want {
		got, err := io.Read(ctx, smokeName(i), 0, 0)
		if err != nil {
			return fmt.Errorf("read %s: %w", smokeName(i), err)
		}
		if !bytes.Equal(got, want[i]) {
			return fmt.Errorf("read %s: %d bytes differ from the %d written", smokeName(i), len(got), len(want[i]))
		}
	}
	for i := range want {
		if err := io.Remove(ctx, smokeName(i)); err != nil {
			return fmt.Errorf("remove %s: %w", smokeName(i), err)
		}
	}
	return nil
}

func smokeName(i int) string { return fmt.Sprintf("dev-up-io-check.%d", i) }
