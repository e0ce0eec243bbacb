package mon

// The monitor edits CRUSH maps through the builder methods of package
// crush. They are reached through the crushBuilder interface so that the
// monitor states exactly which builder operations it depends on.

import (
	"fmt"

	"github.com/gorados/gorados/crush"
)

type crushBuilder interface {
	AddBucket(name, typeName string) (int32, error)
	AddDevice(id int32, name, class string) error
	MoveItem(name string, to map[string]string) error
	LinkDevice(id int32, weight uint32, location map[string]string) error
	RemoveItem(name string) error
	ReweightItem(name string, weight uint32) error
	CreateReplicatedRule(name, root, failureDomainType, class string) (int, error)
	RemoveRule(name string) error
}

func builderOf(cm *crush.Map) (crushBuilder, error) {
	b, ok := any(cm).(crushBuilder)
	if !ok {
		return nil, errorf(ErrFailedPrecondition, "this build has no CRUSH builder: edit the map offline and use `osd setcrushmap`")
	}
	return b, nil
}

// crushItemID returns the id of the named device or bucket.
func crushItemID(cm *crush.Map, name string) (int32, bool) {
	if cm == nil {
		return 0, false
	}
	for id, n := range cm.Names {
		if n == name {
			return id, true
		}
	}
	return 0, false
}

// defaultCrushText is the CRUSH map of a new cluster: Ceph's default types,
// an empty root "default" and rule 0 replicated_rule (one replica per
// host), with optimal (jewel) tunables.
const defaultCrushText = `tunable choose_local_tries 0
tunable choose_local_fallback_tries 0
tunable choose_total_tries 50
tunable chooseleaf_descend_once 1
tunable chooseleaf_vary_r 1
tunable chooseleaf_stable 1
tunable straw_calc_version 1
tunable allowed_bucket_algs 54

type 0 osd
type 1 host
type 2 chassis
type 3 rack
type 4 row
type 5 pdu
type 6 pod
type 7 room
type 8 datacenter
type 9 zone
type 10 region
type 11 root

root default {
	id -1
	alg straw2
	hash 0
}

rule replicated_rule {
	id 0
	type replicated
	min_size 1
	max_size 10
	step take default
	step chooseleaf firstn 0 type host
	step emit
}
`

// defaultCrushMap compiles defaultCrushText.
func defaultCrushMap() (*crush.Map, error) {
	cm, err := crush.Compile([]byte(defaultCrushText))
	if err != nil {
		return nil, fmt.Errorf("default crush map: %w", err)
	}
	return cm, nil
}
