// Package client is the Go client library for gorados, in the spirit of
// librados and go-ceph: connect to the monitors, keep the cluster map current,
// compute each object's primary OSD with the placement code and send it the
// operation, resending across map changes and transient errors.
//
// Its public API uses Go types, never protobuf types.
//
//	conn, err := client.Connect(ctx, client.Config{Monitors: []string{"127.0.0.1:6789"}})
//	...
//	defer conn.Close()
//	io, err := conn.OpenPool(ctx, "rbd")
//	err = io.WriteFull(ctx, "greeting", []byte("hello"))
//	data, err := io.Read(ctx, "greeting", 0, 0)
//
// # Delivery
//
// Every operation carries a request id (client id, incarnation, tid) fixed
// when it starts. The library sends it to the acting primary of the
// object's PG in the newest map it holds and resends the same request id
// until an OSD gives a final answer or the context (and Config.OpTimeout)
// ends:
//   - NOT_PRIMARY / STALE_EPOCH: wait for a map at least as new as the
//     OSD's (from the subscription, else fetched from the monitors),
//     recompute the target, resend;
//   - AGAIN (PG not active yet), connection refused or reset, attempt
//     timeout: resend after an exponential backoff with jitter;
//   - a new map that moves the PG while an op is in flight: abandon the
//     attempt and resend to the new primary at once.
//
// Because the request id does not change, an OSD that already applied a
// write answers the resend with the original result instead of applying
// it again.
//
// # Errors
//
// Every failed operation returns an *OpError wrapping one of ErrNotFound,
// ErrExists, ErrNoData, ErrTimeout, ErrTooBig, ErrInvalid, ErrIO,
// ErrPoolNotFound, ErrNoSpace, ErrWrongCluster or ErrClosed; branch with errors.Is.
//
// The package never imports server packages (mon, osd).
package client
