package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Export stream format, version 1 (used by `osd store export|import`).
//
//	stream  = magic version record* end
//	magic   = "GRDSPGX\n" (8 bytes)
//	version = uint32 big-endian, 1
//	record  = kind (1 byte) | length (uvarint) | payload | crc32c (uint32 BE)
//
// The crc covers the kind, the length bytes and the payload, so a flipped
// bit anywhere is caught at the record it hits; the end record's counts
// catch dropped records and truncation, and nothing may follow it.
// Payload fields use the varint encoding of codec.go (uvarint, varint,
// uvarint-prefixed bytes), in this order per kind:
//
//	1 header    pool(varint) seed(uvarint) created(varint Unix ns) blockSize(uvarint)
//	2 pginfo    info(bytes)
//	3 pgmeta    key(bytes) value(bytes)
//	4 log       epoch(uvarint) version(uvarint) entry(bytes)
//	5 object    namespace key name(bytes) hash size(uvarint) mtime(varint)
//	            epoch version userVersion(uvarint)
//	6 data      offset(uvarint) bytes(bytes)        of the last object
//	7 xattr     name(bytes) value(bytes)            of the last object
//	8 omaphdr   header(bytes)                       of the last object
//	9 omap      key(bytes) value(bytes)             of the last object
//	15 end      records objects dataBytes logEntries(uvarint)
//
// Records come in this order: header; PG records (pginfo, pgmeta, log);
// each object followed by its data, xattr, omaphdr and omap records; end.
// Data holes are left out. The exporter reads every block with its crc
// verified, so a corrupt object fails the export instead of spreading.
const (
	exportMagic   = "GRDSPGX\n"
	exportVersion = 1
	// maxExportRecord bounds a record's payload so that a corrupt length
	// cannot make the importer allocate without limit.
	maxExportRecord = 16 << 20
)

type recKind uint8

const (
	recHeader  recKind = 1
	recPGInfo  recKind = 2
	recPGMeta  recKind = 3
	recLog     recKind = 4
	recObject  recKind = 5
	recData    recKind = 6
	recXattr   recKind = 7
	recOmapHdr recKind = 8
	recOmap    recKind = 9
	recEnd     recKind = 15
)

// ExportStats counts what an export wrote or an import read.
type ExportStats struct {
	Records    uint64 // records before the end record
	Objects    uint64
	DataBytes  uint64
	LogEntries uint64
}

// exportWriter writes records and counts them.
type exportWriter struct {
	w     *bufio.Writer
	stats ExportStats
}

func (x *exportWriter) record(kind recKind, payload []byte) error {
	if len(payload) > maxExportRecord {
		return fmt.Errorf("export: a %d-byte record is over the format's %d-byte limit", len(payload), maxExportRecord)
	}
	head := binary.AppendUvarint([]byte{byte(kind)}, uint64(len(payload)))
	crc := crc32.Update(crc32.Checksum(head, castagnoli), castagnoli, payload)
	x.w.Write(head)
	x.w.Write(payload)
	_, err := x.w.Write(binary.BigEndian.AppendUint32(nil, crc))
	if kind != recEnd {
		x.stats.Records++
	}
	return err
}

// Export writes collection c (objects with data, xattrs and omap, the PG
// log, PG info and per-PG keys) to w in the export format, from one
// consistent snapshot. It is meant for a stopped OSD (the offline tool):
// on a live store the snapshot keeps old pages from being reused until it
// ends.
func (s *Store) Export(ctx context.Context, c CollID, w io.Writer) (ExportStats, error) {
	x := &exportWriter{w: bufio.NewWriterSize(w, 1<<20)}
	err := s.view(ctx, func(r *reader) error {
		rec, err := r.coll(c)
		if err != nil {
			return err
		}
		if rec.flags&collFlagIncomplete != 0 {
			return fmt.Errorf("%w: %s", ErrIncomplete, c)
		}
		x.w.WriteString(exportMagic)
		x.w.Write(binary.BigEndian.AppendUint32(nil, exportVersion))
		e := enc{}
		e.svar(c.Pool)
		e.uvar(uint64(c.Seed))
		e.time(rec.created)
		e.uvar(uint64(s.blockSize))
		if err := x.record(recHeader, e.b); err != nil {
			return err
		}
		if err := r.exportPG(x, c); err != nil {
			return err
		}
		if err := r.exportObjects(ctx, x, c); err != nil {
			return err
		}
		e = enc{}
		for _, v := range []uint64{x.stats.Records, x.stats.Objects, x.stats.DataBytes, x.stats.LogEntries} {
			e.uvar(v)
		}
		return x.record(recEnd, e.b)
	})
	if err == nil {
		err = x.w.Flush()
	}
	if err != nil {
		return x.stats, fmt.Errorf("export %s: %w", c, err)
	}
	return x.stats, nil
}

// scan calls fn for every key of bucket with prefix, in key order.
func (r *reader) scan(bucket []byte, prefix []byte, fn func(k, v []byte) error) error {
	cur := r.tx.Bucket(bucket).Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) exportPG(x *exportWriter, c CollID) error {
	if info, err := r.pgInfo(c); err == nil {
		e := enc{}
		e.bytes(info)
		if err := x.record(recPGInfo, e.b); err != nil {
			return err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	prefix := collKey(c)
	err := r.scan(bucketPGMeta, prefix, func(k, v []byte) error {
		val, err := r.unseal(c, ObjectID{}, k, v, "PG key "+quoteShort(string(k[collKeyLen:])))
		if err != nil {
			return err
		}
		e := enc{}
		e.bytes(k[collKeyLen:])
		e.bytes(val)
		return x.record(recPGMeta, e.b)
	})
	if err != nil {
		return err
	}
	return r.scan(bucketPGLog, prefix, func(k, v []byte) error {
		entry, err := r.logEntry(c, k, v)
		if err != nil {
			return err
		}
		e := enc{}
		e.uvar(uint64(entry.Version.Epoch))
		e.uvar(entry.Version.Version)
		e.bytes(entry.Data)
		x.stats.LogEntries++
		return x.record(recLog, e.b)
	})
}

func (r *reader) exportObjects(ctx context.Context, x *exportWriter, c CollID) error {
	return r.scan(bucketOnodes, collKey(c), func(k, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		o, err := decodeObjSuffix(c.Pool, k[collKeyLen:])
		if err != nil {
			return &CorruptError{Coll: c, Block: -1, What: fmt.Sprintf("onode key %x", k)}
		}
		n, err := decodeOnodeValue(c, o, k, v)
		if err != nil {
			return err
		}
		return r.exportObject(x, c, o, n)
	})
}

func (r *reader) exportObject(x *exportWriter, c CollID, o ObjectID, n onode) error {
	e := enc{}
	e.str(o.Namespace)
	e.str(o.Key)
	e.str(o.Name)
	e.uvar(uint64(o.Hash))
	e.uvar(n.size)
	e.time(n.mtime)
	e.uvar(uint64(n.version.Epoch))
	e.uvar(n.version.Version)
	e.uvar(n.userVersion)
	if err := x.record(recObject, e.b); err != nil {
		return err
	}
	x.stats.Objects++
	if err := r.exportData(x, c, o, n); err != nil {
		return err
	}
	attrs := []struct {
		bucket []byte
		prefix []byte
		kind   recKind
		skip   int
	}{
		{bucketXattrs, nidKey(n.nid), recXattr, nidLen},
		{bucketOmap, omapHeaderKey(n.nid), recOmapHdr, nidLen + 1},
		{bucketOmap, append(nidKey(n.nid), omapEntryTag), recOmap, nidLen + 1},
	}
	for _, a := range attrs {
		err := r.scan(a.bucket, a.prefix, func(k, v []byte) error {
			val, err := r.unseal(c, o, k, v, fmt.Sprintf("%s record key %q", a.bucket, k[a.skip:]))
			if err != nil {
				return err
			}
			e := enc{}
			if a.kind != recOmapHdr {
				e.bytes(k[a.skip:])
			}
			e.bytes(val)
			return x.record(a.kind, e.b)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// exportData writes the object's non-hole blocks, verified, in block
// order whether they are inline or in the block file.
func (r *reader) exportData(x *exportWriter, c CollID, o ObjectID, n onode) error {
	bs := uint64(r.s.blockSize)
	return r.eachBlock(c, o, n, func(index uint64, payload []byte) error {
		if len(payload) == 0 {
			return nil
		}
		e := enc{}
		e.uvar(index * bs)
		e.bytes(payload)
		x.stats.DataBytes += uint64(len(payload))
		return x.record(recData, e.b)
	})
}

// eachBlock calls fn with the verified payload of every stored block of
// the object, in block order, merging the inline blocks and those in the
// block file. The payload is only valid during the call.
func (r *reader) eachBlock(c CollID, o ObjectID, n onode, fn func(index uint64, payload []byte) error) error {
	bs := uint64(r.s.blockSize)
	prefix := nidKey(n.nid)
	inline, ext := r.tx.Bucket(bucketData).Cursor(), r.tx.Bucket(bucketExtents).Cursor()
	ik, iv := inline.Seek(prefix)
	ek, ev := ext.Seek(prefix)
	buf := make([]byte, bs)
	for {
		iok, eok := ik != nil && bytes.HasPrefix(ik, prefix), ek != nil && bytes.HasPrefix(ek, prefix)
		if !iok && !eok {
			return nil
		}
		var index uint64
		var payload []byte
		var err error
		if iok && (!eok || bytes.Compare(ik, ek) < 0) {
			index = uint64(keyBlockIndex(ik))
			payload, err = unsealBlock(iv, r.s.blockSize)
			ik, iv = inline.Next()
		} else {
			index = uint64(keyBlockIndex(ek))
			var ref extentRef
			if ref, err = unsealExtentRef(ek, ev, r.s.blockSize); err == nil {
				payload = buf[:ref.length]
				err = r.readVerified(c, o, index, []extentRef{ref}, payload)
			}
			ek, ev = ext.Next()
		}
		if err == nil && index*bs+uint64(len(payload)) > n.size {
			err = fmt.Errorf("payload extends past the object size %d", n.size)
		}
		if err != nil {
			return corruptBlock(c, o, index, err)
		}
		if err := fn(index, payload); err != nil {
			return err
		}
	}
}

// corruptBlock wraps a failed check of a data block, keeping a
// *CorruptError that already names it.
func corruptBlock(c CollID, o ObjectID, index uint64, err error) error {
	var ce *CorruptError
	if errors.As(err, &ce) {
		return err
	}
	return &CorruptError{Coll: c, Object: o, Block: int64(index), What: "data block: " + err.Error()}
}
