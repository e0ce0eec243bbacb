package objop

import (
	"bytes"
	"sort"
	"strings"

	"github.com/gorados/gorados/proto/pb"
)

// memObject is a test model of one stored object: a Reader, and the target
// of applyTxn, which applies resolved transactions the way the store must.
type memObject struct {
	exists bool
	data   []byte
	mtime  int64
	xattrs map[string][]byte
	omap   map[string][]byte
	header []byte
}

func newMem() *memObject { return &memObject{xattrs: map[string][]byte{}, omap: map[string][]byte{}} }

func (m *memObject) Stat() (Meta, error) {
	if !m.exists {
		return Meta{}, ErrNoObject
	}
	return Meta{Size: uint64(len(m.data)), MtimeUnixNano: m.mtime}, nil
}

func (m *memObject) Read(off, n uint64) ([]byte, error) {
	if !m.exists {
		return nil, ErrNoObject
	}
	end := min(off+n, uint64(len(m.data)))
	return append([]byte{}, m.data[off:end]...), nil
}

func (m *memObject) Xattr(name string) ([]byte, error) {
	if !m.exists {
		return nil, ErrNoObject
	}
	v, ok := m.xattrs[name]
	if !ok {
		return nil, ErrNoXattr
	}
	return v, nil
}

func (m *memObject) Xattrs() ([]*pb.Xattr, error) {
	if !m.exists {
		return nil, ErrNoObject
	}
	var out []*pb.Xattr
	for k, v := range m.xattrs {
		out = append(out, &pb.Xattr{Name: []byte(k), Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Name, out[j].Name) < 0 })
	return out, nil
}

func (m *memObject) OmapHeader() ([]byte, error) {
	if !m.exists {
		return nil, ErrNoObject
	}
	return m.header, nil
}

func (m *memObject) sortedKeys() []string {
	keys := make([]string, 0, len(m.omap))
	for k := range m.omap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (m *memObject) OmapVals(after, prefix string, max int) ([]*pb.OmapEntry, bool, error) {
	if !m.exists {
		return nil, false, ErrNoObject
	}
	var out []*pb.OmapEntry
	for _, k := range m.sortedKeys() {
		if k <= after || !strings.HasPrefix(k, prefix) {
			continue
		}
		if len(out) == max {
			return out, true, nil
		}
		out = append(out, &pb.OmapEntry{Key: []byte(k), Value: m.omap[k]})
	}
	return out, false, nil
}

func (m *memObject) OmapValsByKeys(keys []string) ([]*pb.OmapEntry, error) {
	if !m.exists {
		return nil, ErrNoObject
	}
	var out []*pb.OmapEntry
	for _, k := range m.sortedKeys() {
		for _, want := range keys {
			if k == want {
				out = append(out, &pb.OmapEntry{Key: []byte(k), Value: m.omap[k]})
				break
			}
		}
	}
	return out, nil
}

func (m *memObject) applyTxn(txn []*pb.TxOp) {
	for _, op := range txn {
		m.mtime = op.GetMtimeUnixNano()
		switch o := op.GetOp().(type) {
		case *pb.TxOp_Touch:
			m.exists = true
		case *pb.TxOp_Write:
			end := int(o.Write.GetOffset()) + len(o.Write.GetData())
			if end > len(m.data) {
				m.data = append(m.data, make([]byte, end-len(m.data))...)
			}
			copy(m.data[o.Write.GetOffset():], o.Write.GetData())
		case *pb.TxOp_Truncate:
			n := int(o.Truncate.GetSize())
			if n <= len(m.data) {
				m.data = m.data[:n]
			} else {
				m.data = append(m.data, make([]byte, n-len(m.data))...)
			}
		case *pb.TxOp_Remove:
			*m = *newMem()
		case *pb.TxOp_SetXattr:
			m.xattrs[string(o.SetXattr.GetName())] = o.SetXattr.GetValue()
		case *pb.TxOp_RmXattr:
			delete(m.xattrs, string(o.RmXattr.GetName()))
		case *pb.TxOp_OmapSetVals:
			for _, e := range o.OmapSetVals.GetEntries() {
				m.omap[string(e.GetKey())] = e.GetValue()
			}
		case *pb.TxOp_OmapRmKeys:
			for _, k := range o.OmapRmKeys.GetKeys() {
				delete(m.omap, string(k))
			}
		case *pb.TxOp_OmapClear:
			m.omap = map[string][]byte{}
		case *pb.TxOp_OmapSetHeader:
			m.header = o.OmapSetHeader.GetHeader()
		}
	}
}
