// Package wire is the gRPC codec and buffer pool of the connections that
// carry object data: clients to OSDs and OSDs to OSDs. It is gRPC's
// protobuf codec with the copies and the zeroing that cost most on 4 MiB
// ops taken out, and it produces and accepts exactly the protobuf wire
// format, so either side may use the stock codec.
//
//   - Marshal does not copy large bytes fields (data of writes, read
//     replies, repops): the encoded message is a list of buffers in which
//     each such field is the caller's own slice. The caller must not
//     modify it until the call has completed, which gRPC's unary calls
//     and handlers guarantee.
//   - Encode pre-encodes a message once for several calls (a primary
//     sending one repop to each replica).
//   - Unmarshal gathers a message's frames into a buffer of Pool, which
//     does not zero memory it hands out, and returns it after decoding.
//   - Pool is a gRPC buffer pool with tiers up to 256 MiB that does not
//     zero buffers (gRPC fills every buffer it takes before reading it);
//     gRPC's default zeroes every buffer and allocates every one over
//     1 MiB afresh.
//
// It must not know about gorados' messages: it works on any protobuf
// message through reflection.
package wire
