package e2e

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gorados/gorados/client"
)

// object is one test object: its name and a seeded content of size bytes,
// regenerated when needed instead of kept in memory.
type object struct {
	name string
	size int
	seed uint64
}

// content returns the object's bytes.
func (o object) content() []byte {
	b := make([]byte, o.size)
	r := rand.New(rand.NewPCG(o.seed, 0x5eed))
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		b[i], b[i+1], b[i+2], b[i+3], b[i+4], b[i+5], b[i+6], b[i+7] =
			byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
	}
	for ; i < len(b); i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (o object) crc() uint32 { return crc32.Checksum(o.content(), castagnoli) }

// mixedObjects returns n objects named prefix-i of mixed sizes, from 0 B
// to 8 MiB: 5% empty, 1% of exactly 8 MiB, 4% between 1 and 8 MiB and the
// rest log-uniform between 1 B and 1 MiB, so that every size class is
// covered while the total stays near 0.3 GiB per 1,000 objects.
func mixedObjects(prefix string, n int, seed uint64) []object {
	r := rand.New(rand.NewPCG(seed, 1))
	objs := make([]object, n)
	for i := range objs {
		var size int
		switch p := r.IntN(100); {
		case p < 5:
			size = 0
		case p < 6:
			size = 8 << 20
		case p < 10:
			size = 1<<20 + r.IntN(7<<20)
		default:
			size = int(math.Exp2(r.Float64() * 20))
		}
		objs[i] = object{name: fmt.Sprintf("%s-%05d", prefix, i), size: size, seed: r.Uint64()}
	}
	// Make sure the extremes are present whatever the seed.
	objs[0].size, objs[n-1].size = 0, 8<<20
	return objs
}

// forEach runs fn on every object with width calls in flight and returns
// the first error.
func forEach(ctx context.Context, objs []object, width int, fn func(ctx context.Context, o object) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan object)
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range width {
		wg.Go(func() {
			for o := range work {
				if err := fn(ctx, o); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
	for _, o := range objs {
		select {
		case work <- o:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return first
}

func writeObjects(ctx context.Context, io *client.IOContext, objs []object, width int) error {
	return forEach(ctx, objs, width, func(ctx context.Context, o object) error {
		if err := io.WriteFull(ctx, o.name, o.content()); err != nil {
			return fmt.Errorf("write %s (%d bytes): %w", o.name, o.size, err)
		}
		return nil
	})
}

// verifyObjects reads every object back and compares it with its content.
func verifyObjects(ctx context.Context, io *client.IOContext, objs []object, width int) error {
	return forEach(ctx, objs, width, func(ctx context.Context, o object) error {
		got, err := io.Read(ctx, o.name, 0, 0)
		if err != nil {
			return fmt.Errorf("read %s: %w", o.name, err)
		}
		if want := o.content(); !bytes.Equal(got, want) {
			return fmt.Errorf("read %s: %d bytes differ from the %d written", o.name, len(got), len(want))
		}
		return nil
	})
}

func mustWrite(t *testing.T, ctx context.Context, io *client.IOContext, objs []object, width int) {
	t.Helper()
	if err := writeObjects(ctx, io, objs, width); err != nil {
		t.Fatal(err)
	}
}

func mustVerify(t *testing.T, ctx context.Context, io *client.IOContext, objs []object, width int) {
	t.Helper()
	if err := verifyObjects(ctx, io, objs, width); err != nil {
		t.Fatal(err)
	}
}
