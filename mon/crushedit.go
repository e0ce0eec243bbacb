package mon

// The monitor edits CRUSH maps through the builder methods of package
// crush; the crushBuilder interface lists exactly the operations it uses.

import "github.com/gorados/gorados/crush"

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

var _ crushBuilder = (*crush.Map)(nil)

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
