package objop

import "github.com/gorados/gorados/proto/pb"

func (s *sim) applyOmap(op *pb.SubOp) *Failure {
	switch o := op.GetOp().(type) {
	case *pb.SubOp_OmapSetVals:
		return s.omapSet(o.OmapSetVals.GetEntries())
	case *pb.SubOp_OmapRmKeys:
		return s.omapRm(o.OmapRmKeys.GetKeys())
	case *pb.SubOp_OmapClear:
		if !s.exists {
			return fail(pb.Result_RESULT_NOT_FOUND, "omap clear: the object does not exist")
		}
		s.emit(&pb.TxOp{Op: &pb.TxOp_OmapClear{OmapClear: &pb.OmapClearOp{}}})
		return nil
	case *pb.SubOp_OmapSetHeader:
		h := o.OmapSetHeader.GetHeader()
		if len(h) > s.lim.OmapValueLen {
			return fail(pb.Result_RESULT_TOO_BIG, "omap header of %d bytes is over the %d-byte limit", len(h), s.lim.OmapValueLen)
		}
		s.touch()
		s.emit(&pb.TxOp{Op: &pb.TxOp_OmapSetHeader{OmapSetHeader: &pb.OmapSetHeaderOp{Header: h}}})
		return nil
	}
	return fail(pb.Result_RESULT_INVALID_ARGUMENT, "not a write sub-op")
}

// countKeys counts keys set or removed by the op against the limit.
func (s *sim) countKeys(n int) *Failure {
	s.omapKeys += n
	if s.omapKeys > s.lim.OmapEntries {
		return fail(pb.Result_RESULT_TOO_BIG, "op changes %d omap keys, over the limit of %d: split it", s.omapKeys, s.lim.OmapEntries)
	}
	return nil
}

func (s *sim) omapSet(entries []*pb.OmapEntry) *Failure {
	if f := s.countKeys(len(entries)); f != nil {
		return f
	}
	for _, e := range entries {
		if f := s.checkOmapKey(string(e.GetKey())); f != nil {
			return f
		}
		if len(e.GetValue()) > s.lim.OmapValueLen {
			return fail(pb.Result_RESULT_TOO_BIG, "omap value of key %q is %d bytes, over the %d-byte limit", e.GetKey(), len(e.GetValue()), s.lim.OmapValueLen)
		}
	}
	s.touch()
	s.emit(&pb.TxOp{Op: &pb.TxOp_OmapSetVals{OmapSetVals: &pb.OmapSetValsOp{Entries: entries}}})
	return nil
}

func (s *sim) checkOmapKey(k string) *Failure {
	if len(k) > s.lim.OmapKeyLen {
		return fail(pb.Result_RESULT_TOO_BIG, "omap key of %d bytes is over the %d-byte limit", len(k), s.lim.OmapKeyLen)
	}
	return nil
}

func (s *sim) omapRm(keys [][]byte) *Failure {
	if !s.exists {
		return fail(pb.Result_RESULT_NOT_FOUND, "omap rm keys: the object does not exist")
	}
	if f := s.countKeys(len(keys)); f != nil {
		return f
	}
	for _, k := range keys {
		if f := s.checkOmapKey(string(k)); f != nil {
			return f
		}
	}
	s.emit(&pb.TxOp{Op: &pb.TxOp_OmapRmKeys{OmapRmKeys: &pb.OmapRmKeysOp{Keys: keys}}})
	return nil
}
