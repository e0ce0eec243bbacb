package store

import "fmt"

// txnExec executes one transaction against a view. Every check happens
// here, before anything reaches bbolt; the view collects the changes and
// the committer flushes them only if the whole transaction succeeded.
type txnExec struct {
	s       *Store
	v       *view
	t       *Txn
	nextNID *uint64 // the batch's nid counter
	colls   map[CollID]*collState
	objs    map[string]*objState
	order   []*objState // objects in first-touch order, for a deterministic flush
	// retired lists the block file units the transaction stopped
	// referring to; they are freed after the commit.
	retired []uint64
}

// collState is a collection as the transaction sees it.
type collState struct {
	key    []byte
	exists bool
	dirty  bool
	rec    collRecord
}

// objState is an object as the transaction sees it.
type objState struct {
	coll   CollID
	id     ObjectID
	key    []byte
	exists bool
	dirty  bool
	// fresh marks an object created by this transaction: its nid is new,
	// so nothing is stored under it outside the transaction's view.
	fresh bool
	n     onode
}

func newTxnExec(s *Store, v *view, t *Txn, nextNID *uint64) *txnExec {
	return &txnExec{s: s, v: v, t: t, nextNID: nextNID,
		colls: map[CollID]*collState{}, objs: map[string]*objState{}}
}

// run executes every operation, then records the new onodes and collection
// records. It returns the first error; the view is then discarded.
func (x *txnExec) run() error {
	for i := range x.t.ops {
		p := &x.t.ops[i]
		if err := x.exec(p); err != nil {
			return opError(i, p, err)
		}
	}
	x.finish()
	return nil
}

func (x *txnExec) exec(p *op) error {
	c, err := x.coll(p.coll)
	if err != nil {
		return err
	}
	switch p.kind {
	case opCreateColl, opRemoveColl, opSetCollFlags:
		return x.execColl(p, c)
	case opLogAppend, opLogTrim, opLogRewind, opSetPGInfo, opSetPGMeta, opRmPGMeta:
		if !c.exists {
			return ErrNoCollection
		}
		return x.execPG(p)
	}
	if !c.exists {
		return ErrNoCollection
	}
	o, err := x.obj(p.coll, p.obj)
	if err != nil {
		return err
	}
	switch {
	case !o.exists && !createsObject(p.kind):
		return ErrNotFound
	case !o.exists:
		x.create(o)
	case p.kind == opCreate:
		return ErrExists
	}
	return x.execObject(p, c, o)
}

// createsObject reports whether op kind creates a missing object, as in
// Ceph's ObjectStore.
func createsObject(k opKind) bool {
	switch k {
	case opTouch, opCreate, opWrite, opWriteFull, opAppend, opZero:
		return true
	}
	return false
}

func (x *txnExec) execColl(p *op, c *collState) error {
	switch p.kind {
	case opCreateColl:
		if c.exists {
			return ErrExists
		}
		c.exists, c.dirty = true, true
		c.rec = collRecord{created: x.t.mtime}
	case opRemoveColl:
		if !c.exists {
			return ErrNoCollection
		}
		if c.rec.objects != 0 {
			return fmt.Errorf("%w: %d objects left", ErrCollectionNotEmpty, c.rec.objects)
		}
		c.exists, c.dirty = false, true
		x.v.del(bPGInfo, c.key)
		x.v.delRange(bPGLog, c.key, prefixEnd(c.key))
		x.v.delRange(bPGMeta, c.key, prefixEnd(c.key))
	case opSetCollFlags:
		if !c.exists {
			return ErrNoCollection
		}
		c.rec.flags, c.dirty = p.flags, true
	}
	return nil
}

func (x *txnExec) execPG(p *op) error {
	switch p.kind {
	case opLogAppend:
		k := logKey(p.coll, p.ver)
		if x.v.get(bPGLog, k) != nil {
			return fmt.Errorf("%w: log entry %s", ErrExists, p.ver)
		}
		x.v.put(bPGLog, k, seal(k, p.data))
	case opLogTrim:
		end := append(logKey(p.coll, p.ver), 0) // just past version upTo
		x.v.delRange(bPGLog, collKey(p.coll), end)
	case opLogRewind:
		start := append(logKey(p.coll, p.ver), 0)
		x.v.delRange(bPGLog, start, prefixEnd(collKey(p.coll)))
	case opSetPGInfo:
		k := collKey(p.coll)
		x.v.put(bPGInfo, k, seal(k, p.data))
	case opSetPGMeta:
		k := pgMetaKey(p.coll, p.name)
		x.v.put(bPGMeta, k, seal(k, p.data))
	case opRmPGMeta:
		x.v.del(bPGMeta, pgMetaKey(p.coll, p.name))
	}
	return nil
}

func (x *txnExec) execObject(p *op, c *collState, o *objState) error {
	switch p.kind {
	case opTouch, opCreate:
		return nil
	case opWrite, opWriteFull, opAppend, opTruncate, opZero:
		return x.execData(p, c, o)
	case opRemove:
		x.remove(c, o)
		return nil
	case opSetVersion:
		o.n.version, o.n.userVersion, o.dirty = p.ver, p.uver, true
		return nil
	case opSetMtime:
		o.n.mtime, o.dirty = p.mtime, true
		return nil
	}
	return x.execAttrs(p, o)
}

func (x *txnExec) execData(p *op, c *collState, o *objState) error {
	var err error
	switch p.kind {
	case opWrite:
		err = x.write(c, o, p.off, p.data, p.blocks, p.firstBlock)
	case opWriteFull:
		if err = x.truncate(c, o, 0); err == nil {
			err = x.write(c, o, 0, p.data, p.blocks, 0)
		}
	case opAppend:
		if p.len > x.s.limits.ObjectSize-o.n.size {
			return fmt.Errorf("%w: appending %d bytes to %d would pass the object size limit %d",
				ErrTooLarge, p.len, o.n.size, x.s.limits.ObjectSize)
		}
		err = x.write(c, o, o.n.size, p.data, nil, 0)
	case opTruncate:
		err = x.truncate(c, o, p.off)
	case opZero:
		err = x.zero(o, p.off, p.len)
	}
	if err != nil {
		return err
	}
	x.touchMtime(o)
	return nil
}

func (x *txnExec) execAttrs(p *op, o *objState) error {
	switch p.kind {
	case opSetXattr:
		k := xattrKey(o.n.nid, p.name)
		x.v.put(bXattrs, k, seal(k, p.data))
	case opRmXattr:
		k := xattrKey(o.n.nid, p.name)
		if x.v.get(bXattrs, k) == nil {
			return fmt.Errorf("%w: %s", ErrNoXattr, quoteShort(p.name))
		}
		x.v.del(bXattrs, k)
	case opOmapSet:
		for i, key := range p.keys {
			k := omapKey(o.n.nid, key)
			x.v.put(bOmap, k, seal(k, p.vals[i]))
		}
	case opOmapRm:
		for _, key := range p.keys {
			x.v.del(bOmap, omapKey(o.n.nid, key))
		}
	case opOmapRmRange:
		if p.name < p.name2 {
			x.v.delRange(bOmap, omapKey(o.n.nid, p.name), omapKey(o.n.nid, p.name2))
		}
	case opOmapClear:
		x.v.delRange(bOmap, nidKey(o.n.nid), nidKey(o.n.nid+1))
	case opOmapSetHeader:
		k := omapHeaderKey(o.n.nid)
		x.v.put(bOmap, k, seal(k, p.data))
	}
	x.touchMtime(o)
	return nil
}

// touchMtime records the transaction's mtime on a modified object.
func (x *txnExec) touchMtime(o *objState) {
	o.n.mtime, o.dirty = x.t.mtime, true
}

// coll returns the collection state, loading it on first use.
func (x *txnExec) coll(id CollID) (*collState, error) {
	if c := x.colls[id]; c != nil {
		return c, nil
	}
	c := &collState{key: collKey(id)}
	if v := x.v.get(bColls, c.key); v != nil {
		rec, err := decodeCollValue(id, c.key, v)
		if err != nil {
			return nil, err
		}
		c.exists, c.rec = true, rec
	}
	x.colls[id] = c
	return c, nil
}

// obj returns the object state, loading it on first use.
func (x *txnExec) obj(c CollID, id ObjectID) (*objState, error) {
	key := objKey(c, id)
	o := x.objs[string(key)]
	if o == nil {
		o = &objState{coll: c, id: id, key: key}
		if v := x.v.get(bOnodes, key); v != nil {
			n, err := decodeOnodeValue(c, id, key, v)
			if err != nil {
				return nil, err
			}
			o.exists, o.n = true, n
		}
		x.objs[string(key)] = o
		x.order = append(x.order, o)
	}
	return o, nil
}

// create makes a missing object exist, empty, under a new nid.
func (x *txnExec) create(o *objState) {
	o.n = onode{nid: *x.nextNID, mtime: x.t.mtime}
	*x.nextNID++
	o.exists, o.dirty, o.fresh = true, true, true
	x.colls[o.coll].rec.objects++
	x.colls[o.coll].dirty = true
}

func (x *txnExec) remove(c *collState, o *objState) {
	prefix, end := nidKey(o.n.nid), nidKey(o.n.nid+1)
	x.dropBlocks(o, 0)
	x.v.delRange(bXattrs, prefix, end)
	x.v.delRange(bOmap, prefix, end)
	c.rec.objects--
	c.rec.bytes -= o.n.size
	c.dirty = true
	o.exists, o.dirty = false, true
	o.n = onode{}
}

// setSize changes an object's size and its collection's byte count.
func (x *txnExec) setSize(c *collState, o *objState, size uint64) {
	c.rec.bytes = c.rec.bytes - o.n.size + size
	c.dirty = true
	o.n.size, o.dirty = size, true
}

// finish records the onodes and collection records the transaction
// changed.
func (x *txnExec) finish() {
	for _, o := range x.order {
		switch {
		case !o.dirty:
		case o.exists:
			x.v.put(bOnodes, o.key, seal(o.key, o.n.encode()))
		default:
			x.v.del(bOnodes, o.key)
		}
	}
	for _, c := range x.colls {
		switch {
		case !c.dirty:
		case c.exists:
			x.v.put(bColls, c.key, seal(c.key, c.rec.encode()))
		default:
			x.v.del(bColls, c.key)
		}
	}
}

// decodeCollValue unseals and decodes a collection record.
func decodeCollValue(id CollID, key, v []byte) (collRecord, error) {
	p, err := unseal(key, v)
	if err == nil {
		var rec collRecord
		if rec, err = decodeCollRecord(p); err == nil {
			return rec, nil
		}
	}
	return collRecord{}, &CorruptError{Coll: id, Block: -1, What: "collection record: " + err.Error()}
}

// decodeOnodeValue unseals and decodes an onode.
func decodeOnodeValue(c CollID, id ObjectID, key, v []byte) (onode, error) {
	p, err := unseal(key, v)
	if err == nil {
		var n onode
		if n, err = decodeOnode(p); err == nil {
			return n, nil
		}
	}
	return onode{}, &CorruptError{Coll: c, Object: id, Block: -1, What: "onode: " + err.Error()}
}
