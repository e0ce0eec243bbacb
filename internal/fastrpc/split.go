package fastrpc

import (
	"io"
	"net"
	"sync"
	"time"
)

// sniffTimeout bounds how long a new connection may take to send its
// first 24 bytes.
const sniffTimeout = 10 * time.Second

// Split serves the connections of lis that begin with the preface with
// srv, and returns a listener yielding all the others (with their first
// bytes intact) for a gRPC server. Closing the returned listener closes
// lis and srv.
func Split(lis net.Listener, srv *Server) net.Listener {
	sl := &splitListener{lis: lis, srv: srv, conns: make(chan net.Conn), done: make(chan struct{})}
	go sl.acceptLoop()
	return sl
}

type splitListener struct {
	lis   net.Listener
	srv   *Server
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (sl *splitListener) acceptLoop() {
	for {
		c, err := sl.lis.Accept()
		if err != nil {
			sl.Close() // Accept reports the end to the gRPC server
			return
		}
		go sl.sniff(c)
	}
}

// sniff reads the first bytes of a connection and routes it.
func (sl *splitListener) sniff(c net.Conn) {
	first := make([]byte, len(Preface))
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	n, err := io.ReadFull(c, first)
	_ = c.SetReadDeadline(time.Time{})
	if err == nil && string(first) == Preface {
		sl.srv.ServeConn(c)
		return
	}
	if n == 0 && err != nil {
		c.Close()
		return
	}
	select {
	case sl.conns <- &replayConn{Conn: c, head: first[:n]}:
	case <-sl.done:
		c.Close()
	}
}

// Accept returns the next connection that is not fastrpc's.
func (sl *splitListener) Accept() (net.Conn, error) {
	select {
	case c := <-sl.conns:
		return c, nil
	case <-sl.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the fastrpc server's connections.
func (sl *splitListener) Close() error {
	var err error
	sl.once.Do(func() {
		close(sl.done)
		err = sl.lis.Close()
		sl.srv.Close()
	})
	return err
}

// Addr returns the listening address.
func (sl *splitListener) Addr() net.Addr { return sl.lis.Addr() }

// replayConn gives back the bytes sniff read before reading on.
type replayConn struct {
	net.Conn
	head []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
