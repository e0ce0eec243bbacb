package wire

import (
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Decoding without copying large bytes fields. protobuf-go copies every
// bytes field it decodes; for a 4 MiB write that copy was the largest
// single cost of an OSD's CPU profile after the block file. So a message
// of LargeField bytes or more is decoded in three steps:
//
//  1. its frames are gathered into a buffer of its own, padded so that the
//     payload of its first large bytes field starts 4096-aligned (the
//     block file writes it with O_DIRECT without a bounce copy);
//  2. the wire bytes are walked with the message's descriptor to find
//     every large bytes field, whose tag is rewritten in the buffer to an
//     unused field number of the same encoded length, and the message is
//     decoded with DiscardUnknown, which skips those payloads uncopied;
//  3. each large field is set to the slice of the buffer holding its
//     payload.
//
// The buffer is left to the garbage collector: the decoded message refers
// to it for as long as its data is used (a store transaction, a repop being
// sent), with no release to track. Anything the walk does not understand
// falls back to protobuf's ordinary decoding.

// aliasAlign is the alignment of the first large payload in the buffer.
const aliasAlign = directAlign

// directAlign is the alignment O_DIRECT needs of memory (4096 covers
// devices with 4 KiB sectors).
const directAlign = 4096

// largeRef is a large bytes field found by the walk: the path of fields
// (with list indexes) from the root message, and its payload's position.
type largeRef struct {
	path     []pathStep
	off, len int
	tagAt    int // offset of the field's tag
	tagLen   int
}

type pathStep struct {
	fd    protoreflect.FieldDescriptor
	index int // list index, or -1
}

// unmarshalAliased decodes data (of at least LargeField bytes) into m as
// described above. It reports false, having done nothing, when the message
// does not lend itself to it; the caller then decodes normally.
func unmarshalAliased(data mem.BufferSlice, m proto.Message) (bool, error) {
	n := data.Len()
	head := make([]byte, min(n, 64<<10))
	copyPrefix(data, head)
	buf := AlignedBuffer(n, head, m)
	if buf == nil {
		return false, nil
	}
	data.CopyTo(buf)
	return decodeInPlace(buf, m)
}

// AlignedBuffer returns a new buffer of n bytes for an encoded message of
// m's type whose first bytes are head, placed so that the payload of the
// message's first large bytes field will start 4096-aligned; nil if head
// shows no large field. Fill it with the message and decode it with
// UnmarshalInPlace.
func AlignedBuffer(n int, head []byte, m proto.Message) []byte {
	first := firstLargeOffset(head, m.ProtoReflect().Descriptor())
	if first < 0 {
		return nil
	}
	raw := make([]byte, n+aliasAlign)
	pad := (aliasAlign - int((addr(raw)+uintptr(first))%aliasAlign)) % aliasAlign
	return raw[pad : pad+n : pad+n]
}

// UnmarshalInPlace decodes buf into m, dropping unknown fields; large bytes
// fields of m are left pointing into buf (which is modified, and must not
// be reused) instead of being copied.
func UnmarshalInPlace(buf []byte, m proto.Message) error {
	if len(buf) >= largeField {
		if done, err := decodeInPlace(buf, m); done {
			return err
		}
	}
	return decodeOptions.Unmarshal(buf, m)
}

// decodeInPlace is steps 2 and 3 above; it reports false, having left
// buf's meaning unchanged, when the message does not lend itself to it.
func decodeInPlace(buf []byte, m proto.Message) (bool, error) {
	md := m.ProtoReflect().Descriptor()
	var refs []largeRef
	if !findLarge(buf, 0, md, nil, &refs) || len(refs) == 0 {
		return false, nil
	}
	for i, r := range refs {
		if !retag(buf, r) {
			for _, done := range refs[:i] {
				untag(buf, done)
			}
			return false, nil
		}
	}
	if err := decodeOptions.Unmarshal(buf, m); err != nil {
		return true, err
	}
	for _, r := range refs {
		setPath(m.ProtoReflect(), r.path, buf[r.off:r.off+r.len:r.off+r.len])
	}
	return true, nil
}

// copyPrefix copies the first len(dst) bytes of data into dst.
func copyPrefix(data mem.BufferSlice, dst []byte) {
	for _, b := range data {
		if len(dst) == 0 {
			return
		}
		dst = dst[copy(dst, b.ReadOnlyData()):]
	}
}

// firstLargeOffset returns the offset of the payload of the first large
// bytes field in b (a prefix of the message), or -1.
func firstLargeOffset(b []byte, md protoreflect.MessageDescriptor) int {
	var refs []largeRef
	findLarge(b, 0, md, nil, &refs)
	if len(refs) == 0 {
		return -1
	}
	return refs[0].off
}

// findLarge walks the fields of a message of descriptor md encoded in
// b[...] starting at offset base of the whole buffer, appending every large
// bytes field to refs and descending into large message fields. b may be a
// prefix of the message. It reports false for encodings it does not
// handle: a singular field holding large data that occurs more than once
// (protobuf would keep the last or merge them), or malformed bytes.
func findLarge(b []byte, base int, md protoreflect.MessageDescriptor, path []pathStep, refs *[]largeRef) bool {
	seen := map[protowire.Number]int{}
	var singular []protowire.Number // singular fields holding large data
	for off := 0; off < len(b); {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return false
		}
		tag := tagPos{at: base + off, len: n}
		off += n
		if typ != protowire.BytesType {
			m := protowire.ConsumeFieldValue(num, typ, b[off:])
			if m < 0 {
				return false
			}
			off += m
			continue
		}
		l, n := protowire.ConsumeVarint(b[off:])
		if n < 0 {
			return false
		}
		off += n
		idx := seen[num]
		seen[num]++
		end, inPrefix := len(b), l <= uint64(len(b)-off)
		if inPrefix {
			end = off + int(l)
		}
		if fd := md.Fields().ByNumber(num); fd != nil && l >= uint64(largeField) && !fd.IsMap() {
			if !visitLarge(b[off:end], base+off, int(l), tag, fd, idx, path, refs) {
				return false
			}
			if !fd.IsList() {
				singular = append(singular, num)
			}
		}
		if !inPrefix {
			return true // the rest is past this prefix
		}
		off = end
	}
	// protobuf keeps the last occurrence of a singular bytes field and
	// merges those of a message field: leave such encodings to it.
	for _, num := range singular {
		if seen[num] > 1 {
			return false
		}
	}
	return true
}

// visitLarge records or descends into one large field whose payload starts
// at offset at of the buffer.
func visitLarge(payload []byte, at, l int, tag tagPos, fd protoreflect.FieldDescriptor, idx int, path []pathStep, refs *[]largeRef) bool {
	step := pathStep{fd: fd, index: -1}
	if fd.IsList() {
		step.index = idx
	}
	p := append(append([]pathStep(nil), path...), step)
	switch {
	case fd.Kind() == protoreflect.BytesKind && !fd.IsList():
		*refs = append(*refs, largeRef{path: p, off: at, len: l, tagAt: tag.at, tagLen: tag.len})
		return true
	case fd.Kind() == protoreflect.MessageKind:
		return findLarge(payload, at, fd.Message(), p, refs)
	}
	return true
}

// tagPos is where a field's tag lies in the buffer.
type tagPos struct{ at, len int }

// retag rewrites the tag of a large field to an unused field number of the
// same encoded length, so that decoding skips the payload as an unknown
// field. A tag encoded in more bytes than needed is left alone (the
// caller then decodes normally).
func retag(buf []byte, r largeRef) bool {
	field := r.path[len(r.path)-1].fd
	if r.tagLen != protowire.SizeTag(field.Number()) {
		return false
	}
	num, ok := unusedNumber(field.ContainingMessage(), r.tagLen)
	if !ok {
		return false
	}
	protowire.AppendTag(buf[r.tagAt:r.tagAt], num, protowire.BytesType)
	return true
}

// untag restores the tag retag rewrote.
func untag(buf []byte, r largeRef) {
	protowire.AppendTag(buf[r.tagAt:r.tagAt], r.path[len(r.path)-1].fd.Number(), protowire.BytesType)
}

// unusedNumber finds a field number of md that encodes (with the bytes wire
// type) in tagLen bytes and names no field.
func unusedNumber(md protoreflect.MessageDescriptor, tagLen int) (protowire.Number, bool) {
	for n := protowire.Number(1); n < 1<<14; n++ {
		if protowire.SizeTag(n) == tagLen && md.Fields().ByNumber(n) == nil && !md.ReservedRanges().Has(n) {
			return n, true
		}
		if protowire.SizeTag(n) > tagLen {
			break
		}
	}
	return 0, false
}

// setPath sets the bytes field at the end of path to v.
func setPath(m protoreflect.Message, path []pathStep, v []byte) {
	for _, s := range path[:len(path)-1] {
		if s.index >= 0 {
			m = m.Get(s.fd).List().Get(s.index).Message()
		} else {
			m = m.Get(s.fd).Message()
		}
	}
	m.Set(path[len(path)-1].fd, protoreflect.ValueOfBytes(v))
}
