package fastrpc

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Handler serves one method: New returns an empty request message, Serve
// answers a decoded request. A Serve error is sent to the caller with its
// gRPC status code (codes.Unknown for plain errors).
type Handler struct {
	New   func() proto.Message
	Serve func(ctx context.Context, req proto.Message) (proto.Message, error)
}

// Server serves the methods registered with Handle on the connections
// given to ServeConn (usually through Split).
type Server struct {
	methods map[uint16]Handler
	maxMsg  int
	log     *slog.Logger

	// jobs hands requests to idle workers; a request no worker is waiting
	// for starts a new one. Workers outlive their request so that their
	// grown stacks serve the next ones.
	jobs chan job

	mu     sync.Mutex
	conns  map[*serverConn]struct{}
	closed bool
}

// job is one request to serve.
type job struct {
	sc  *serverConn
	h   header
	hd  Handler
	req proto.Message
}

// workerIdle is how long an idle worker waits for a request before it
// exits.
const workerIdle = 10 * time.Second

// NewServer returns a server refusing messages over maxMsg bytes.
func NewServer(maxMsg int, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{methods: map[uint16]Handler{}, maxMsg: maxMsg, log: log, jobs: make(chan job), conns: map[*serverConn]struct{}{}}
}

// Handle registers the handler of method m. Register every method before
// serving.
func (s *Server) Handle(m uint16, h Handler) { s.methods[m] = h }

// serverConn is one client connection.
type serverConn struct {
	s      *Server
	c      net.Conn
	ctx    context.Context
	cancel context.CancelFunc
	wmu    sync.Mutex // serializes frame writes
}

// ServeConn answers the preface (which the caller has read) and serves the
// connection until it fails or the server closes.
func (s *Server) ServeConn(c net.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	sc := &serverConn{s: s, c: c, ctx: ctx, cancel: cancel}
	defer func() {
		cancel()
		c.Close()
		s.mu.Lock()
		delete(s.conns, sc)
		s.mu.Unlock()
	}()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.conns[sc] = struct{}{}
	s.mu.Unlock()
	if _, err := io.WriteString(c, Preface); err != nil {
		return
	}
	if err := sc.readLoop(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("fastrpc connection ended", "remote", c.RemoteAddr(), "err", err)
	}
}

// readLoop reads requests and hands them to workers.
func (sc *serverConn) readLoop() error {
	br := bufio.NewReaderSize(sc.c, 64<<10)
	for {
		h, err := readHeader(br)
		if err != nil {
			return err
		}
		if h.kind != kindRequest {
			return errProtocol
		}
		hd, ok := sc.s.methods[h.method]
		switch {
		case !ok:
			err = sc.refuse(br, h, codes.Unimplemented, "unknown method")
		case int(h.length) > sc.s.maxMsg:
			err = sc.refuse(br, h, codes.ResourceExhausted, "request over the message size limit")
		default:
			req := hd.New()
			if err = readMessage(br, int(h.length), req); err == nil {
				sc.s.dispatch(job{sc: sc, h: h, hd: hd, req: req})
				continue
			}
			var pe *payloadError
			if errors.As(err, &pe) {
				err = sc.reply(h.id, nil, status.Error(codes.InvalidArgument, pe.Error()))
			}
		}
		if err != nil {
			return err
		}
	}
}

// refuse discards a request's payload and answers it with an error.
func (sc *serverConn) refuse(br *bufio.Reader, h header, code codes.Code, msg string) error {
	if _, err := br.Discard(int(h.length)); err != nil {
		return err
	}
	return sc.reply(h.id, nil, status.Error(code, msg))
}

// dispatch runs a job on an idle worker, or on a new one.
func (s *Server) dispatch(j job) {
	select {
	case s.jobs <- j:
	default:
		go s.worker(j)
	}
}

func (s *Server) worker(j job) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		s.run(j)
		idle.Reset(workerIdle)
		select {
		case j = <-s.jobs:
		case <-idle.C:
			return
		}
	}
}

// run serves one request and sends its answer.
func (s *Server) run(j job) {
	ctx := j.sc.ctx
	if j.h.timeoutMS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(j.h.timeoutMS)*time.Millisecond)
		defer cancel()
	}
	reply, err := j.hd.Serve(ctx, j.req)
	if err := j.sc.reply(j.h.id, reply, err); err != nil {
		j.sc.c.Close() // the read loop ends with it
	}
}

// reply sends a reply or, if err is set, an error frame.
func (sc *serverConn) reply(id uint64, m proto.Message, err error) error {
	var segs [][]byte
	h := header{kind: kindReply, id: id}
	if err == nil {
		var n int
		if segs, n, err = encode(m); err == nil {
			h.length = uint32(n)
		}
	}
	if err != nil {
		st, ok := status.FromError(err)
		if !ok && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			st = status.FromContextError(err)
		}
		msg := []byte(st.Message())
		h = header{kind: kindError, method: uint16(st.Code()), id: id, length: uint32(len(msg))}
		segs = [][]byte{msg}
	}
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	return writeFrame(sc.c, h, segs)
}

// Close closes every connection; requests being served finish, but their
// answers are lost.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for sc := range s.conns {
		sc.cancel()
		sc.c.Close()
	}
}
