package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

var bg = context.Background()

// testPG is the collection most tests use.
var testPG = PG(1, 0x1a)

func obj(name string) ObjectID {
	return ObjectID{Pool: 1, Name: name, Hash: hashForTest(name)}
}

// hashForTest derives a deterministic hash from a name (FNV-1a); the store
// never computes hashes itself.
func hashForTest(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// newStore creates a store in a temporary directory with collection testPG
// and closes it at the end of the test.
func newStore(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Create(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	txn := NewTxn()
	txn.CreateCollection(testPG)
	mustApply(t, s, txn)
	return s
}

func mustApply(t testing.TB, s *Store, txn *Txn) {
	t.Helper()
	if err := s.Apply(bg, txn); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func mustRead(t testing.TB, s *Store, c CollID, o ObjectID) []byte {
	t.Helper()
	b, err := s.Read(bg, c, o, 0, 0)
	if err != nil {
		t.Fatalf("Read %s: %v", o, err)
	}
	return b
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func pattern(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func checkBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: got %d bytes, want %d; first difference at %d", what, len(got), len(want), i)
	}
}

// snapshot captures everything a store holds, in a canonical text form, to
// assert that a rejected transaction changed nothing.
func snapshot(t testing.TB, s *Store) string {
	t.Helper()
	var buf bytes.Buffer
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			c := tx.Bucket(name).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				fmt.Fprintf(&buf, "%s %x %x\n", name, k, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func bufioWriter(w io.Writer) *bufio.Writer { return bufio.NewWriter(w) }

// addrOfBytes returns the address of b's first byte.
func addrOfBytes(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
