package osd

import (
	"fmt"
	"sync"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

// Full protection (Ceph's full ratio): a write that would add data is
// refused with RESULT_NO_SPACE when an acting member's file system is used
// at or above the map's full_ratio, before the store runs out of space and
// the OSD has to stop. Each OSD measures its own file system when it
// heartbeats and learns its peers' use from their ping replies. Removes and
// ops that only shrink or delete still run, so space can be freed.

// fullness holds the file system use (0..1) of this OSD and of its peers.
type fullness struct {
	mu   sync.Mutex
	used map[int32]float64
}

func (f *fullness) set(id int32, used float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used == nil {
		f.used = map[int32]float64{}
	}
	f.used[id] = used
}

func (f *fullness) get(id int32) float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.used[id]
}

// measureFullness records this OSD's own file system use.
func (o *OSD) measureFullness() float64 {
	u, err := o.st.Usage()
	if err != nil || u.FSBytes == 0 {
		return o.full.get(o.cfg.ID)
	}
	used := 1 - float64(min(u.FSAvailBytes, u.FSBytes))/float64(u.FSBytes)
	o.full.set(o.cfg.ID, used)
	return used
}

// fullMember returns the first member of acting whose file system is used
// at or above m's full ratio, and its use; -1 if none.
func (o *OSD) fullMember(m *cluster.OSDMap, acting []int32) (int32, float64) {
	if m == nil || m.FullRatio <= 0 {
		return -1, 0
	}
	for _, id := range acting {
		if used := o.full.get(id); used >= float64(m.FullRatio) {
			return id, used
		}
	}
	return -1, 0
}

// addsData reports whether ops may grow the store: anything but removes,
// truncates, xattr and omap removals.
func addsData(ops []*pb.SubOp) bool {
	for _, op := range ops {
		switch op.GetOp().(type) {
		case *pb.SubOp_Remove, *pb.SubOp_Truncate, *pb.SubOp_RmXattr, *pb.SubOp_OmapRmKeys, *pb.SubOp_OmapClear:
		default:
			return true
		}
	}
	return false
}

// refuseIfFull answers a write with RESULT_NO_SPACE when it adds data and a
// member of the PG is full; it reports whether it did.
func (h *pgHandle) refuseIfFull(op *clientOp) bool {
	if !addsData(op.req.GetOps()) {
		return false
	}
	m := h.o.Map()
	id, used := h.o.fullMember(m, h.core.Mapping().Acting)
	if id < 0 {
		return false
	}
	h.reply(op, pb.Result_RESULT_NO_SPACE, fmt.Sprintf("osd.%d is full: %.1f%% of its file system is used, at or above the full ratio %.0f%%; delete objects or add OSDs",
		id, 100*used, 100*float64(m.FullRatio)))
	return true
}
