package store

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// exportReader reads and checks the records of an export stream.
type exportReader struct {
	r       *bufio.Reader
	records uint64 // records read before the end record
}

// badExport wraps a stream problem in ErrBadExport.
func badExport(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadExport, fmt.Sprintf(format, args...))
}

// readPreamble checks the magic and the version.
func (x *exportReader) readPreamble() error {
	var pre [len(exportMagic) + 4]byte
	if _, err := io.ReadFull(x.r, pre[:]); err != nil {
		return badExport("missing stream header: %v", err)
	}
	if string(pre[:len(exportMagic)]) != exportMagic {
		return badExport("not a gorados PG export (bad magic)")
	}
	if v := binary.BigEndian.Uint32(pre[len(exportMagic):]); v != exportVersion {
		return badExport("export format version %d; this build reads version %d", v, exportVersion)
	}
	return nil
}

// next reads one record and returns its kind and payload.
func (x *exportReader) next() (recKind, []byte, error) {
	kind, err := x.r.ReadByte()
	if err != nil {
		return 0, nil, badExport("truncated after %d records (no end record)", x.records)
	}
	n, err := binary.ReadUvarint(x.r)
	if err != nil || n > maxExportRecord {
		return 0, nil, badExport("record %d: bad length", x.records+1)
	}
	payload := make([]byte, n)
	var crcBytes [4]byte
	if _, err := io.ReadFull(x.r, payload); err != nil {
		return 0, nil, badExport("record %d: truncated", x.records+1)
	}
	if _, err := io.ReadFull(x.r, crcBytes[:]); err != nil {
		return 0, nil, badExport("record %d: truncated", x.records+1)
	}
	head := binary.AppendUvarint([]byte{kind}, n)
	if crc32.Update(crc32.Checksum(head, castagnoli), castagnoli, payload) != binary.BigEndian.Uint32(crcBytes[:]) {
		return 0, nil, badExport("record %d: crc32c mismatch", x.records+1)
	}
	if recKind(kind) != recEnd {
		x.records++
	}
	return recKind(kind), payload, nil
}

// exportHeader is the decoded header record.
type exportHeader struct {
	coll      CollID
	created   time.Time
	blockSize uint64
}

func decodeExportHeader(p []byte) (exportHeader, error) {
	d := dec{b: p}
	h := exportHeader{}
	h.coll.Pool = d.svar()
	seed := d.uvar()
	h.created = d.time()
	h.blockSize = d.uvar()
	if err := d.finish(); err != nil || seed > math.MaxUint32 {
		return h, badExport("malformed header record")
	}
	h.coll.Seed = uint32(seed)
	if err := h.coll.validate(); err != nil {
		return h, badExport("header: %v", err)
	}
	return h, nil
}

// importer turns records into store transactions.
type importer struct {
	s     *Store
	apply func(context.Context, *Txn) error // s.Apply; fuzz tests only validate
	ctx   context.Context
	c     CollID
	txn   *Txn
	stats ExportStats
	phase recKind   // recPGInfo while PG records may come, recObject after the first object
	obj   *ObjectID // the object later records belong to
	info  ObjectInfo
}

// importTxnBytes and importTxnOps bound one import transaction.
const (
	importTxnBytes = 8 << 20
	importTxnOps   = 1024
)

// Import reads an export stream and recreates its collection, which must
// not exist in this store. The collection is marked incomplete until the
// last record has been checked and applied; if the stream is bad or the
// import fails, what was imported is removed again (PurgeCollection) and
// the error returned. If the process dies mid-import, the collection stays
// marked incomplete: remove it with PurgeCollection and import again.
func (s *Store) Import(ctx context.Context, r io.Reader) (CollID, ExportStats, error) {
	x := &exportReader{r: bufio.NewReaderSize(r, 1<<20)}
	if err := x.readPreamble(); err != nil {
		return CollID{}, ExportStats{}, err
	}
	kind, p, err := x.next()
	if err != nil {
		return CollID{}, ExportStats{}, err
	}
	if kind != recHeader {
		return CollID{}, ExportStats{}, badExport("first record is kind %d, not a header", kind)
	}
	h, err := decodeExportHeader(p)
	if err != nil {
		return CollID{}, ExportStats{}, err
	}
	im := &importer{s: s, apply: s.Apply, ctx: ctx, c: h.coll, txn: NewTxn(), phase: recPGInfo}
	im.txn.SetMtime(h.created)
	im.txn.CreateCollection(h.coll)
	im.txn.setCollFlags(h.coll, collFlagIncomplete)
	if err := s.Apply(ctx, im.txn); err != nil {
		return h.coll, ExportStats{}, fmt.Errorf("import %s: %w", h.coll, err)
	}
	im.txn = NewTxn()
	if err := im.run(x); err != nil {
		if perr := s.PurgeCollection(context.WithoutCancel(ctx), h.coll); perr != nil {
			err = fmt.Errorf("%w (and removing the partial import failed: %v)", err, perr)
		}
		return h.coll, im.stats, fmt.Errorf("import %s: %w", h.coll, err)
	}
	return h.coll, im.stats, nil
}

// run applies records until the end record.
func (im *importer) run(x *exportReader) error {
	for {
		kind, p, err := x.next()
		if err != nil {
			return err
		}
		if kind == recEnd {
			return im.end(x, p)
		}
		if err := im.record(kind, p); err != nil {
			return fmt.Errorf("record %d: %w", x.records, err)
		}
		if im.txn.dataBytes >= importTxnBytes || im.txn.Len() >= importTxnOps {
			if err := im.flush(); err != nil {
				return err
			}
		}
	}
}

func (im *importer) flush() error {
	if im.txn.Len() == 0 {
		return nil
	}
	err := im.apply(im.ctx, im.txn)
	im.txn = NewTxn()
	return err
}

func (im *importer) record(kind recKind, p []byte) error {
	d := &dec{b: p}
	switch kind {
	case recPGInfo, recPGMeta, recLog:
		if im.phase != recPGInfo {
			return badExport("PG record after the first object")
		}
		return im.pgRecord(kind, d)
	case recObject:
		im.phase = recObject
		return im.object(d)
	case recData, recXattr, recOmapHdr, recOmap:
		if im.obj == nil {
			return badExport("object record of kind %d before any object", kind)
		}
		return im.objectRecord(kind, d)
	}
	return badExport("unknown record kind %d", kind)
}

func (im *importer) pgRecord(kind recKind, d *dec) error {
	switch kind {
	case recPGInfo:
		im.txn.SetPGInfo(im.c, d.bytes(maxExportRecord))
	case recPGMeta:
		im.txn.SetPGMeta(im.c, d.str(maxExportRecord), d.bytes(maxExportRecord))
	case recLog:
		epoch := d.uvar()
		v := EVersion{Epoch: uint32(epoch), Version: d.uvar()}
		im.txn.AppendLog(im.c, v, d.bytes(maxExportRecord))
		im.stats.LogEntries++
		if epoch > math.MaxUint32 {
			return badExport("log entry epoch %d out of range", epoch)
		}
	}
	return decodeDone(d)
}

func decodeDone(d *dec) error {
	if err := d.finish(); err != nil {
		return badExport("malformed record")
	}
	return nil
}

func (im *importer) object(d *dec) error {
	im.finishObject()
	o := ObjectID{Pool: im.c.Pool, Namespace: d.str(maxExportRecord), Key: d.str(maxExportRecord), Name: d.str(maxExportRecord)}
	hash := d.uvar()
	info := ObjectInfo{Size: d.uvar(), Mtime: d.time()}
	epoch := d.uvar()
	info.Version = EVersion{Epoch: uint32(epoch), Version: d.uvar()}
	info.UserVersion = d.uvar()
	if err := decodeDone(d); err != nil {
		return err
	}
	if hash > math.MaxUint32 || epoch > math.MaxUint32 {
		return badExport("object %q: hash or epoch out of range", o.Name)
	}
	o.Hash = uint32(hash)
	o = o.Normalize()
	im.obj, im.info = &o, info
	im.txn.Create(im.c, o)
	im.txn.Truncate(im.c, o, info.Size)
	im.stats.Objects++
	return nil
}

func (im *importer) objectRecord(kind recKind, d *dec) error {
	o := *im.obj
	switch kind {
	case recData:
		off := d.uvar()
		data := d.bytes(maxExportRecord)
		if d.err == nil && (off > im.info.Size || uint64(len(data)) > im.info.Size-off) {
			return badExport("object %s: data at %d+%d past its size %d", o, off, len(data), im.info.Size)
		}
		im.txn.Write(im.c, o, off, data)
		im.stats.DataBytes += uint64(len(data))
	case recXattr:
		im.txn.SetXattr(im.c, o, d.str(maxExportRecord), d.bytes(maxExportRecord))
	case recOmapHdr:
		im.txn.OmapSetHeader(im.c, o, d.bytes(maxExportRecord))
	case recOmap:
		k := d.str(maxExportRecord)
		im.txn.OmapSet(im.c, o, map[string][]byte{k: d.bytes(maxExportRecord)})
	}
	return decodeDone(d)
}

// finishObject records the current object's versions and mtime after all
// its other operations, so that they are not overwritten.
func (im *importer) finishObject() {
	if im.obj != nil {
		im.txn.SetVersion(im.c, *im.obj, im.info.Version, im.info.UserVersion)
		im.txn.SetObjectMtime(im.c, *im.obj, im.info.Mtime)
		im.obj = nil
	}
}

// end checks the end record against what was read, makes sure nothing
// follows, and commits the last transaction, which clears the incomplete
// mark.
func (im *importer) end(x *exportReader, p []byte) error {
	d := &dec{b: p}
	want := ExportStats{Records: d.uvar(), Objects: d.uvar(), DataBytes: d.uvar(), LogEntries: d.uvar()}
	if err := decodeDone(d); err != nil {
		return err
	}
	im.stats.Records = x.records
	if want != im.stats {
		return badExport("end record counts %+v, stream had %+v (records lost or added)", want, im.stats)
	}
	if _, err := x.r.ReadByte(); !errors.Is(err, io.EOF) {
		return badExport("data after the end record")
	}
	im.finishObject()
	im.txn.setCollFlags(im.c, 0)
	return im.flush()
}

// PurgeCollection removes collection c with everything in it, in
// transactions of bounded size (objects first, then the collection with
// its log, info and keys). Use it to delete a PG or a half-imported
// collection. A crash midway leaves fewer objects, never a torn one.
func (s *Store) PurgeCollection(ctx context.Context, c CollID) error {
	for {
		page, err := s.ListObjects(ctx, c, "", 256)
		if err != nil {
			return fmt.Errorf("purge %s: %w", c, err)
		}
		txn := NewTxn()
		for _, o := range page.Objects {
			txn.Remove(c, o)
		}
		if len(page.Objects) == 0 {
			txn.RemoveCollection(c)
		}
		if err := s.Apply(ctx, txn); err != nil {
			return fmt.Errorf("purge %s: %w", c, err)
		}
		if len(page.Objects) == 0 {
			return nil
		}
	}
}
