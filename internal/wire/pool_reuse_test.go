package wire

import "testing"

func TestPoolReuse(t *testing.T) {
	var p Pool
	for _, n := range []int{0, 1, 255, 256, 257, 4 << 20, 4<<20 + 1, 300 << 20} {
		b := p.Get(n)
		if len(*b) != n {
			t.Fatalf("Get(%d) has length %d", n, len(*b))
		}
		if n > 256 && n <= 256<<20 && cap(*b) != 1<<tierOf(n) {
			t.Fatalf("Get(%d) has capacity %d", n, cap(*b))
		}
		p.Put(b)
	}
	b := p.Get(1000)
	(*b)[999] = 7
	p.Put(b)
	again := p.Get(600)
	if cap(*again) != 1024 || len(*again) != 600 {
		t.Fatalf("reuse: len %d cap %d", len(*again), cap(*again))
	}
	foreign := make([]byte, 1000) // not a power of two: dropped
	p.Put(&foreign)
	if tierOf(1) != 0 || tierOf(2) != 1 || tierOf(1024) != 10 || tierOf(1025) != 11 {
		t.Fatal("tierOf")
	}
}
