package e2e

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
)

// flipEverywhere flips one byte of every occurrence of needle in the files
// under dir and returns how many it changed.
func flipEverywhere(t *testing.T, dir string, needle []byte) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		changed := false
		for off := 0; ; {
			i := bytes.Index(b[off:], needle)
			if i < 0 {
				break
			}
			b[off+i+len(needle)/2] ^= 0x40
			off += i + len(needle)
			n, changed = n+1, true
		}
		if changed {
			return os.WriteFile(path, b, 0o644)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCorruptByteDetected: one byte of an object's data is flipped on the
// disk of its primary while the cluster is stopped; a read afterwards is
// refused with an I/O error (or served correctly from a good copy), and
// the damaged bytes are never returned.
func TestCorruptByteDetected(t *testing.T) {
	c := sharedCluster(t)
	conn := connect(t, c, client.Config{})
	io := openPool(t, c, conn)
	ctx := testCtx(t, 3*time.Minute)
	name := "corrupt-me"
	data := make([]byte, 256<<10)
	r := rand.New(rand.NewPCG(42, 42))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	if err := io.WriteFull(ctx, name, data); err != nil {
		t.Fatal(err)
	}
	pg, err := conn.Map().ObjectToPG(io.PoolID(), name, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, primary := conn.Map().PGToUpActing(pg)
	var dir string
	for _, d := range c.Layout().OSDs() {
		if d.ID == primary {
			dir = c.DataDir(d.Name)
		}
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	flipped := flipEverywhere(t, dir, data[100<<10:100<<10+64])
	c = restartShared(t)
	if flipped == 0 {
		t.Fatalf("the object's bytes were not found in %s: the store compresses or encrypts data; update this test", dir)
	}
	conn = connect(t, c, client.Config{})
	io = openPool(t, c, conn)
	got, err := io.Read(ctx, name, 0, 0)
	switch {
	case errors.Is(err, client.ErrIO):
		t.Logf("osd.%d refused the damaged read: %v", primary, err)
	case err != nil:
		t.Fatalf("read of a damaged object: %v, want ErrIO", err)
	case !bytes.Equal(got, data):
		t.Fatalf("osd.%d returned %d damaged bytes", primary, len(got))
	default:
		t.Logf("osd.%d served the object correctly despite its damaged copy", primary)
	}
	// The object can still be replaced.
	if err := io.WriteFull(ctx, name, []byte("fresh")); err != nil {
		t.Fatalf("overwrite the damaged object: %v", err)
	}
	if got, err := io.Read(ctx, name, 0, 0); err != nil || string(got) != "fresh" {
		t.Fatalf("read after overwrite: %q %v", got, err)
	}
}
