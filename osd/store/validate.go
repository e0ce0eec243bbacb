package store

import (
	"fmt"
)

// validate checks what can be checked without reading the store: ids,
// names, sizes and offsets against the limits. Submit runs it on the
// caller's goroutine, so a malformed transaction never reaches the
// committer.
func (s *Store) validate(t *Txn) error {
	for i := range t.ops {
		p := &t.ops[i]
		if err := s.validateOp(p); err != nil {
			return opError(i, p, err)
		}
	}
	return nil
}

func (s *Store) validateOp(p *op) error {
	if err := p.coll.validate(); err != nil {
		return err
	}
	l := s.limits
	switch p.kind {
	case opCreateColl, opRemoveColl, opSetCollFlags, opLogTrim, opLogRewind:
		return nil
	case opLogAppend, opSetPGInfo:
		return checkLen("PG value", len(p.data), l.PGValueLen)
	case opSetPGMeta, opRmPGMeta:
		if p.name == "" {
			return fmt.Errorf("%w: empty per-PG key", ErrInvalid)
		}
		if err := checkLen("per-PG key", len(p.name), l.PGKeyLen); err != nil {
			return err
		}
		return checkLen("PG value", len(p.data), l.PGValueLen)
	}
	if err := s.validateObject(p.coll, p.obj); err != nil {
		return err
	}
	return s.validateObjectOp(p)
}

// validateObject checks an object id against its collection and the limits.
func (s *Store) validateObject(c CollID, o ObjectID) error {
	l := s.limits
	if o.Name == "" {
		return fmt.Errorf("%w: empty object name", ErrInvalid)
	}
	if o.Pool != c.Pool {
		return fmt.Errorf("%w: object of pool %d in collection %s of pool %d", ErrInvalid, o.Pool, c, c.Pool)
	}
	if err := checkLen("object name", len(o.Name), l.NameLen); err != nil {
		return err
	}
	if err := checkLen("namespace", len(o.Namespace), l.NamespaceLen); err != nil {
		return err
	}
	return checkLen("locator key", len(o.Key), l.KeyLen)
}

func (s *Store) validateObjectOp(p *op) error {
	l := s.limits
	switch p.kind {
	case opWrite, opZero:
		if p.off > l.ObjectSize || p.len > l.ObjectSize-p.off {
			return fmt.Errorf("%w: range %d+%d ends past the object size limit %d", ErrTooLarge, p.off, p.len, l.ObjectSize)
		}
	case opWriteFull, opAppend:
		if p.len > l.ObjectSize {
			return fmt.Errorf("%w: %d bytes is over the object size limit %d", ErrTooLarge, p.len, l.ObjectSize)
		}
	case opTruncate:
		if p.off > l.ObjectSize {
			return fmt.Errorf("%w: size %d is over the object size limit %d", ErrTooLarge, p.off, l.ObjectSize)
		}
	case opSetXattr, opRmXattr:
		return validateXattr(l, p)
	case opOmapSet, opOmapRm:
		return validateOmapKeys(l, p)
	case opOmapRmRange:
		if err := checkLen("omap key", len(p.name), l.OmapKeyLen); err != nil {
			return err
		}
		return checkLen("omap key", len(p.name2), l.OmapKeyLen)
	case opOmapSetHeader:
		return checkLen("omap header", len(p.data), l.OmapValueLen)
	}
	return nil
}

func validateXattr(l Limits, p *op) error {
	if p.name == "" {
		return fmt.Errorf("%w: empty xattr name", ErrInvalid)
	}
	if err := checkLen("xattr name", len(p.name), l.XattrNameLen); err != nil {
		return err
	}
	return checkLen("xattr value", len(p.data), l.XattrValueLen)
}

func validateOmapKeys(l Limits, p *op) error {
	for i, k := range p.keys {
		if k == "" {
			return fmt.Errorf("%w: empty omap key", ErrInvalid)
		}
		if err := checkLen("omap key", len(k), l.OmapKeyLen); err != nil {
			return err
		}
		if p.kind == opOmapSet {
			if err := checkLen("omap value of key "+quoteShort(k), len(p.vals[i]), l.OmapValueLen); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkLen(what string, n, limit int) error {
	if n > limit {
		return fmt.Errorf("%w: %s of %d bytes is over the limit of %d", ErrTooLarge, what, n, limit)
	}
	return nil
}

// quoteShort quotes s for a message, cut to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q...", s[:64])
	}
	return fmt.Sprintf("%q", s)
}
