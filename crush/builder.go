package crush

// This file grows a live map the way the monitor's `ceph osd crush ...`
// commands do: add buckets and devices, link a device under its host
// (creating missing ancestors), move, reweight and remove items, create and
// remove replicated rules. Every change is applied to a copy and committed
// only when it fully succeeds, bucket totals are propagated to the root, and
// the per-class shadow trees are rebuilt after each change with the ids of
// the shadows that already existed, so that `take root class C` rules keep
// pointing at the same buckets.

import (
	"fmt"
	"sort"
)

// DefaultTypeNames are the bucket types of a new Ceph cluster, by type id.
var DefaultTypeNames = []string{"osd", "host", "chassis", "rack", "row", "pdu", "pod",
	"room", "datacenter", "zone", "region", "root"}

// ruleIDsMax is the number of rule ids a rule header can carry (its ruleset
// is one byte).
const ruleIDsMax = 256

// NewDefaultMap returns the map of a new Ceph cluster: optimal tunables, the
// default types, an empty straw2 root "default" (id -1) and rule 0
// "replicated_rule" (take default, chooseleaf firstn 0 type host, emit).
func NewDefaultMap() *Map {
	m := NewMap()
	m.Tunables, _ = TunablesProfile("optimal") // a known name: cannot fail
	for id, name := range DefaultTypeNames {
		m.TypeNames[int32(id)] = name
	}
	root, _ := NewBucket(-1, uint16(len(DefaultTypeNames)-1), AlgStraw2, 0, nil, nil, m.StrawCalcVersion)
	_ = placeBucket(m, root) // slot 0 of an empty map: cannot fail
	m.Names[-1] = "default"
	m.Rules = []*Rule{replicatedRule(0, -1, 1)}
	m.RuleNames[0] = "replicated_rule"
	return m
}

// replicatedRule is Ceph's simple replicated rule: take, one choose step
// down to the failure domain (or to devices when it is type 0), emit.
func replicatedRule(id int, take, failureDomain int32) *Rule {
	choose := Step{Op: OpChooseLeafFirstN, Arg2: failureDomain}
	if failureDomain == 0 {
		choose.Op = OpChooseFirstN
	}
	return &Rule{Ruleset: uint8(id), Type: RuleTypeReplicated, MinSize: 1, MaxSize: 10,
		Steps: []Step{{Op: OpTake, Arg1: take}, choose, {Op: OpEmit}}}
}

// ItemID returns the id of the device or bucket with the given name (shadow
// buckets included, as "host1~ssd").
func (m *Map) ItemID(name string) (int32, bool) {
	for id, n := range m.Names {
		if n == name {
			return id, true
		}
	}
	return 0, false
}

// TypeID returns the id of the named type (the lowest, if several ids share
// the name).
func (m *Map) TypeID(name string) (int32, bool) {
	found, best := false, int32(0)
	for id, n := range m.TypeNames {
		if n == name && (!found || id < best) {
			found, best = true, id
		}
	}
	return best, found
}

// edit applies fn to a copy of m, rebuilds the shadow trees and commits the
// copy only if everything succeeded, so a failed command changes nothing.
func (m *Map) edit(fn func(c *Map) error) error {
	c := m.clone()
	if err := fn(c); err != nil {
		return err
	}
	if err := c.rebuildShadows(); err != nil {
		return err
	}
	if err := recomputeMaxDevices(c); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	*m = *c
	return nil
}

// AddBucket adds an empty straw2 bucket of the named type, with the lowest
// free bucket id, outside the hierarchy (link it with MoveItem). It returns
// the new id.
func (m *Map) AddBucket(name, typeName string) (int32, error) {
	var id int32
	err := m.edit(func(c *Map) error {
		if err := c.checkNewName("bucket", name); err != nil {
			return err
		}
		typ, err := c.bucketType(typeName)
		if err != nil {
			return err
		}
		id, err = c.newBucket(name, typ)
		return err
	})
	return id, err
}

// checkNewName refuses names the text format cannot carry and names in use.
func (m *Map) checkNewName(what, name string) error {
	if !isName(name) {
		return fmt.Errorf("%w: %s name %q: use letters, digits, '_', '-' and '.'", ErrInvalid, what, name)
	}
	if id, ok := m.ItemID(name); ok {
		return fmt.Errorf("%w: %s name %q is already item %d", ErrExists, what, name, id)
	}
	return nil
}

// bucketType resolves a bucket type name; type 0 is the device type.
func (m *Map) bucketType(name string) (int32, error) {
	typ, ok := m.TypeID(name)
	switch {
	case !ok:
		return 0, fmt.Errorf("%w: type %q does not exist; the map has %v", ErrNotFound, name, m.typeList())
	case typ == 0:
		return 0, fmt.Errorf("%w: type %q (0) is the device type; buckets need a type above it", ErrInvalid, name)
	case typ > 0xffff:
		return 0, fmt.Errorf("%w: type %q has id %d, which a bucket cannot store (16 bits)", ErrInvalid, name, typ)
	}
	return typ, nil
}

func (m *Map) typeList() []string {
	var names []string
	for _, id := range sortedKeys(m.TypeNames) {
		names = append(names, m.TypeNames[id])
	}
	return names
}

// newBucket places an empty straw2 bucket at the lowest free id.
func (m *Map) newBucket(name string, typ int32) (int32, error) {
	id := int32(-1)
	for m.Bucket(id) != nil {
		id--
	}
	b, err := NewBucket(id, uint16(typ), AlgStraw2, 0, nil, nil, m.StrawCalcVersion)
	if err != nil {
		return 0, err
	}
	if err := placeBucket(m, b); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	m.Names[id] = name
	return id, nil
}

// AddDevice names device id and gives it a class ("" for none). It does not
// place the device in the hierarchy; LinkDevice does.
func (m *Map) AddDevice(id int32, name, class string) error {
	return m.edit(func(c *Map) error {
		if id < 0 || id >= ItemNone {
			return fmt.Errorf("%w: device id %d: device ids are 0 to %d", ErrInvalid, id, ItemNone-1)
		}
		if old, ok := c.Names[id]; ok {
			return fmt.Errorf("%w: device %d is already %q", ErrExists, id, old)
		}
		if err := c.checkNewName("device", name); err != nil {
			return err
		}
		c.Names[id] = name
		return c.setDeviceClass(id, class)
	})
}

func (m *Map) setDeviceClass(id int32, class string) error {
	if class == "" {
		delete(m.ClassMap, id)
		return nil
	}
	if !isName(class) {
		return fmt.Errorf("%w: class name %q: use letters, digits, '_', '-' and '.'", ErrInvalid, class)
	}
	m.ClassMap[id] = classIDFor(m, class)
	return nil
}

// LinkDevice places device id under the location, like `ceph osd crush
// create-or-move`: location maps type names to bucket names (for example
// {"host": "h1", "root": "default"}); missing buckets are created (straw2)
// from the lowest type up until an existing one is reached. A device that
// is already in the hierarchy keeps its current weight and is moved only if
// its parent is not the location's lowest bucket. A device without a name
// is named osd.<id>.
func (m *Map) LinkDevice(id int32, weight uint32, location map[string]string) error {
	return m.edit(func(c *Map) error {
		if id < 0 || id >= ItemNone {
			return fmt.Errorf("%w: device id %d: device ids are 0 to %d", ErrInvalid, id, ItemNone-1)
		}
		if _, ok := c.Names[id]; !ok {
			if err := c.checkNewName("device", fmt.Sprintf("osd.%d", id)); err != nil {
				return err
			}
			c.Names[id] = fmt.Sprintf("osd.%d", id)
		}
		levels, err := c.locationLevels(0, location)
		if err != nil {
			return err
		}
		if current, linked := c.linkedWeight(id); linked {
			if c.isAt(id, levels[0]) {
				return nil
			}
			weight = current
			if err := c.detach(id); err != nil {
				return err
			}
		}
		return c.insert(id, weight, levels)
	})
}

// locLevel is one entry of a location: a bucket name at a type.
type locLevel struct {
	typ  int32
	name string
}

// locationLevels validates a location for an item of type itemType and
// returns its entries by ascending type.
func (m *Map) locationLevels(itemType int32, location map[string]string) ([]locLevel, error) {
	if len(location) == 0 {
		return nil, fmt.Errorf("%w: the location is empty; give at least one TYPE=BUCKET, e.g. host=h1", ErrInvalid)
	}
	var levels []locLevel
	for typeName, name := range location {
		typ, err := m.bucketType(typeName)
		if err != nil {
			return nil, err
		}
		if typ <= itemType {
			return nil, fmt.Errorf("%w: location %s=%s is not above the item's type %q", ErrInvalid, typeName, name, m.typeName(itemType))
		}
		if !isName(name) {
			return nil, fmt.Errorf("%w: bucket name %q: use letters, digits, '_', '-' and '.'", ErrInvalid, name)
		}
		if id, ok := m.ItemID(name); ok && (id >= 0 || int32(m.Bucket(id).Type) != typ) {
			return nil, fmt.Errorf("%w: location %s=%s, but %q is a %s", ErrInvalid, typeName, name, name, m.kindOf(id))
		}
		levels = append(levels, locLevel{typ, name})
	}
	sort.Slice(levels, func(i, j int) bool { return levels[i].typ < levels[j].typ })
	for i := 1; i < len(levels); i++ {
		if levels[i].typ == levels[i-1].typ {
			return nil, fmt.Errorf("%w: the location names type %q twice", ErrInvalid, m.typeName(levels[i].typ))
		}
	}
	return levels, nil
}

// kindOf describes an item for error messages.
func (m *Map) kindOf(id int32) string {
	if id >= 0 {
		return "device"
	}
	return m.typeName(int32(m.Bucket(id).Type))
}

// insert links item (with weight) at the location: up the levels, creating
// missing buckets, until an existing bucket takes the chain.
func (m *Map) insert(item int32, weight uint32, levels []locLevel) error {
	for _, l := range levels {
		if id, ok := m.ItemID(l.name); ok {
			if m.isAncestorOrSelf(item, id) {
				return fmt.Errorf("%w: %s cannot go under %s, which is inside it", ErrInvalid, m.itemName(item), l.name)
			}
			return m.addItem(id, item, weight)
		}
		id, err := m.newBucket(l.name, l.typ)
		if err != nil {
			return err
		}
		if err := m.addItem(id, item, weight); err != nil {
			return err
		}
		item, weight = id, m.Bucket(id).Weight
	}
	return nil
}

// isAncestorOrSelf reports whether b is item itself or below it.
func (m *Map) isAncestorOrSelf(item, b int32) bool {
	if item == b {
		return true
	}
	bucket := m.Bucket(item)
	if bucket == nil {
		return false
	}
	for _, child := range bucket.Items {
		if child < 0 && m.isAncestorOrSelf(child, b) {
			return true
		}
	}
	return false
}

// isAt reports whether item is in the bucket named by the level.
func (m *Map) isAt(item int32, l locLevel) bool {
	id, ok := m.ItemID(l.name)
	return ok && m.Bucket(id) != nil && indexOf(m.Bucket(id).Items, item) >= 0
}

func indexOf(items []int32, item int32) int {
	for j, it := range items {
		if it == item {
			return j
		}
	}
	return -1
}

// parents returns the non-shadow buckets that list item, in slot order.
func (m *Map) parents(item int32) []*Bucket {
	var out []*Bucket
	for _, b := range m.Buckets {
		if b != nil && !m.isShadow(b.ID) && indexOf(b.Items, item) >= 0 {
			out = append(out, b)
		}
	}
	return out
}

// linkedWeight returns the weight of item in its first parent.
func (m *Map) linkedWeight(item int32) (uint32, bool) {
	ps := m.parents(item)
	if len(ps) == 0 {
		return 0, false
	}
	return ps[0].ItemWeight(indexOf(ps[0].Items, item)), true
}

// isShadow reports whether bucket id belongs to a class shadow tree.
func (m *Map) isShadow(id int32) bool {
	if _, ok := m.ClassMap[id]; ok && id < 0 {
		return true
	}
	return isShadowName(m.itemName(id))
}

// rebuildBucket replaces bucket id by one with the given items and weights,
// keeping its algorithm, hash and type, and propagates the change of its
// total weight to every parent, up to the roots (as Ceph adds the
// difference to the item's weight in each parent).
func (m *Map) rebuildBucket(id int32, items []int32, weights []uint32) error {
	old := m.Bucket(id)
	b, err := NewBucket(id, old.Type, old.Alg, old.Hash, items, weights, m.StrawCalcVersion)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	m.Buckets[-1-id] = b
	diff := int64(b.Weight) - int64(old.Weight)
	if diff == 0 {
		return nil
	}
	for _, p := range m.parents(id) {
		ws := bucketWeights(p)
		for j, it := range p.Items {
			if it != id {
				continue
			}
			nw := int64(ws[j]) + diff
			if nw < 0 || nw > 0xffffffff {
				return fmt.Errorf("%w: the weight of %s in %s would leave the 32-bit range", ErrInvalid, m.itemName(id), m.itemName(p.ID))
			}
			ws[j] = uint32(nw)
		}
		if err := m.rebuildBucket(p.ID, p.Items, ws); err != nil {
			return err
		}
	}
	return nil
}

// bucketWeights returns a copy of a bucket's item weights.
func bucketWeights(b *Bucket) []uint32 {
	ws := make([]uint32, len(b.Items))
	for j := range ws {
		ws[j] = b.ItemWeight(j)
	}
	return ws
}

// addItem appends item to bucket id, extending the bucket's choose_args
// entries (each weight-set row gets the item's weight, ids get its id).
func (m *Map) addItem(id, item int32, weight uint32) error {
	b := m.Bucket(id)
	if indexOf(b.Items, item) >= 0 {
		return fmt.Errorf("%w: %s is already in %s", ErrExists, m.itemName(item), m.itemName(id))
	}
	n := len(b.Items)
	items := append(append([]int32{}, b.Items...), item)
	if err := m.rebuildBucket(id, items, append(bucketWeights(b), weight)); err != nil {
		return err
	}
	m.editChooseArgs(id, n, func(row []uint32) []uint32 { return append(row, weight) },
		func(ids []int32) []int32 { return append(ids, item) })
	return nil
}

// removeItem removes every occurrence of item from bucket id.
func (m *Map) removeItem(id, item int32) error {
	b := m.Bucket(id)
	n := len(b.Items)
	var keep []int
	for j, it := range b.Items {
		if it != item {
			keep = append(keep, j)
		}
	}
	items := make([]int32, len(keep))
	ws := make([]uint32, len(keep))
	for k, j := range keep {
		items[k], ws[k] = b.Items[j], b.ItemWeight(j)
	}
	if err := m.rebuildBucket(id, items, ws); err != nil {
		return err
	}
	m.editChooseArgs(id, n, func(row []uint32) []uint32 { return pick(row, keep) },
		func(ids []int32) []int32 { return pick(ids, keep) })
	return nil
}

func pick[T any](v []T, keep []int) []T {
	out := make([]T, len(keep))
	for k, j := range keep {
		out[k] = v[j]
	}
	return out
}

// editChooseArgs applies the edits to every choose_args entry of bucket id
// whose rows or ids had the bucket's former size n.
func (m *Map) editChooseArgs(id int32, n int, row func([]uint32) []uint32, ids func([]int32) []int32) {
	slot := -1 - int(id)
	for _, set := range m.ChooseArgs {
		if slot >= len(set) {
			continue
		}
		a := &set[slot]
		for p := range a.WeightSet {
			if len(a.WeightSet[p]) == n {
				a.WeightSet[p] = row(a.WeightSet[p])
			}
		}
		if len(a.IDs) == n && n > 0 {
			a.IDs = ids(a.IDs)
		}
	}
}

// detach removes item from every (non-shadow) parent.
func (m *Map) detach(item int32) error {
	for _, p := range m.parents(item) {
		if err := m.removeItem(p.ID, item); err != nil {
			return err
		}
	}
	return nil
}

// MoveItem moves a bucket (or a linked device, keeping its weight) to a new
// location, like `ceph osd crush move NAME TYPE=BUCKET...`: it leaves all
// its parents and is inserted as LinkDevice inserts, creating missing
// ancestors. Moving a bucket under itself or its descendants is refused.
func (m *Map) MoveItem(name string, to map[string]string) error {
	return m.edit(func(c *Map) error {
		id, err := c.userItem(name)
		if err != nil {
			return err
		}
		itemType := int32(0)
		weight, linked := c.linkedWeight(id)
		if b := c.Bucket(id); b != nil {
			itemType, weight = int32(b.Type), b.Weight
		} else if !linked {
			return fmt.Errorf("%w: device %s is not in the hierarchy; place it with LinkDevice", ErrInvalid, name)
		}
		levels, err := c.locationLevels(itemType, to)
		if err != nil {
			return err
		}
		for _, l := range levels {
			if target, ok := c.ItemID(l.name); ok && c.isAncestorOrSelf(id, target) {
				return fmt.Errorf("%w: %s cannot move under %s, which is inside it", ErrInvalid, name, l.name)
			}
		}
		if err := c.detach(id); err != nil {
			return err
		}
		return c.insert(id, weight, levels)
	})
}

// userItem resolves the name of a device or (non-shadow) bucket.
func (m *Map) userItem(name string) (int32, error) {
	id, ok := m.ItemID(name)
	if !ok {
		return 0, fmt.Errorf("%w: no device or bucket is named %q", ErrNotFound, name)
	}
	if id < 0 && m.isShadow(id) {
		return 0, fmt.Errorf("%w: %q is a device-class shadow bucket, which follows its original; change the original", ErrInvalid, name)
	}
	return id, nil
}

// RemoveItem removes a device (from every bucket, with its name and class)
// or an empty bucket. Items that a rule takes directly are refused, as are
// buckets whose shadows a rule takes.
func (m *Map) RemoveItem(name string) error {
	return m.edit(func(c *Map) error {
		id, err := c.userItem(name)
		if err != nil {
			return err
		}
		if err := c.checkUnused(id); err != nil {
			return err
		}
		if b := c.Bucket(id); b != nil && len(b.Items) > 0 {
			return fmt.Errorf("%w: bucket %s is not empty; move or remove its %d items first", ErrInvalid, name, len(b.Items))
		}
		if err := c.detach(id); err != nil {
			return err
		}
		delete(c.Names, id)
		delete(c.ClassMap, id)
		if id < 0 {
			c.Buckets[-1-id] = nil
			delete(c.ClassBucket, id)
			c.clearChooseArgs(id)
		}
		return nil
	})
}

// checkUnused refuses to remove an item that a rule takes, directly or
// through one of its shadows.
func (m *Map) checkUnused(id int32) error {
	taken := map[int32]bool{id: true}
	for _, s := range m.ClassBucket[id] {
		taken[s] = true
	}
	for r, rule := range m.Rules {
		if rule == nil {
			continue
		}
		for _, s := range rule.Steps {
			if s.Op == OpTake && taken[s.Arg1] {
				return fmt.Errorf("%w: %s is used by rule %d (%s); remove the rule first", ErrInvalid, m.itemName(id), r, m.RuleNames[int32(r)])
			}
		}
	}
	return nil
}

func (m *Map) clearChooseArgs(id int32) {
	slot := -1 - int(id)
	for _, set := range m.ChooseArgs {
		if slot < len(set) {
			set[slot] = ChooseArg{}
		}
	}
}

// ReweightItem sets the weight of a device in every bucket that holds it and
// propagates the new totals up to the roots (`ceph osd crush reweight`).
func (m *Map) ReweightItem(name string, weight uint32) error {
	return m.edit(func(c *Map) error {
		id, err := c.userItem(name)
		if err != nil {
			return err
		}
		if id < 0 {
			return fmt.Errorf("%w: %s is a bucket; its weight is the sum of its items, reweight those", ErrInvalid, name)
		}
		ps := c.parents(id)
		if len(ps) == 0 {
			return fmt.Errorf("%w: device %s is not in the hierarchy; place it with LinkDevice", ErrInvalid, name)
		}
		for _, p := range ps {
			p = c.Bucket(p.ID) // an earlier rebuild may have replaced it
			ws := bucketWeights(p)
			for j, it := range p.Items {
				if it == id {
					ws[j] = weight
				}
			}
			if err := c.rebuildBucket(p.ID, p.Items, ws); err != nil {
				return err
			}
		}
		return nil
	})
}

// CreateReplicatedRule adds a replicated rule like `ceph osd crush rule
// create-replicated NAME ROOT FAILURE_DOMAIN [CLASS]`: take ROOT (or its
// CLASS shadow), chooseleaf firstn 0 type FAILURE_DOMAIN (choose, for the
// device type), emit, with the lowest free rule id, which it returns.
func (m *Map) CreateReplicatedRule(name, root, failureDomainType, class string) (int, error) {
	var id int
	err := m.edit(func(c *Map) error {
		var err error
		id, err = c.createReplicatedRule(name, root, failureDomainType, class)
		return err
	})
	return id, err
}

func (m *Map) createReplicatedRule(name, root, failureDomainType, class string) (int, error) {
	if !isName(name) {
		return 0, fmt.Errorf("%w: rule name %q: use letters, digits, '_', '-' and '.'", ErrInvalid, name)
	}
	if _, ok := m.ruleID(name); ok {
		return 0, fmt.Errorf("%w: rule %q already exists", ErrExists, name)
	}
	take, err := m.userItem(root)
	if err != nil {
		return 0, err
	}
	if take >= 0 {
		return 0, fmt.Errorf("%w: %s is a device; a rule starts from a bucket", ErrInvalid, root)
	}
	fd, ok := m.TypeID(failureDomainType)
	if !ok {
		return 0, fmt.Errorf("%w: type %q does not exist; the map has %v", ErrNotFound, failureDomainType, m.typeList())
	}
	if class != "" {
		if take, err = m.classShadow(take, class); err != nil {
			return 0, err
		}
	}
	id := 0
	for id < len(m.Rules) && m.Rules[id] != nil {
		id++
	}
	if id >= ruleIDsMax {
		return 0, fmt.Errorf("%w: all %d rule ids are in use; remove a rule first", ErrInvalid, ruleIDsMax)
	}
	if id == len(m.Rules) {
		m.Rules = append(m.Rules, nil)
	}
	m.Rules[id] = replicatedRule(id, take, fd)
	m.RuleNames[int32(id)] = name
	return id, nil
}

// classShadow returns the shadow of bucket id for the named class.
func (m *Map) classShadow(id int32, class string) (int32, error) {
	cls, ok := classByName(m, class)
	if !ok {
		return 0, fmt.Errorf("%w: device class %q does not exist", ErrNotFound, class)
	}
	shadow, ok := m.ClassBucket[id][cls]
	if !ok {
		return 0, fmt.Errorf("%w: %s has no shadow for class %q (its shadow trees could not be built)", ErrInvalid, m.itemName(id), class)
	}
	return shadow, nil
}

func (m *Map) ruleID(name string) (int, bool) {
	for id, n := range m.RuleNames {
		if n == name && m.Rule(int(id)) != nil {
			return int(id), true
		}
	}
	return 0, false
}

// RemoveRule removes the named rule; its id becomes free.
func (m *Map) RemoveRule(name string) error {
	return m.edit(func(c *Map) error {
		id, ok := c.ruleID(name)
		if !ok {
			return fmt.Errorf("%w: rule %q does not exist", ErrNotFound, name)
		}
		c.Rules[id] = nil
		delete(c.RuleNames, int32(id))
		return nil
	})
}

// rebuildShadows drops every shadow bucket and builds the shadow trees
// again, pinning each (bucket, class) to the shadow id it had, so that rules
// and choose_args that name shadows stay valid. It fails if the trees cannot
// be built completely (a uniform bucket with classed devices).
func (m *Map) rebuildShadows() error {
	pins := map[int32]map[int32]int32{}
	saved := map[int64]map[int32]ChooseArg{}
	for slot, b := range m.Buckets {
		if b == nil || !m.isShadow(b.ID) {
			continue
		}
		m.saveShadowArgs(saved, slot)
		m.Buckets[slot] = nil
		delete(m.Names, b.ID)
		delete(m.ClassMap, b.ID)
	}
	for orig, byClass := range m.ClassBucket {
		if m.Bucket(orig) == nil {
			continue
		}
		for cls, shadow := range byClass {
			if _, ok := m.ClassNames[cls]; ok {
				if pins[orig] == nil {
					pins[orig] = map[int32]int32{}
				}
				pins[orig][cls] = shadow
			}
		}
	}
	m.ClassBucket = map[int32]map[int32]int32{}
	if !newShadowBuilder(m, pins).buildAll() {
		return fmt.Errorf("%w: the device-class shadow trees cannot be built (a uniform bucket holds devices with classes, or a shadow id is taken)", ErrInvalid)
	}
	m.restoreShadowArgs(saved)
	return nil
}

func (m *Map) saveShadowArgs(saved map[int64]map[int32]ChooseArg, slot int) {
	for setID, set := range m.ChooseArgs {
		if slot < len(set) && !set[slot].Empty() {
			if saved[setID] == nil {
				saved[setID] = map[int32]ChooseArg{}
			}
			saved[setID][int32(-1-slot)] = set[slot]
			set[slot] = ChooseArg{}
		}
	}
}

// restoreShadowArgs gives rebuilt shadows back their choose_args entries
// when they still have the same number of items.
func (m *Map) restoreShadowArgs(saved map[int64]map[int32]ChooseArg) {
	for setID, entries := range saved {
		set := m.ChooseArgs[setID]
		for id, a := range entries {
			b := m.Bucket(id)
			if b == nil || int(-1-id) >= len(set) || !chooseArgFits(a, len(b.Items)) {
				continue
			}
			set[-1-id] = a
		}
	}
}

func chooseArgFits(a ChooseArg, size int) bool {
	for _, row := range a.WeightSet {
		if len(row) != size {
			return false
		}
	}
	return len(a.IDs) == 0 || len(a.IDs) == size
}

// clone returns a deep copy of m.
func (m *Map) clone() *Map {
	c := *m
	c.Buckets = make([]*Bucket, len(m.Buckets))
	for i, b := range m.Buckets {
		if b != nil {
			nb := *b
			nb.Items = append([]int32(nil), b.Items...)
			nb.ItemWeights = append([]uint32(nil), b.ItemWeights...)
			nb.SumWeights = append([]uint32(nil), b.SumWeights...)
			nb.NodeWeights = append([]uint32(nil), b.NodeWeights...)
			nb.Straws = append([]uint32(nil), b.Straws...)
			c.Buckets[i] = &nb
		}
	}
	c.Rules = make([]*Rule, len(m.Rules))
	for i, r := range m.Rules {
		if r != nil {
			nr := *r
			nr.Steps = append([]Step(nil), r.Steps...)
			c.Rules[i] = &nr
		}
	}
	c.TypeNames, c.Names, c.RuleNames = cloneMap(m.TypeNames), cloneMap(m.Names), cloneMap(m.RuleNames)
	c.ClassMap, c.ClassNames = cloneMap(m.ClassMap), cloneMap(m.ClassNames)
	c.ClassBucket = make(map[int32]map[int32]int32, len(m.ClassBucket))
	for k, v := range m.ClassBucket {
		c.ClassBucket[k] = cloneMap(v)
	}
	c.ChooseArgs = make(map[int64]ChooseArgSet, len(m.ChooseArgs))
	for k, set := range m.ChooseArgs {
		ns := make(ChooseArgSet, len(set))
		for i, a := range set {
			ns[i].IDs = append([]int32(nil), a.IDs...)
			for _, row := range a.WeightSet {
				ns[i].WeightSet = append(ns[i].WeightSet, append([]uint32(nil), row...))
			}
		}
		c.ChooseArgs[k] = ns
	}
	return &c
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
