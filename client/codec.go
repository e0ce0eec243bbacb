package client

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// replyCodec is gRPC's protobuf codec with one change: a reply that
// arrived in several frames is gathered into a buffer of replyBuffers
// (reused, not zeroed) instead of one from gRPC's default pool, which
// allocates and zeroes a fresh buffer for every reply over 1 MiB, that
// is for every 4 MiB read.
type replyCodec struct{ encoding.CodecV2 }

func newReplyCodec() replyCodec { return replyCodec{encoding.GetCodecV2(protoenc.Name)} }

// Unmarshal decodes a reply.
func (c replyCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("cannot decode into %T, want a protobuf message", v)
	}
	buf := data.MaterializeToBuffer(replyBuffers)
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}
