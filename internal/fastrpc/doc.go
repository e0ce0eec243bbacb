// Package fastrpc is the transport of the two calls that carry object data
// and dominate an OSD's work: a client's op (ObjectService.Execute) and a
// primary's repop (OSDCluster.RepOp). Everything else stays on gRPC.
//
// gRPC cost too much on both kinds of traffic on a 2-core machine. For a
// 4 KiB read, its call machinery (HTTP/2 headers, streams, flow control,
// the goroutine hand-offs of its reader and writer loops) was a third of
// the OSD's CPU and of the client's. For 4 MiB, its 16 KiB frames are read
// through a buffer, each into a buffer of its own, then gathered into one
// message: two copies of every byte after the kernel's, on every hop.
//
// The protocol is the least that does the job, one TCP connection carrying
// many calls at once:
//
//	connection = preface frame*
//	preface    = "GORADOS-FASTRPC/1\r\n\r\n\r\n\r\n" (24 bytes, as long as
//	             HTTP/2's, so that a gRPC-only server refuses it at once)
//	             answered by the server with the same 24 bytes
//	frame      = header payload
//	header     = length u32 | kind u8 | 0 u8 | method u16 | id u64 |
//	             timeout-ms u32                  (20 bytes, little-endian)
//	kind       = 1 request, 2 reply, 3 error (payload: the message)
//	payload    = a protobuf message, or an error's text
//
// Replies carry the id of their request and may come in any order. A
// request's timeout (0: none) bounds its handler's context on the server.
// Large payloads are read straight into a buffer of their own, placed so
// that the message's first large bytes field is 4096-aligned, and decoded
// without copying that field (package wire); large fields are written from
// the sender's memory with writev.
//
// Split lets a gRPC server and a fastrpc server share a listener: it reads
// the first 24 bytes of each connection and hands it to one or the other.
// A client that finds no fastrpc server (an older OSD, a test double)
// reports ErrUnsupported so that its caller can use gRPC.
package fastrpc
