package client

import (
	"math/bits"
	"sync"
)

// bufPool is the gRPC buffer pool of the client's OSD connections. It
// differs from gRPC's default in two ways that matter for 4 MiB reads:
// its tiers go up to 256 MiB (gRPC's stop at 1 MiB, so every larger reply
// is allocated afresh), and it does not zero buffers it hands out (gRPC
// fills every buffer it takes from a pool before reading it: frames are
// read into them in full, replies are copied into them in full). A CPU
// profile of 4 MiB reads showed 12% of the client's time zeroing such
// buffers.
type bufPool struct {
	tiers [bufTierMax + 1]sync.Pool
}

const (
	bufTierMin = 8  // 256 B: smaller buffers are allocated directly
	bufTierMax = 28 // 256 MiB: above the largest message (msgSizeMax)
)

// Get returns a buffer of length bytes whose contents are undefined.
func (p *bufPool) Get(length int) *[]byte {
	t := tierOf(length)
	if t < bufTierMin || t > bufTierMax {
		b := make([]byte, length)
		return &b
	}
	if v, ok := p.tiers[t].Get().(*[]byte); ok {
		*v = (*v)[:length]
		return v
	}
	b := make([]byte, length, 1<<t)
	return &b
}

// Put returns a buffer obtained from Get.
func (p *bufPool) Put(b *[]byte) {
	c := cap(*b)
	t := tierOf(c)
	if t < bufTierMin || t > bufTierMax || c != 1<<t {
		return // not one of ours: let the garbage collector have it
	}
	p.tiers[t].Put(b)
}

// tierOf returns the smallest t with 1<<t >= n.
func tierOf(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}
