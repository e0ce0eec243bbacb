package wire

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Codec is the encoding.CodecV2 of data connections; use it with
// grpc.ForceCodecV2 (clients) and grpc.ForceServerCodecV2 (servers).
type Codec struct{}

var _ encoding.CodecV2 = Codec{}

// Name is that of gRPC's protobuf codec: the bytes on the wire are the
// same.
func (Codec) Name() string { return "proto" }

// LargeField is the size from which a bytes field is sent from the
// caller's memory instead of being copied into the encoding, and decoded
// without being copied.
const LargeField = 64 << 10

// largeField is LargeField; fuzz tests lower it to exercise the aliasing
// paths with small inputs.
var largeField = LargeField

// Encoded is a message encoded in advance by Encode; Marshal sends its
// buffers as they are, however many calls send it.
type Encoded struct {
	segs [][]byte
	size int
}

// Size returns the length of the encoding.
func (e *Encoded) Size() int { return e.size }

// Segments returns the encoding as the slices to write one after the
// other; large fields are the message's own memory.
func (e *Encoded) Segments() [][]byte { return e.segs }

// Bytes returns the encoding as one slice (a copy when it has several
// segments), for tests and logs.
func (e *Encoded) Bytes() []byte {
	if len(e.segs) == 1 {
		return e.segs[0]
	}
	out := make([]byte, 0, e.size)
	for _, s := range e.segs {
		out = append(out, s...)
	}
	return out
}

// errNotProto is returned for values that are not protobuf messages.
var errNotProto = errors.New("wire: not a protobuf message")

// Marshal encodes v, a proto.Message or an *Encoded.
func (Codec) Marshal(v any) (mem.BufferSlice, error) {
	e, ok := v.(*Encoded)
	if !ok {
		m, isMsg := v.(proto.Message)
		if !isMsg {
			return nil, fmt.Errorf("%w: %T", errNotProto, v)
		}
		var err error
		if e, err = Encode(m); err != nil {
			return nil, err
		}
	}
	out := make(mem.BufferSlice, len(e.segs))
	for i, s := range e.segs {
		out[i] = mem.SliceBuffer(s)
	}
	return out, nil
}

// Unmarshal decodes data into v, a proto.Message, dropping unknown
// fields. A message of LargeField
// bytes or more keeps its large bytes fields in a buffer of its own,
// without copying them (alias.go); a smaller one is gathered into a pooled
// buffer and decoded by protobuf, and does not refer to the buffer.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("%w: %T", errNotProto, v)
	}
	if data.Len() >= largeField {
		if done, err := unmarshalAliased(data, m); done {
			return err
		}
	}
	buf := data.MaterializeToBuffer(Buffers)
	defer buf.Free()
	return decodeOptions.Unmarshal(buf.ReadOnlyData(), m)
}

// decodeOptions drop unknown fields, on both paths: the aliasing decoder
// relies on it, and the daemons have no use for fields they do not know.
var decodeOptions = proto.UnmarshalOptions{DiscardUnknown: true}

// Encode encodes m. A message holding no bytes field of LargeField bytes
// or more is encoded by protobuf in one piece; otherwise each such field is
// a segment of its own that aliases m's memory, and m must not change
// while the encoding is in use.
func Encode(m proto.Message) (*Encoded, error) {
	size := proto.Size(m)
	if size < largeField {
		b, err := proto.MarshalOptions{UseCachedSize: true}.Marshal(m)
		if err != nil {
			return nil, err
		}
		return &Encoded{segs: [][]byte{b}, size: len(b)}, nil
	}
	enc := &encoder{}
	if err := enc.message(m.ProtoReflect()); err != nil {
		return nil, err
	}
	enc.flush()
	if enc.size != size {
		return nil, fmt.Errorf("wire: encoded %d bytes of a %d-byte %s", enc.size, size, m.ProtoReflect().Descriptor().FullName())
	}
	return &Encoded{segs: enc.segs, size: enc.size}, nil
}

// encoder builds an encoding as segments: cur collects small fields, and
// each large bytes field closes it and becomes a segment of its own.
type encoder struct {
	segs [][]byte
	cur  []byte
	size int
}

func (e *encoder) flush() {
	if len(e.cur) > 0 {
		e.segs = append(e.segs, e.cur)
		e.size += len(e.cur)
		e.cur = nil
	}
}

func (e *encoder) large(b []byte) {
	e.flush()
	e.segs = append(e.segs, b)
	e.size += len(b)
}

// message appends the encoding of m. Fields that hold no large bytes are
// copied into a message of m's type and encoded by protobuf; the others
// (a large bytes field, a message field or list holding one) are framed
// here. Field order differs from protobuf's, which decoders accept.
func (e *encoder) message(m protoreflect.Message) error {
	small := m.Type().New()
	small.SetUnknown(m.GetUnknown())
	var big []protoreflect.FieldDescriptor
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if holdsLarge(fd, v) {
			big = append(big, fd)
		} else {
			small.Set(fd, v)
		}
		return true
	})
	if e.cur, err = (proto.MarshalOptions{}).MarshalAppend(e.cur, small.Interface()); err != nil {
		return err
	}
	for _, fd := range big {
		if err := e.field(fd, m.Get(fd)); err != nil {
			return err
		}
	}
	return nil
}

// field appends one field that holds large bytes.
func (e *encoder) field(fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	num := fd.Number()
	switch {
	case fd.IsList():
		l := v.List()
		for i := 0; i < l.Len(); i++ {
			if err := e.sub(num, l.Get(i).Message()); err != nil {
				return err
			}
		}
		return nil
	case fd.Kind() == protoreflect.BytesKind:
		b := v.Bytes()
		e.cur = protowire.AppendTag(e.cur, num, protowire.BytesType)
		e.cur = protowire.AppendVarint(e.cur, uint64(len(b)))
		e.large(b)
		return nil
	}
	return e.sub(num, v.Message())
}

// sub appends a message field: tag, length, then the message.
func (e *encoder) sub(num protoreflect.FieldNumber, m protoreflect.Message) error {
	e.cur = protowire.AppendTag(e.cur, num, protowire.BytesType)
	e.cur = protowire.AppendVarint(e.cur, uint64(proto.Size(m.Interface())))
	return e.message(m)
}

// holdsLarge reports whether field value v holds a bytes field of at least
// LargeField bytes, itself or in its messages (maps and groups are left to
// protobuf).
func holdsLarge(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	if fd.IsMap() || fd.Kind() == protoreflect.GroupKind {
		return false
	}
	switch {
	case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
		l := v.List()
		for i := 0; i < l.Len(); i++ {
			if proto.Size(l.Get(i).Message().Interface()) >= largeField {
				return true
			}
		}
		return false
	case fd.IsList():
		return false
	case fd.Kind() == protoreflect.BytesKind:
		return len(v.Bytes()) >= largeField
	case fd.Kind() == protoreflect.MessageKind:
		return proto.Size(v.Message().Interface()) >= largeField
	}
	return false
}
