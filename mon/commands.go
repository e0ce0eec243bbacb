package mon

// The pure core of the monitor: a command applied to a map. Execute never
// does I/O and never reads a clock; the caller hands it a private copy of
// the pending map and throws the copy away when Execute fails, so a
// rejected command never leaves a half-applied change behind.

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
)

// Command is one map-changing request. The concrete types below mirror the
// gRPC messages of proto/mon.proto.
type Command interface {
	// Name is the command as an admin would type it ("osd pool create").
	Name() string
}

// Limits are the monitor's policy knobs consulted by commands.
type Limits struct {
	// PGPerOSDMax caps the PG replicas per in OSD (Ceph's
	// mon_max_pg_per_osd, default 250); at least three OSDs are assumed so
	// that a new cluster can create its first pools.
	PGPerOSDMax uint64
	// DefaultSize is the replica count of pools created without one.
	DefaultSize int32
	// AllowSizeOne permits pools of size 1 (Ceph's mon_allow_pool_size_one).
	AllowSizeOne bool
}

// DefaultLimits returns Ceph's defaults.
func DefaultLimits() Limits { return Limits{PGPerOSDMax: 250, DefaultSize: 3} }

// Result is what a successful command reports.
type Result struct {
	// Changed is false when the command found the map already as asked
	// (e.g. marking an out OSD out); no new epoch is needed for it.
	Changed bool
	Message string
	OSDID   int32
}

// PoolCreate creates a replicated pool. Nil pointers take the defaults.
type PoolCreate struct {
	Pool      string
	PGNum     uint32
	PGPNum    *uint32
	Size      *int32
	MinSize   *int32
	CrushRule string
}

// PoolRm removes a pool.
type PoolRm struct{ Pool string }

// PoolSet sets one pool variable: size, min_size, pg_num, pgp_num or
// crush_rule.
type PoolSet struct{ Pool, Key, Value string }

// OSDCreate allocates the lowest free OSD id for an OSD uuid.
type OSDCreate struct{ UUID string }

// OSDBoot marks an OSD up with its addresses and places it under its host in
// CRUSH.
type OSDBoot struct {
	ID                                           int32
	UUID                                         string
	PublicAddr, ClusterAddr, HBBackAddr, HBFront string
	Host, DeviceClass                            string
	CrushWeight                                  float64
}

// OSDMark is "osd down|out|in|rm IDS".
type OSDMark struct {
	Op  string
	IDs []int32
}

// OSDReweight sets an OSD's reweight in [0, 1].
type OSDReweight struct {
	ID     int32
	Weight float64
}

// OSDPrimaryAffinity sets an OSD's primary affinity in [0, 1].
type OSDPrimaryAffinity struct {
	ID       int32
	Affinity float64
}

// CrushAddBucket adds a bucket, optionally linked at a location.
type CrushAddBucket struct {
	Bucket, Type string
	Location     map[string]string
}

// CrushMove moves a bucket to a location.
type CrushMove struct {
	Item     string
	Location map[string]string
}

// CrushReweight sets the CRUSH weight of an item.
type CrushReweight struct {
	Item   string
	Weight float64
}

// CrushRuleCreateReplicated creates a replicated rule.
type CrushRuleCreateReplicated struct{ Rule, Root, FailureDomain, DeviceClass string }

// CrushRuleRm removes a rule no pool uses.
type CrushRuleRm struct{ Rule string }

// SetCrushMap replaces the CRUSH map (crushtool text or Ceph binary).
type SetCrushMap struct{ Data []byte }

// SetFlag sets or unsets a cluster flag.
type SetFlag struct {
	Flag  string
	Unset bool
}

// Name implementations.
func (PoolCreate) Name() string                { return "osd pool create" }
func (PoolRm) Name() string                    { return "osd pool rm" }
func (PoolSet) Name() string                   { return "osd pool set" }
func (OSDCreate) Name() string                 { return "osd create" }
func (OSDBoot) Name() string                   { return "osd boot" }
func (c OSDMark) Name() string                 { return "osd " + c.Op }
func (OSDReweight) Name() string               { return "osd reweight" }
func (OSDPrimaryAffinity) Name() string        { return "osd primary-affinity" }
func (CrushAddBucket) Name() string            { return "osd crush add-bucket" }
func (CrushMove) Name() string                 { return "osd crush move" }
func (CrushReweight) Name() string             { return "osd crush reweight" }
func (CrushRuleCreateReplicated) Name() string { return "osd crush rule create-replicated" }
func (CrushRuleRm) Name() string               { return "osd crush rule rm" }
func (SetCrushMap) Name() string               { return "osd setcrushmap" }
func (c SetFlag) Name() string {
	if c.Unset {
		return "osd unset"
	}
	return "osd set"
}

// Execute applies cmd to m, which the caller owns, and checks that the
// result is a valid map. On error m may be partly modified and must be
// discarded.
func Execute(m *cluster.OSDMap, cmd Command, lim Limits) (Result, error) {
	res, err := execute(m, cmd, lim)
	if err != nil {
		return Result{}, err
	}
	if err := m.Validate(); err != nil {
		return Result{}, errorf(ErrInvalidArgument, "%s would make an invalid map: %v", cmd.Name(), err)
	}
	return res, nil
}

func execute(m *cluster.OSDMap, cmd Command, lim Limits) (Result, error) {
	switch c := cmd.(type) {
	case PoolCreate:
		return poolCreate(m, c, lim)
	case PoolRm:
		return poolRm(m, c)
	case PoolSet:
		return poolSet(m, c, lim)
	case OSDCreate:
		return osdCreate(m, c)
	case OSDBoot:
		return osdBoot(m, c)
	case OSDMark:
		return osdMark(m, c)
	case OSDReweight:
		return osdReweight(m, c.ID, c.Weight, false)
	case OSDPrimaryAffinity:
		return osdReweight(m, c.ID, c.Affinity, true)
	case CrushAddBucket, CrushMove, CrushReweight, CrushRuleCreateReplicated, CrushRuleRm:
		return crushEdit(m, cmd)
	case SetCrushMap:
		return setCrushMap(m, c)
	case SetFlag:
		return setFlag(m, c)
	case OSDMarkFailed:
		return markFailed(m, c)
	case OSDAutoOut:
		return autoOut(m, c)
	}
	return Result{}, errorf(ErrInvalidArgument, "unknown command %T", cmd)
}

// ---- pools ----

func poolCreate(m *cluster.OSDMap, c PoolCreate, lim Limits) (Result, error) {
	if err := cluster.ValidatePoolName(c.Pool); err != nil {
		return Result{}, errorf(ErrInvalidArgument, "%v", err)
	}
	if m.PoolByName(c.Pool) != nil {
		return Result{}, errorf(ErrAlreadyExists, "pool '%s' already exists: pick another name or remove it first", c.Pool)
	}
	rule, err := ruleByName(m, c.CrushRule)
	if err != nil {
		return Result{}, err
	}
	size := deref(c.Size, lim.DefaultSize)
	p := cluster.NewReplicatedPool(m.PoolMax+1, c.Pool, size, rule, c.PGNum)
	p.MinSize = deref(c.MinSize, cluster.DefaultMinSize(size))
	p.PGPNum = deref(c.PGPNum, c.PGNum)
	if err := checkPoolParams(m, p, lim, nil); err != nil {
		return Result{}, err
	}
	m.PoolMax = p.ID
	m.Pools[p.ID] = p
	return Result{Changed: true, Message: fmt.Sprintf("pool '%s' created", c.Pool)}, nil
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// checkPoolParams validates p (new, or the modified copy of old) against the
// map and the PG budget.
func checkPoolParams(m *cluster.OSDMap, p *cluster.Pool, lim Limits, old *cluster.Pool) error {
	if p.Size == 0 {
		return errorf(ErrInvalidArgument, "size 0: a pool needs at least one replica")
	}
	if p.Size == 1 && !lim.AllowSizeOne && (old == nil || old.Size != 1) {
		return errorf(ErrInvalidArgument, "size 1 keeps a single copy; it is disabled on this cluster (monitor flag --allow-pool-size-one)")
	}
	if p.Size < p.MinSize {
		return errorf(ErrInvalidArgument, "size %d < min_size %d: lower min_size first or choose a larger size", p.Size, p.MinSize)
	}
	if err := cluster.ValidatePoolSize(p.Size, p.MinSize); err != nil {
		return errorf(ErrInvalidArgument, "%v", err)
	}
	if err := cluster.ValidatePGNum(p.PGNum, p.PGPNum, 0); err != nil {
		return errorf(ErrInvalidArgument, "%v", err)
	}
	if m.Crush == nil || m.Crush.Rule(int(p.CrushRule)) == nil {
		return errorf(ErrNotFound, "crush rule %d does not exist", p.CrushRule)
	}
	return checkPGBudget(m, p, lim, old)
}

// checkPGBudget refuses a pool that would push the PG replicas per in OSD
// above the configured limit.
func checkPGBudget(m *cluster.OSDMap, p *cluster.Pool, lim Limits, old *cluster.Pool) error {
	if lim.PGPerOSDMax == 0 {
		return nil
	}
	var total uint64
	for _, q := range m.Pools {
		if q.ID != p.ID {
			total += uint64(q.PGNum) * uint64(q.Size)
		}
	}
	total += uint64(p.PGNum) * uint64(p.Size)
	if old != nil && uint64(p.PGNum)*uint64(p.Size) <= uint64(old.PGNum)*uint64(old.Size) {
		return nil // shrinking is always allowed
	}
	in := uint64(0)
	for id := range m.OSDs {
		if m.IsIn(int32(id)) {
			in++
		}
	}
	in = max(in, 3)
	if limit := lim.PGPerOSDMax * in; total > limit {
		return errorf(ErrInvalidArgument, "pg_num %d size %d would make %d PG replicas on %d in OSDs, above the limit of %d per OSD: use a smaller pg_num or add OSDs",
			p.PGNum, p.Size, total, in, lim.PGPerOSDMax)
	}
	return nil
}

func ruleByName(m *cluster.OSDMap, name string) (int32, error) {
	if m.Crush == nil {
		return 0, errorf(ErrFailedPrecondition, "the map has no CRUSH map")
	}
	if name == "" {
		name = "replicated_rule"
	}
	for id, n := range m.Crush.RuleNames {
		if n == name && m.Crush.Rule(int(id)) != nil {
			return id, nil
		}
	}
	if id, err := strconv.Atoi(name); err == nil && m.Crush.Rule(id) != nil {
		return int32(id), nil
	}
	return 0, errorf(ErrNotFound, "crush rule '%s' does not exist: see `radosctl osd crush rule ls`", name)
}

func poolByName(m *cluster.OSDMap, name string) (*cluster.Pool, error) {
	p := m.PoolByName(name)
	if p == nil {
		return nil, errorf(ErrNotFound, "pool '%s' does not exist: see `radosctl osd pool ls`", name)
	}
	return p, nil
}

func poolRm(m *cluster.OSDMap, c PoolRm) (Result, error) {
	p, err := poolByName(m, c.Pool)
	if err != nil {
		return Result{}, err
	}
	delete(m.Pools, p.ID)
	for _, tbl := range []func(func(cluster.PGID) bool){
		func(f func(cluster.PGID) bool) { deleteKeys(m.PGTemp, f) },
		func(f func(cluster.PGID) bool) { deleteKeys(m.PrimaryTemp, f) },
		func(f func(cluster.PGID) bool) { deleteKeys(m.PGUpmap, f) },
		func(f func(cluster.PGID) bool) { deleteKeys(m.PGUpmapItems, f) },
	} {
		tbl(func(pg cluster.PGID) bool { return pg.Pool == p.ID })
	}
	return Result{Changed: true, Message: fmt.Sprintf("pool '%s' removed", c.Pool)}, nil
}

func deleteKeys[V any](mp map[cluster.PGID]V, drop func(cluster.PGID) bool) {
	for k := range mp {
		if drop(k) {
			delete(mp, k)
		}
	}
}

// poolSetKeys lists the variables `osd pool set` accepts.
var poolSetKeys = []string{"size", "min_size", "pg_num", "pgp_num", "crush_rule"}

func poolSet(m *cluster.OSDMap, c PoolSet, lim Limits) (Result, error) {
	old, err := poolByName(m, c.Pool)
	if err != nil {
		return Result{}, err
	}
	p := *old
	if c.Key == "crush_rule" {
		if p.CrushRule, err = ruleByName(m, c.Value); err != nil {
			return Result{}, err
		}
	} else if err := setPoolNumber(&p, c.Key, c.Value); err != nil {
		return Result{}, err
	}
	if err := checkPoolParams(m, &p, lim, old); err != nil {
		return Result{}, err
	}
	if p == *old {
		return Result{Message: fmt.Sprintf("pool '%s' %s is already %s", c.Pool, c.Key, c.Value)}, nil
	}
	m.Pools[p.ID] = &p
	return Result{Changed: true, Message: fmt.Sprintf("set pool %d %s to %s", p.ID, c.Key, c.Value)}, nil
}

func setPoolNumber(p *cluster.Pool, key, value string) error {
	n, err := strconv.ParseUint(value, 10, 31)
	if err != nil {
		if !slices.Contains(poolSetKeys, key) {
			return errorf(ErrInvalidArgument, "unknown pool variable '%s': use one of %s", key, strings.Join(poolSetKeys, ", "))
		}
		return errorf(ErrInvalidArgument, "%s value '%s' is not a non-negative integer", key, value)
	}
	switch key {
	case "size":
		p.Size = int32(n)
	case "min_size":
		p.MinSize = int32(n)
	case "pg_num":
		p.PGNum = uint32(n)
		if p.PGPNum > p.PGNum || p.PGPNum == 0 {
			p.PGPNum = p.PGNum
		}
	case "pgp_num":
		p.PGPNum = uint32(n)
	default:
		return errorf(ErrInvalidArgument, "unknown pool variable '%s': use one of %s", key, strings.Join(poolSetKeys, ", "))
	}
	return nil
}

// ---- OSDs ----

func osdCreate(m *cluster.OSDMap, c OSDCreate) (Result, error) {
	var uuid cluster.UUID
	if c.UUID != "" {
		var err error
		if uuid, err = cluster.ParseUUID(c.UUID); err != nil {
			return Result{}, errorf(ErrInvalidArgument, "%v", err)
		}
		for id := range m.OSDs {
			if m.OSDs[id].Exists && m.OSDs[id].UUID == uuid {
				return Result{OSDID: int32(id), Message: fmt.Sprintf("osd.%d already has uuid %s", id, c.UUID)}, nil
			}
		}
	}
	id := int32(0)
	for id < m.MaxOSD() && m.OSDs[id].Exists {
		id++
	}
	if id >= m.MaxOSD() {
		m.SetMaxOSD(id + 1)
	}
	m.OSDs[id] = cluster.NewOSD()
	m.OSDs[id].UUID = uuid
	return Result{Changed: true, OSDID: id, Message: fmt.Sprintf("created osd.%d", id)}, nil
}

func osdByID(m *cluster.OSDMap, id int32) (*cluster.OSD, error) {
	if !m.Exists(id) {
		return nil, errorf(ErrNotFound, "osd.%d does not exist: see `radosctl osd tree`", id)
	}
	return &m.OSDs[id], nil
}

func osdBoot(m *cluster.OSDMap, c OSDBoot) (Result, error) {
	o, err := osdByID(m, c.ID)
	if err != nil {
		return Result{}, err
	}
	if err := checkBoot(o, c); err != nil {
		return Result{}, err
	}
	if err := placeBootingOSD(m, c); err != nil {
		return Result{}, err
	}
	firstBoot := o.UpFrom == 0
	o.PublicAddr, o.ClusterAddr, o.HeartbeatBack, o.HeartbeatFront = c.PublicAddr, c.ClusterAddr, c.HBBackAddr, c.HBFront
	if c.Host != "" {
		o.Host = c.Host
	}
	if c.DeviceClass != "" {
		o.DeviceClass = c.DeviceClass
	}
	if m.Flags&cluster.FlagNoUp != 0 {
		return Result{Changed: true, Message: fmt.Sprintf("osd.%d stays down: the noup flag is set", c.ID)}, nil
	}
	if !o.Up {
		o.Up, o.UpFrom = true, m.Epoch
	}
	o.UpThru = m.Epoch
	if (firstBoot || o.AutoOut) && m.Flags&cluster.FlagNoIn == 0 {
		// A new OSD, or one the monitors marked out while it was down
		// (mon_osd_auto_mark_new_in, mon_osd_auto_mark_auto_out_in).
		o.Weight, o.AutoOut = cluster.WeightIn, false
	}
	return Result{Changed: true, Message: fmt.Sprintf("osd.%d is up", c.ID)}, nil
}

func checkBoot(o *cluster.OSD, c OSDBoot) error {
	if c.UUID != "" {
		u, err := cluster.ParseUUID(c.UUID)
		if err != nil {
			return errorf(ErrInvalidArgument, "%v", err)
		}
		if !o.UUID.IsZero() && u != o.UUID {
			return errorf(ErrFailedPrecondition, "osd.%d has uuid %s, the booting daemon has %s: wrong data dir?", c.ID, o.UUID, u)
		}
		o.UUID = u
	}
	if c.PublicAddr == "" {
		return errorf(ErrInvalidArgument, "osd.%d boots without a public address", c.ID)
	}
	for _, f := range [][2]string{{"public address", c.PublicAddr}, {"cluster address", c.ClusterAddr},
		{"heartbeat back address", c.HBBackAddr}, {"heartbeat front address", c.HBFront},
		{"host", c.Host}, {"device class", c.DeviceClass}} {
		if len(f[1]) > bootFieldMax || !utf8.ValidString(f[1]) || strings.ContainsAny(f[1], " \t\n") {
			return errorf(ErrInvalidArgument, "osd.%d %s %q must be UTF-8 without spaces, at most %d bytes", c.ID, f[0], f[1], bootFieldMax)
		}
	}
	if c.CrushWeight < 0 || c.CrushWeight > 100 || math.IsNaN(c.CrushWeight) {
		return errorf(ErrInvalidArgument, "crush weight %v is outside 0..100", c.CrushWeight)
	}
	return nil
}

// placeBootingOSD puts the OSD under its host in CRUSH (creating the host
// under root default), as Ceph's crush create-or-move on boot.
func placeBootingOSD(m *cluster.OSDMap, c OSDBoot) error {
	name := fmt.Sprintf("osd.%d", c.ID)
	_, inCrush := crushItemID(m.Crush, name)
	if inCrush && c.Host == "" {
		return nil
	}
	if c.Host == "" {
		return errorf(ErrInvalidArgument, "osd.%d boots without a host: pass the host name so CRUSH can place it", c.ID)
	}
	if inCrush && c.CrushWeight == 0 && m.OSDs[c.ID].Host == c.Host {
		return nil
	}
	return editCrush(m, func(cm crushBuilder) error {
		if !inCrush {
			if err := cm.AddDevice(c.ID, name, c.DeviceClass); err != nil {
				return err
			}
		}
		w := c.CrushWeight
		if w == 0 {
			w = 1
		}
		return cm.LinkDevice(c.ID, crushWeight(w), map[string]string{"host": c.Host, "root": "default"})
	})
}

// bootFieldMax bounds each text field an OSD reports at boot.
const bootFieldMax = 255

func crushWeight(w float64) uint32 { return uint32(w * float64(crush.WeightOne)) }

func osdMark(m *cluster.OSDMap, c OSDMark) (Result, error) {
	if len(c.IDs) == 0 {
		return Result{}, errorf(ErrInvalidArgument, "osd %s needs at least one OSD id", c.Op)
	}
	var res Result
	var msgs []string
	for _, id := range c.IDs {
		o, err := osdByID(m, id)
		if err != nil {
			return Result{}, err
		}
		changed, msg, err := markOne(m, o, id, c.Op)
		if err != nil {
			return Result{}, err
		}
		res.Changed = res.Changed || changed
		msgs = append(msgs, msg)
	}
	res.Message = strings.Join(msgs, "; ")
	return res, nil
}

func markOne(m *cluster.OSDMap, o *cluster.OSD, id int32, op string) (bool, string, error) {
	switch op {
	case "down":
		if !o.Up {
			return false, fmt.Sprintf("osd.%d is already down", id), nil
		}
		o.Up, o.DownAt = false, m.Epoch
		return true, fmt.Sprintf("marked down osd.%d", id), nil
	case "out":
		if !o.In() {
			changed := o.AutoOut // now the operator's out
			o.AutoOut = false
			return changed, fmt.Sprintf("osd.%d is already out", id), nil
		}
		o.Weight = cluster.WeightOut
		return true, fmt.Sprintf("marked out osd.%d", id), nil
	case "in":
		if o.Weight == cluster.WeightIn {
			return false, fmt.Sprintf("osd.%d is already in", id), nil
		}
		o.Weight, o.AutoOut = cluster.WeightIn, false
		return true, fmt.Sprintf("marked in osd.%d", id), nil
	case "rm":
		return removeOSD(m, o, id)
	}
	return false, "", errorf(ErrInvalidArgument, "unknown osd operation %q: use down, out, in or rm", op)
}

func removeOSD(m *cluster.OSDMap, o *cluster.OSD, id int32) (bool, string, error) {
	if o.Up {
		return false, "", errorf(ErrFailedPrecondition, "osd.%d is still up: stop it and mark it down first", id)
	}
	name := fmt.Sprintf("osd.%d", id)
	if _, ok := crushItemID(m.Crush, name); ok {
		if err := editCrush(m, func(cm crushBuilder) error { return cm.RemoveItem(name) }); err != nil {
			return false, "", err
		}
	}
	*o = cluster.OSD{}
	return true, fmt.Sprintf("removed osd.%d", id), nil
}

func osdReweight(m *cluster.OSDMap, id int32, w float64, affinity bool) (Result, error) {
	o, err := osdByID(m, id)
	if err != nil {
		return Result{}, err
	}
	what := "reweight"
	if affinity {
		what = "primary-affinity"
	}
	if !(w >= 0 && w <= 1) {
		return Result{}, errorf(ErrInvalidArgument, "%s %v of osd.%d is outside 0..1", what, w, id)
	}
	v := uint32(w * float64(cluster.WeightIn))
	field := &o.Weight
	if affinity {
		field = &o.PrimaryAffinity
	}
	if *field == v {
		return Result{Message: fmt.Sprintf("osd.%d %s is already %v", id, what, w)}, nil
	}
	*field = v
	return Result{Changed: true, Message: fmt.Sprintf("%s osd.%d to %v (%#x)", what, id, w, v)}, nil
}

// ---- CRUSH ----

// editCrush applies fn to a private copy of the CRUSH map and attaches the
// result; the map's own CRUSH map is never mutated (others may share it).
func editCrush(m *cluster.OSDMap, fn func(crushBuilder) error) error {
	if m.Crush == nil {
		return errorf(ErrFailedPrecondition, "the map has no CRUSH map")
	}
	cm, err := crush.Decode(m.CrushBlob)
	if err != nil {
		return fmt.Errorf("copy crush map: %w", err)
	}
	if err := fn(cm); err != nil {
		var ke *kindError
		if errors.As(err, &ke) {
			return err
		}
		return classifyCrushError(err)
	}
	m.SetCrush(cm)
	return nil
}

// classifyCrushError maps the builder's errors onto the monitor's kinds.
func classifyCrushError(err error) error {
	switch {
	case errors.Is(err, crush.ErrNotFound):
		return errorf(ErrNotFound, "%v", err)
	case errors.Is(err, crush.ErrExists):
		return errorf(ErrAlreadyExists, "%v", err)
	}
	return errorf(ErrInvalidArgument, "%v", err)
}

// formatLocation prints a CRUSH location as sorted TYPE=NAME pairs.
func formatLocation(loc map[string]string) string {
	parts := make([]string, 0, len(loc))
	for k, v := range loc {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func crushEdit(m *cluster.OSDMap, cmd Command) (Result, error) {
	if c, ok := cmd.(CrushRuleRm); ok {
		if err := checkRuleUnused(m, c.Rule); err != nil {
			return Result{}, err
		}
	}
	var msg string
	err := editCrush(m, func(cm crushBuilder) error {
		var err error
		msg, err = crushEditOne(m, cm, cmd)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Changed: true, Message: msg}, nil
}

func crushEditOne(m *cluster.OSDMap, cm crushBuilder, cmd Command) (string, error) {
	switch c := cmd.(type) {
	case CrushAddBucket:
		if _, err := cm.AddBucket(c.Bucket, c.Type); err != nil {
			return "", err
		}
		if len(c.Location) > 0 {
			return fmt.Sprintf("added bucket %s type %s to location %s", c.Bucket, c.Type, formatLocation(c.Location)), cm.MoveItem(c.Bucket, c.Location)
		}
		return fmt.Sprintf("added bucket %s type %s to crush map", c.Bucket, c.Type), nil
	case CrushMove:
		return fmt.Sprintf("moved item %s to location %s", c.Item, formatLocation(c.Location)), cm.MoveItem(c.Item, c.Location)
	case CrushReweight:
		if !(c.Weight >= 0 && c.Weight <= 100) {
			return "", fmt.Errorf("crush weight %v is outside 0..100", c.Weight)
		}
		return fmt.Sprintf("reweighted item %s to %v in crush map", c.Item, c.Weight), cm.ReweightItem(c.Item, crushWeight(c.Weight))
	case CrushRuleCreateReplicated:
		_, err := cm.CreateReplicatedRule(c.Rule, c.Root, c.FailureDomain, c.DeviceClass)
		return fmt.Sprintf("created rule %s", c.Rule), err
	case CrushRuleRm:
		return crushRuleRm(m, cm, c.Rule)
	}
	return "", fmt.Errorf("unknown crush command %T", cmd)
}

func crushRuleRm(m *cluster.OSDMap, cm crushBuilder, name string) (string, error) {
	if err := checkRuleUnused(m, name); err != nil {
		return "", err
	}
	return fmt.Sprintf("removed rule %s", name), cm.RemoveRule(name)
}

// checkRuleUnused refuses to remove a rule that is missing or in use.
func checkRuleUnused(m *cluster.OSDMap, name string) error {
	id, err := ruleByName(m, name)
	if err != nil {
		return err
	}
	for _, p := range m.Pools {
		if p.CrushRule == id {
			return errorf(ErrFailedPrecondition, "crush rule %s is used by pool '%s': change the pool's crush_rule first", name, p.Name)
		}
	}
	return nil
}

func setCrushMap(m *cluster.OSDMap, c SetCrushMap) (Result, error) {
	if len(c.Data) == 0 {
		return Result{}, errorf(ErrInvalidArgument, "empty CRUSH map")
	}
	cm, err := crush.Load(c.Data)
	if err != nil {
		return Result{}, errorf(ErrInvalidArgument, "the CRUSH map does not compile or decode: %v", err)
	}
	for _, p := range m.Pools {
		if cm.Rule(int(p.CrushRule)) == nil {
			return Result{}, errorf(ErrInvalidArgument, "the new CRUSH map lacks rule %d used by pool '%s'", p.CrushRule, p.Name)
		}
	}
	m.SetCrush(cm)
	return Result{Changed: true, Message: "set crush map"}, nil
}

func setFlag(m *cluster.OSDMap, c SetFlag) (Result, error) {
	f, err := cluster.ParseFlag(c.Flag)
	if err != nil {
		return Result{}, errorf(ErrInvalidArgument, "%v", err)
	}
	next := m.Flags | f
	verb := "set"
	if c.Unset {
		next, verb = m.Flags&^f, "unset"
	}
	if next == m.Flags {
		return Result{Message: fmt.Sprintf("%s is already %s", c.Flag, verb)}, nil
	}
	m.Flags = next
	return Result{Changed: true, Message: fmt.Sprintf("%s %s", c.Flag, verb)}, nil
}
