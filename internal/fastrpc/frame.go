package fastrpc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"google.golang.org/protobuf/proto"

	"github.com/gorados/gorados/internal/wire"
)

// Preface opens every connection, from the client and back from the
// server.
const Preface = "GORADOS-FASTRPC/1\r\n\r\n\r\n\r\n"

// Frame kinds.
const (
	kindRequest = 1
	kindReply   = 2
	kindError   = 3
)

const headerLen = 20

// header is a frame's header. For error frames, method holds the gRPC
// status code of the error.
type header struct {
	length    uint32
	kind      uint8
	method    uint16
	id        uint64
	timeoutMS uint32
}

func (h header) encode(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, h.length)
	b = append(b, h.kind, 0)
	b = binary.LittleEndian.AppendUint16(b, h.method)
	b = binary.LittleEndian.AppendUint64(b, h.id)
	return binary.LittleEndian.AppendUint32(b, h.timeoutMS)
}

func decodeHeader(b []byte) header {
	return header{length: binary.LittleEndian.Uint32(b), kind: b[4], method: binary.LittleEndian.Uint16(b[6:]),
		id: binary.LittleEndian.Uint64(b[8:]), timeoutMS: binary.LittleEndian.Uint32(b[16:])}
}

// readHeader reads one frame header.
func readHeader(br *bufio.Reader) (header, error) {
	b, err := br.Peek(headerLen)
	if err != nil {
		return header{}, err
	}
	h := decodeHeader(b)
	_, err = br.Discard(headerLen)
	if h.kind < kindRequest || h.kind > kindError {
		return header{}, fmt.Errorf("%w: frame kind %d", errProtocol, h.kind)
	}
	return h, err
}

// errProtocol marks a peer that does not speak the protocol.
var errProtocol = errors.New("fastrpc: protocol violation")

// readMessage reads an n-byte payload and decodes it into m. A large
// payload is read into a buffer of its own, aligned for its first large
// field, which the decoded message keeps (see package wire).
func readMessage(br *bufio.Reader, n int, m proto.Message) error {
	if n < wire.LargeField {
		bp := wire.Buffers.Get(n)
		defer wire.Buffers.Put(bp)
		if _, err := io.ReadFull(br, *bp); err != nil {
			return err
		}
		return decodeSmall(*bp, m)
	}
	head, err := br.Peek(min(n, 4096))
	if err != nil {
		return err
	}
	buf := wire.AlignedBuffer(n, head, m)
	if buf == nil {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(br, buf); err != nil {
		return err
	}
	return decodeErr(wire.UnmarshalInPlace(buf, m))
}

// errDecode marks a payload that is not the message it should be.
var errDecode = errors.New("fastrpc: malformed message")

func decodeSmall(b []byte, m proto.Message) error {
	return decodeErr(proto.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, m))
}

// decodeErr tells a bad payload (the connection is fine) from an I/O
// error.
func decodeErr(err error) error {
	if err != nil {
		return &payloadError{err: err}
	}
	return nil
}

// payloadError is a payload that was read in full but did not decode.
type payloadError struct{ err error }

func (e *payloadError) Error() string { return fmt.Sprintf("%v: %v", errDecode, e.err) }
func (e *payloadError) Unwrap() error { return errDecode }

// encode returns the payload segments of a message or pre-encoded message.
func encode(v any) ([][]byte, int, error) {
	switch m := v.(type) {
	case *wire.Encoded:
		return m.Segments(), m.Size(), nil
	case proto.Message:
		e, err := wire.Encode(m)
		if err != nil {
			return nil, 0, err
		}
		return e.Segments(), e.Size(), nil
	}
	return nil, 0, fmt.Errorf("fastrpc: cannot send a %T", v)
}

// writeFrame writes a header and its payload with one writev. The caller
// serializes writes on the connection.
func writeFrame(c net.Conn, h header, segs [][]byte) error {
	var hb [headerLen]byte
	bufs := make(net.Buffers, 0, 1+len(segs))
	bufs = append(bufs, h.encode(hb[:0]))
	for _, s := range segs {
		if len(s) > 0 {
			bufs = append(bufs, s)
		}
	}
	_, err := bufs.WriteTo(c)
	return err
}
