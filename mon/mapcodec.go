package mon

// The few calls into package cluster's encoding and delta functions, kept in
// one place so the state machine reads in terms of what it does.

import (
	"fmt"

	"github.com/gorados/gorados/cluster"
)

func encodeMap(m *cluster.OSDMap) ([]byte, error) {
	b, err := m.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode map epoch %d: %w", m.Epoch, err)
	}
	return b, nil
}

func decodeMap(b []byte) (*cluster.OSDMap, error) { return cluster.Unmarshal(b) }

func encodeInc(inc *cluster.Incremental) ([]byte, error) { return inc.Marshal() }

func decodeInc(b []byte) (*cluster.Incremental, error) { return cluster.UnmarshalIncremental(b) }

// diffMaps returns the incremental that turns cur into next (whose epoch is
// cur's plus one).
func diffMaps(cur, next *cluster.OSDMap) (*cluster.Incremental, error) {
	return cluster.Diff(cur, next)
}

func applyInc(m *cluster.OSDMap, inc *cluster.Incremental) (*cluster.OSDMap, error) {
	return cluster.Apply(m, inc)
}
