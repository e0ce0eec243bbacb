package wire

import "testing"

func TestPoolTiers(t *testing.T) {
	p := &Pool{}
	for _, n := range []int{0, 1, 255, 256, 257, 4 << 20, 4<<20 + 1} {
		b := p.Get(n)
		if len(*b) != n {
			t.Fatalf("Get(%d) has length %d", n, len(*b))
		}
		if n > 256 && cap(*b) != 1<<tierOf(n) {
			t.Fatalf("Get(%d) has capacity %d, want the tier's %d", n, cap(*b), 1<<tierOf(n))
		}
		p.Put(b)
	}
	// A foreign buffer is dropped, not pooled in a tier it does not fill.
	odd := make([]byte, 1000)
	p.Put(&odd)
	if b := p.Get(1000); cap(*b) != 1024 {
		t.Fatalf("Get(1000) after a foreign Put has capacity %d", cap(*b))
	}
}
