package fastrpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// ErrUnsupported means the server did not answer the preface: it speaks
// gRPC only. Use gRPC with it.
var ErrUnsupported = errors.New("fastrpc: the server does not speak fastrpc")

// prefaceTimeout bounds the wait for the server's preface.
const prefaceTimeout = 5 * time.Second

// Client calls one server over one connection, dialed on first use and
// again after it fails. It is safe for concurrent use.
type Client struct {
	addr   string
	maxMsg int

	mu  sync.Mutex
	cur *clientConn
	// unsupportedUntil is set when the server did not answer the preface;
	// calls fail with ErrUnsupported until then (the server may be
	// upgraded, or the failure may have been the network's).
	unsupportedUntil time.Time
	closed           bool
}

// unsupportedFor is how long a client believes a server speaks gRPC only.
const unsupportedFor = 30 * time.Second

// NewClient returns a client of the server at addr refusing messages over
// maxMsg bytes. It does not connect yet.
func NewClient(addr string, maxMsg int) *Client { return &Client{addr: addr, maxMsg: maxMsg} }

// clientConn is one connection and the calls waiting on it.
type clientConn struct {
	c   net.Conn
	wmu sync.Mutex // serializes frame writes

	mu      sync.Mutex
	pending map[uint64]*call
	nextID  uint64
	err     error // set once the connection failed
}

// call is one call waiting for its answer.
type call struct {
	reply proto.Message
	done  chan error // buffered: the reader never blocks on it
}

// Call sends req (a proto.Message or a *wire.Encoded) as method m and
// decodes the answer into reply. Transport failures are gRPC status errors
// with code Unavailable (the call may or may not have been executed), as
// are errors the server's handler returned, with their code; if ctx ends
// first, Call returns its error.
func (c *Client) Call(ctx context.Context, m uint16, req any, reply proto.Message) error {
	segs, n, err := encode(req)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	if n > c.maxMsg {
		return status.Errorf(codes.ResourceExhausted, "fastrpc: request of %d bytes over the %d-byte message size limit", n, c.maxMsg)
	}
	cc, err := c.conn(ctx)
	if err != nil {
		return err
	}
	id, cl, err := cc.register(reply)
	if err != nil {
		return err
	}
	h := header{length: uint32(n), kind: kindRequest, method: m, id: id}
	if dl, ok := ctx.Deadline(); ok {
		h.timeoutMS = uint32(max(1, min(time.Until(dl).Milliseconds(), 1<<31)))
	}
	cc.wmu.Lock()
	err = writeFrame(cc.c, h, segs)
	cc.wmu.Unlock()
	if err != nil {
		cc.fail(err)
	}
	select {
	case err := <-cl.done:
		return err
	case <-ctx.Done():
		cc.forget(id)
		return status.FromContextError(ctx.Err()).Err()
	}
}

// conn returns the current connection, dialing one if there is none.
func (c *Client) conn(ctx context.Context) (*clientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, status.Error(codes.Canceled, "fastrpc: client closed")
	case time.Now().Before(c.unsupportedUntil):
		return nil, ErrUnsupported
	case c.cur != nil && c.cur.alive():
		return c.cur, nil
	}
	cc, err := c.dial(ctx)
	if errors.Is(err, ErrUnsupported) {
		c.unsupportedUntil = time.Now().Add(unsupportedFor)
	}
	if err != nil {
		return nil, err
	}
	c.cur = cc
	go cc.readLoop(c.maxMsg)
	return cc, nil
}

// dial connects and exchanges prefaces.
func (c *Client) dial(ctx context.Context) (*clientConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "fastrpc: dial %s: %v", c.addr, err)
	}
	deadline := time.Now().Add(prefaceTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = nc.SetDeadline(deadline)
	got := make([]byte, len(Preface))
	if _, err = io.WriteString(nc, Preface); err == nil {
		_, err = io.ReadFull(nc, got)
	}
	_ = nc.SetDeadline(time.Time{})
	switch {
	case err == nil && string(got) == Preface:
		return &clientConn{c: nc, pending: map[uint64]*call{}}, nil
	case ctx.Err() != nil:
		nc.Close()
		return nil, status.FromContextError(ctx.Err()).Err()
	case err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		// A gRPC server reads 24 bytes, finds no HTTP/2 preface and
		// hangs up, or answers with HTTP/2 frames.
		nc.Close()
		return nil, fmt.Errorf("%w (%s answered the preface with %q, %v)", ErrUnsupported, c.addr, got, err)
	}
	nc.Close()
	return nil, status.Errorf(codes.Unavailable, "fastrpc: preface with %s: %v", c.addr, err)
}

// Close closes the connection; calls waiting on it fail.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.cur != nil {
		c.cur.fail(net.ErrClosed)
	}
}

func (cc *clientConn) alive() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.err == nil
}

// register adds a call waiting for its answer.
func (cc *clientConn) register(reply proto.Message) (uint64, *call, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.err != nil {
		return 0, nil, unavailable(cc.err)
	}
	cc.nextID++
	cl := &call{reply: reply, done: make(chan error, 1)}
	cc.pending[cc.nextID] = cl
	return cc.nextID, cl, nil
}

// forget drops a call whose caller gave up; its answer will be discarded.
func (cc *clientConn) forget(id uint64) {
	cc.mu.Lock()
	delete(cc.pending, id)
	cc.mu.Unlock()
}

// take removes and returns the call of an answer, nil if nobody waits.
func (cc *clientConn) take(id uint64) *call {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cl := cc.pending[id]
	delete(cc.pending, id)
	return cl
}

// fail ends the connection: every waiting call gets an Unavailable error.
func (cc *clientConn) fail(err error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.err != nil {
		return
	}
	cc.err = err
	cc.c.Close()
	for id, cl := range cc.pending {
		cl.done <- unavailable(err)
		delete(cc.pending, id)
	}
}

func unavailable(err error) error {
	return status.Errorf(codes.Unavailable, "fastrpc: connection lost: %v", err)
}

// readLoop reads answers and completes their calls until the connection
// fails.
func (cc *clientConn) readLoop(maxMsg int) {
	br := bufio.NewReaderSize(cc.c, 64<<10)
	for {
		err := cc.readAnswer(br, maxMsg)
		if err != nil {
			cc.fail(err)
			return
		}
	}
}

// readAnswer reads one frame and completes its call.
func (cc *clientConn) readAnswer(br *bufio.Reader, maxMsg int) error {
	h, err := readHeader(br)
	if err != nil {
		return err
	}
	if h.kind == kindRequest || int(h.length) > maxMsg {
		return fmt.Errorf("%w: frame kind %d of %d bytes from the server", errProtocol, h.kind, h.length)
	}
	cl := cc.take(h.id)
	if cl == nil {
		_, err := br.Discard(int(h.length))
		return err
	}
	if h.kind == kindError {
		msg := make([]byte, h.length)
		if _, err := io.ReadFull(br, msg); err != nil {
			return err
		}
		cl.done <- status.Error(codes.Code(h.method), string(msg))
		return nil
	}
	err = readMessage(br, int(h.length), cl.reply)
	var pe *payloadError
	if errors.As(err, &pe) {
		cl.done <- status.Error(codes.Internal, pe.Error())
		return nil
	}
	if err != nil {
		cl.done <- unavailable(err)
		return err
	}
	cl.done <- nil
	return nil
}
