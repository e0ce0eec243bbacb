package pg

import (
	"fmt"
	"slices"
)

// State is where a PG stands on this OSD.
type State uint8

// PG states of this release. The full peering protocol will split Peering
// into GetInfo/GetLog/GetMissing and add recovery states; the names follow
// Ceph's so `pg dump` reads familiar.
const (
	// StateInitial: no map processed yet.
	StateInitial State = iota
	// StatePeering: primary, waiting for the PG info of every acting
	// member.
	StatePeering
	// StateRecovering: primary, heard from every acting member, their
	// infos disagree, and it brings every member to the authoritative log
	// (log query, then sync plans) before going active.
	StateRecovering
	// StateWaiting: primary, a member answered the log query with a log
	// that contradicts its own info; the PG serves no I/O until a new
	// interval.
	StateWaiting
	// StatePeered: primary, infos agree but the acting set is smaller than
	// min_size; no client I/O.
	StatePeered
	// StateActivating: primary, infos agree; waiting until every replica
	// persisted the activation epoch.
	StateActivating
	// StateActive: primary, serving client I/O.
	StateActive
	// StateReplica: non-primary member of the acting set.
	StateReplica
	// StateStray: this OSD is not in the acting set.
	StateStray
)

var stateNames = [...]string{"initial", "peering", "recovering", "waiting", "peered", "activating", "active", "replica", "stray"}

// String names the state as metrics and traces show it.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// AllStates lists every state, for metrics that export a gauge per state.
func AllStates() []State {
	return []State{StateInitial, StatePeering, StateRecovering, StateWaiting, StatePeered, StateActivating, StateActive, StateReplica, StateStray}
}

// crushItemNone marks a hole in an acting vector (CRUSH found no OSD).
const crushItemNone = 0x7fffffff

// Mapping is what the daemon computed for this PG from one map epoch.
type Mapping struct {
	Epoch         uint64
	Up, Acting    []int32
	UpPrimary     int32
	ActingPrimary int32
	Size, MinSize int
	// UpFrom is the newest up_from (boot epoch) among the PG's up and
	// acting OSDs; a change means a member restarted, which starts a new
	// interval on every member alike.
	UpFrom uint64
}

// members returns the acting OSDs, holes removed.
func (m Mapping) members() []int32 {
	out := make([]int32, 0, len(m.Acting))
	for _, o := range m.Acting {
		if o >= 0 && o != crushItemNone {
			out = append(out, o)
		}
	}
	return out
}

// sameInterval reports whether moving from m to n keeps the interval (§2 of
// the peering spec: up, acting, primaries, size, min_size, own restart).
func (m Mapping) sameInterval(n Mapping) bool {
	return slices.Equal(m.Up, n.Up) && slices.Equal(m.Acting, n.Acting) &&
		m.UpPrimary == n.UpPrimary && m.ActingPrimary == n.ActingPrimary &&
		m.Size == n.Size && m.MinSize == n.MinSize && m.UpFrom == n.UpFrom
}

// String prints the mapping for traces.
func (m Mapping) String() string {
	return fmt.Sprintf("e%d up=%v acting=%v primary=%d size=%d min_size=%d",
		m.Epoch, m.Up, m.Acting, m.ActingPrimary, m.Size, m.MinSize)
}

// CephState names a PG's state on its acting primary in Ceph's form, as
// `ceph pg dump` prints it: "active+clean", "active+undersized+degraded",
// "active+remapped", "undersized+degraded+peered", "peering",
// "activating". This release's own states without a Ceph counterpart keep
// their names ("recovering": the primary brings the members' logs in line
// before it activates; "waiting": a member's log contradicts its info
// until the next interval). A PG that has processed no map is "unknown".
func CephState(s State, m Mapping) string {
	undersized := len(m.members()) < m.Size
	remapped := !slices.Equal(m.Up, m.Acting)
	switch s {
	case StateActive:
		out := "active"
		if !undersized && !remapped {
			out += "+clean"
		}
		if undersized {
			out += "+undersized+degraded"
		}
		if remapped {
			out += "+remapped"
		}
		return out
	case StatePeered:
		return "undersized+degraded+peered"
	case StateInitial:
		return "unknown"
	}
	return s.String()
}
