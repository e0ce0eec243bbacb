package pg

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gorados/gorados/cluster"
)

// Encoding formats. Each encoded value starts with its kind and a format
// version byte so that a later release can add fields and still read old
// stores; decoders refuse versions they do not know.
const (
	kindEntry byte = 'E'
	kindInfo  byte = 'I'
	kindDup   byte = 'D'
	kindMap   byte = 'M'

	formatV1 byte = 1

	// maxStringLen bounds decoded strings (object names are at most 2,048
	// bytes; namespaces and keys likewise) so that corrupt input cannot
	// make the decoder allocate gigabytes.
	maxStringLen = 1 << 16
)

// EncodeEntry returns the binary encoding of e, as persisted in the store and
// carried in RepOps.
func EncodeEntry(e LogEntry) []byte {
	w := encoder{buf: make([]byte, 0, 64+len(e.Object.Name))}
	w.header(kindEntry)
	w.byte(byte(e.Op))
	w.object(e.Object)
	w.eversion(e.Version)
	w.eversion(e.PriorVersion)
	w.uvarint(e.UserVersion)
	w.reqid(e.ReqID)
	w.varint(int64(e.ReturnCode))
	w.varint(e.MtimeUnixNano)
	return w.buf
}

// DecodeEntry parses EncodeEntry's output.
func DecodeEntry(b []byte) (LogEntry, error) {
	r := decoder{buf: b, what: "log entry"}
	r.header(kindEntry)
	var e LogEntry
	e.Op = OpType(r.byte())
	e.Object = r.object()
	e.Version = r.eversion()
	e.PriorVersion = r.eversion()
	e.UserVersion = r.uvarint()
	e.ReqID = r.reqid()
	e.ReturnCode = r.int32()
	e.MtimeUnixNano = r.varint()
	if err := r.finish(); err != nil {
		return LogEntry{}, err
	}
	if !e.Op.valid() {
		return LogEntry{}, fmt.Errorf("%w: log entry has unknown op %d", ErrCorrupt, e.Op)
	}
	return e, nil
}

// EncodeDup returns the binary encoding of d.
func EncodeDup(d Dup) []byte {
	w := encoder{}
	w.header(kindDup)
	w.reqid(d.ReqID)
	w.eversion(d.Version)
	w.uvarint(d.UserVersion)
	w.varint(int64(d.ReturnCode))
	return w.buf
}

// DecodeDup parses EncodeDup's output.
func DecodeDup(b []byte) (Dup, error) {
	r := decoder{buf: b, what: "dup"}
	r.header(kindDup)
	d := Dup{ReqID: r.reqid(), Version: r.eversion(), UserVersion: r.uvarint(), ReturnCode: r.int32()}
	return d, r.finish()
}

// EncodeInfo returns the binary encoding of i.
func EncodeInfo(i Info) []byte {
	w := encoder{}
	w.header(kindInfo)
	w.varint(i.PG.Pool)
	w.uvarint(uint64(i.PG.Seed))
	w.eversion(i.LastUpdate)
	w.eversion(i.LastComplete)
	w.eversion(i.LogTail)
	w.uvarint(i.LastEpochStarted)
	h := i.History
	for _, v := range []uint64{h.EpochCreated, h.LastEpochStarted, h.LastEpochClean,
		h.SameIntervalSince, h.SameUpSince, h.SamePrimarySince} {
		w.uvarint(v)
	}
	return w.buf
}

// DecodeInfo parses EncodeInfo's output.
func DecodeInfo(b []byte) (Info, error) {
	r := decoder{buf: b, what: "PG info"}
	r.header(kindInfo)
	var i Info
	i.PG = cluster.PGID{Pool: r.varint(), Seed: r.uint32()}
	i.LastUpdate = r.eversion()
	i.LastComplete = r.eversion()
	i.LogTail = r.eversion()
	i.LastEpochStarted = r.uvarint()
	h := &i.History
	for _, p := range []*uint64{&h.EpochCreated, &h.LastEpochStarted, &h.LastEpochClean,
		&h.SameIntervalSince, &h.SameUpSince, &h.SamePrimarySince} {
		*p = r.uvarint()
	}
	if err := r.finish(); err != nil {
		return Info{}, err
	}
	return i, nil
}

// EncodeMapping returns the binary encoding of m.
func EncodeMapping(m Mapping) []byte {
	w := encoder{}
	w.header(kindMap)
	w.uvarint(m.Epoch)
	for _, set := range [][]int32{m.Up, m.Acting} {
		w.uvarint(uint64(len(set)))
		for _, o := range set {
			w.varint(int64(o))
		}
	}
	w.varint(int64(m.UpPrimary))
	w.varint(int64(m.ActingPrimary))
	w.uvarint(uint64(m.Size))
	w.uvarint(uint64(m.MinSize))
	w.uvarint(m.UpFrom)
	return w.buf
}

// maxSetLen bounds decoded up/acting vectors.
const maxSetLen = 1024

// DecodeMapping parses EncodeMapping's output.
func DecodeMapping(b []byte) (Mapping, error) {
	r := decoder{buf: b, what: "PG mapping"}
	r.header(kindMap)
	var m Mapping
	m.Epoch = r.uvarint()
	for _, set := range []*[]int32{&m.Up, &m.Acting} {
		n := r.uvarint()
		if n > maxSetLen {
			r.fail("%d OSDs in a set", n)
			break
		}
		for range n {
			*set = append(*set, r.int32())
		}
	}
	m.UpPrimary, m.ActingPrimary = r.int32(), r.int32()
	m.Size, m.MinSize = int(r.uint32()), int(r.uint32())
	m.UpFrom = r.uvarint()
	if err := r.finish(); err != nil {
		return Mapping{}, err
	}
	return m, nil
}

// encoder appends fields to buf.
type encoder struct{ buf []byte }

func (w *encoder) header(kind byte)    { w.buf = append(w.buf, kind, formatV1) }
func (w *encoder) byte(b byte)         { w.buf = append(w.buf, b) }
func (w *encoder) uvarint(v uint64)    { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *encoder) varint(v int64)      { w.buf = binary.AppendVarint(w.buf, v) }
func (w *encoder) eversion(v Eversion) { w.uvarint(v.Epoch); w.uvarint(v.Version) }

func (w *encoder) string(s string) {
	w.uvarint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

func (w *encoder) object(o ObjectID) {
	w.string(o.Namespace)
	w.string(o.Key)
	w.string(o.Name)
}

func (w *encoder) reqid(r ReqID) {
	w.uvarint(r.Client)
	w.uvarint(r.Incarnation)
	w.uvarint(r.Tid)
}

// decoder reads fields from buf; the first error sticks and later reads
// return zero values, so decode functions check once at the end.
type decoder struct {
	buf  []byte
	what string
	err  error
}

func (r *decoder) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s", ErrCorrupt, r.what, fmt.Sprintf(format, args...))
	}
}

func (r *decoder) header(kind byte) {
	if len(r.buf) < 2 {
		r.fail("%d bytes is too short for a header", len(r.buf))
		return
	}
	if r.buf[0] != kind {
		r.fail("kind byte %#x, want %#x", r.buf[0], kind)
	} else if r.buf[1] != formatV1 {
		r.fail("format version %d is not supported (this build reads %d): upgrade the OSD", r.buf[1], formatV1)
	}
	r.buf = r.buf[2:]
}

func (r *decoder) byte() byte {
	if r.err != nil || len(r.buf) == 0 {
		r.fail("truncated")
		return 0
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b
}

func (r *decoder) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.fail("bad or truncated varint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *decoder) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		r.fail("bad or truncated varint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *decoder) int32() int32 {
	v := r.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail("value %d does not fit 32 bits", v)
		return 0
	}
	return int32(v)
}

func (r *decoder) uint32() uint32 {
	v := r.uvarint()
	if v > math.MaxUint32 {
		r.fail("value %d does not fit 32 bits", v)
		return 0
	}
	return uint32(v)
}

func (r *decoder) eversion() Eversion { return Eversion{Epoch: r.uvarint(), Version: r.uvarint()} }

func (r *decoder) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > maxStringLen || n > uint64(len(r.buf)) {
		r.fail("string of %d bytes with %d left", n, len(r.buf))
		return ""
	}
	s := string(r.buf[:n])
	r.buf = r.buf[n:]
	return s
}

func (r *decoder) object() ObjectID {
	return ObjectID{Namespace: r.string(), Key: r.string(), Name: r.string()}
}

func (r *decoder) reqid() ReqID {
	return ReqID{Client: r.uvarint(), Incarnation: r.uvarint(), Tid: r.uvarint()}
}

// finish reports the first error, or trailing bytes.
func (r *decoder) finish() error {
	if r.err == nil && len(r.buf) != 0 {
		r.fail("%d trailing bytes", len(r.buf))
	}
	return r.err
}
