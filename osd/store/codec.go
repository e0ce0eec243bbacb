package store

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"
)

// castagnoli is the crc32c table; Go uses the SSE4.2/ARMv8 instructions
// for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errDecode is the cause of every decoding failure; callers turn it into
// a CorruptError naming what was being decoded.
var errDecode = errors.New("malformed encoding")

// Ordered string encoding: strings inside keys are written so that bytewise
// key order equals the order of the string tuples. A 0x00 byte is written
// as 0x00 0xFF and every string ends with 0x00 0x01; since 0x01 sorts below
// any other continuation, a string sorts before its extensions.
const (
	escByte   = 0x00
	escEscape = 0xFF
	escEnd    = 0x01
)

// appendOrdered appends s in the ordered string encoding.
func appendOrdered(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b = append(b, s[i])
		if s[i] == escByte {
			b = append(b, escEscape)
		}
	}
	return append(b, escByte, escEnd)
}

// readOrdered decodes one ordered string from b and returns the rest.
func readOrdered(b []byte) (string, []byte, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != escByte {
			out = append(out, b[i])
			continue
		}
		if i+1 >= len(b) {
			return "", nil, errDecode
		}
		switch b[i+1] {
		case escEnd:
			return string(out), b[i+2:], nil
		case escEscape:
			out = append(out, escByte)
			i++
		default:
			return "", nil, errDecode
		}
	}
	return "", nil, errDecode
}

// enc builds a value payload: unsigned and signed varints and
// length-prefixed byte strings, in a fixed order per record type.
type enc struct{ b []byte }

func (e *enc) u8(v uint8)       { e.b = append(e.b, v) }
func (e *enc) uvar(v uint64)    { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) svar(v int64)     { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) bytes(v []byte)   { e.uvar(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) str(v string)     { e.uvar(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) time(t time.Time) { e.svar(timeNanos(t)) }

// dec reads what enc wrote. The first failure sticks: later reads return
// zero values and finish() reports errDecode, so decoders read every field
// and check once.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() { d.err = errDecode; d.b = nil }

func (d *dec) u8() uint8 {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) uvar() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) svar() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns a copy of a length-prefixed byte string of at most max
// bytes, so that results never alias bbolt's memory.
func (d *dec) bytes(max int) []byte {
	n := d.uvar()
	if d.err != nil || n > uint64(max) || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := append([]byte{}, d.b[:n]...)
	d.b = d.b[n:]
	return v
}

func (d *dec) str(max int) string { return string(d.bytes(max)) }
func (d *dec) time() time.Time    { return timeFromNanos(d.svar()) }

// finish reports errDecode if any read failed or bytes are left over.
func (d *dec) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errDecode
	}
	return d.err
}

// timeNanos stores times as Unix nanoseconds; the zero time is 0.
func timeNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeFromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
