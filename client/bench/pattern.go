package bench

import (
	"bytes"
	"math/rand/v2"
)

// headerSize is the part of each object that holds its name, so that a
// read that returns another object's data is caught, not just corruption.
const headerSize = 64

// pattern is the content of every object of a run: fixed pseudo-random
// bytes (incompressible, the same in every run) behind a header holding
// the object's name.
type pattern struct{ body []byte }

func newPattern(size int) *pattern {
	r := rand.New(rand.NewPCG(0x676f7261646f73, uint64(size)))
	b := make([]byte, size)
	for i := 0; i+8 <= size; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return &pattern{body: b}
}

// header returns the header bytes of object name for an object of n bytes.
func header(name string, n int) []byte {
	h := make([]byte, min(headerSize, n))
	copy(h, name)
	return h
}

// fill writes the content of object name into buf (len(buf) >= size) and
// returns it.
func (p *pattern) fill(buf []byte, name string) []byte {
	buf = buf[:len(p.body)]
	copy(buf, p.body)
	copy(buf, header(name, len(buf)))
	return buf
}

// check reports whether data is the content of object name.
func (p *pattern) check(data []byte, name string) bool {
	if len(data) != len(p.body) {
		return false
	}
	h := header(name, len(data))
	return bytes.Equal(data[:len(h)], h) && bytes.Equal(data[len(h):], p.body[len(h):])
}
