// Package radostool holds the logic of radosctl's data commands (put, get,
// stat, ls, xattrs, omap), as Ceph's `rados` tool has them, on top of the
// client library. The cmd/radosctl files only parse flags and call it.
package radostool

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gorados/gorados/client"
)

// ChunkSize is the size of the writes and reads put and get issue, as
// rados' default op size: a large input becomes one write_full of the
// first chunk, then writes at increasing offsets.
const ChunkSize = 4 << 20

// Put stores everything r yields as object name, replacing its data, and
// returns the bytes stored. Like rados put it is not atomic for inputs
// larger than one chunk: a failure midway leaves a prefix of the input.
func Put(ctx context.Context, ioctx *client.IOContext, name string, r io.Reader) (int64, error) {
	buf := make([]byte, ChunkSize)
	var off int64
	for {
		n, err := io.ReadFull(r, buf)
		last := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !last {
			return off, fmt.Errorf("read the input: %w", err)
		}
		var werr error
		switch {
		case off == 0:
			werr = ioctx.WriteFull(ctx, name, buf[:n])
		case n > 0:
			werr = ioctx.Write(ctx, name, buf[:n], uint64(off))
		}
		if werr != nil {
			return off, werr
		}
		off += int64(n)
		if last {
			return off, nil
		}
	}
}

// Get copies object name to w, chunk by chunk, and returns the bytes
// copied.
func Get(ctx context.Context, ioctx *client.IOContext, name string, w io.Writer) (int64, error) {
	var off int64
	for {
		data, err := ioctx.Read(ctx, name, uint64(off), ChunkSize)
		if err != nil {
			return off, err
		}
		if _, err := w.Write(data); err != nil {
			return off, fmt.Errorf("write the output: %w", err)
		}
		off += int64(len(data))
		if len(data) < ChunkSize {
			return off, nil
		}
	}
}

// FormatStat prints a stat result as rados does:
// "pool/name mtime 2024-01-02T03:04:05.000000+0000, size 15".
func FormatStat(pool, name string, st client.ObjectStat) string {
	return fmt.Sprintf("%s/%s mtime %s, size %d", pool, name, st.ModTime.UTC().Format("2006-01-02T15:04:05.000000-0700"), st.Size)
}

// Ls writes the names of the pool's objects, one per line. With every
// namespace (client.AllNamespaces set on ioctx) each line is
// "namespace<TAB>name", as `rados ls --all` prints it.
func Ls(ctx context.Context, ioctx *client.IOContext, w io.Writer) (int, error) {
	all := ioctx.Namespace() == client.AllNamespaces
	n := 0
	for e, err := range ioctx.ListObjects(ctx) {
		if err != nil {
			return n, err
		}
		if all {
			fmt.Fprintf(w, "%s\t%s\n", e.Namespace, e.Name)
		} else {
			fmt.Fprintln(w, e.Name)
		}
		n++
	}
	return n, nil
}

// ListXattrs writes the names of the object's xattrs, one per line, in
// order.
func ListXattrs(ctx context.Context, ioctx *client.IOContext, name string, w io.Writer) error {
	xs, err := ioctx.ListXattrs(ctx, name)
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(xs) {
		fmt.Fprintln(w, k)
	}
	return nil
}

// WriteValue prints an omap value as rados getomapval does: a size line,
// then a hex dump.
func WriteValue(w io.Writer, v []byte) {
	fmt.Fprintf(w, "value (%d bytes) :\n%s\n", len(v), hex.Dump(v))
}

// GetOmapVal writes the value of key of the object's omap: raw to out when
// it is set, else formatted to w. A missing key is ErrNoData.
func GetOmapVal(ctx context.Context, ioctx *client.IOContext, name, key string, w io.Writer, raw bool) error {
	vals, err := ioctx.GetOmapValuesByKeys(ctx, name, key)
	if err != nil {
		return err
	}
	v, ok := vals[key]
	if !ok {
		return fmt.Errorf("%w: object %q has no omap key %q (list them with listomapkeys)", client.ErrNoData, name, key)
	}
	if raw {
		_, err = w.Write(v)
		return err
	}
	WriteValue(w, v)
	return nil
}

// ListOmapKeys writes the object's omap keys, one per line, in order.
func ListOmapKeys(ctx context.Context, ioctx *client.IOContext, name string, w io.Writer) error {
	keys, err := ioctx.ListOmapKeys(ctx, name)
	if err != nil {
		return err
	}
	for _, k := range keys {
		fmt.Fprintln(w, k)
	}
	return nil
}

// ListOmapVals writes every key of the object's omap followed by its value
// as WriteValue prints it (rados listomapvals).
func ListOmapVals(ctx context.Context, ioctx *client.IOContext, name string, w io.Writer) error {
	all, err := ioctx.GetAllOmapValues(ctx, name, "")
	if err != nil {
		return err
	}
	for _, e := range all {
		fmt.Fprintln(w, e.Key)
		WriteValue(w, e.Value)
	}
	return nil
}

// Timeout returns a context bounded by d (no bound when d <= 0).
func Timeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
