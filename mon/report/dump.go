package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
)

// PoolInfo is one pool in `osd dump` and `osd pool ls detail`.
type PoolInfo struct {
	ID         int64  `json:"pool"`
	Name       string `json:"pool_name"`
	Type       string `json:"type"`
	Size       int32  `json:"size"`
	MinSize    int32  `json:"min_size"`
	CrushRule  int32  `json:"crush_rule"`
	RuleName   string `json:"crush_rule_name"`
	ObjectHash string `json:"object_hash"`
	PGNum      uint32 `json:"pg_num"`
	PGPNum     uint32 `json:"pgp_num"`
	Flags      string `json:"flags_names"`
}

// OSDInfo is one OSD in `osd dump`.
type OSDInfo struct {
	ID                int32   `json:"osd"`
	UUID              string  `json:"uuid"`
	Up                bool    `json:"up"`
	In                bool    `json:"in"`
	Weight            float64 `json:"weight"`
	PrimaryAffinity   float64 `json:"primary_affinity"`
	UpFrom            uint32  `json:"up_from"`
	UpThru            uint32  `json:"up_thru"`
	DownAt            uint32  `json:"down_at"`
	LastCleanBegin    uint32  `json:"last_clean_begin"`
	LastCleanEnd      uint32  `json:"last_clean_end"`
	PublicAddr        string  `json:"public_addr"`
	ClusterAddr       string  `json:"cluster_addr"`
	HeartbeatBackAddr string  `json:"heartbeat_back_addr"`
	HeartbeatFront    string  `json:"heartbeat_front_addr"`
	Host              string  `json:"host"`
	DeviceClass       string  `json:"device_class"`
	// AutoOut: the monitors marked it out after it stayed down.
	AutoOut bool `json:"autoout"`
}

// Dump is `osd dump`.
type Dump struct {
	Epoch             uint32             `json:"epoch"`
	FSID              string             `json:"fsid"`
	Created           string             `json:"created"`
	Modified          string             `json:"modified"`
	Flags             string             `json:"flags"`
	FullRatio         float32            `json:"full_ratio"`
	BackfillFullRatio float32            `json:"backfillfull_ratio"`
	NearFullRatio     float32            `json:"nearfull_ratio"`
	PoolMax           int64              `json:"pool_max"`
	MaxOSD            int32              `json:"max_osd"`
	Pools             []PoolInfo         `json:"pools"`
	OSDs              []OSDInfo          `json:"osds"`
	PGTemp            map[string][]int32 `json:"pg_temp"`
	PrimaryTemp       map[string]int32   `json:"primary_temp"`
}

// BuildPool describes one pool.
func BuildPool(m *cluster.OSDMap, p *cluster.Pool) PoolInfo {
	pi := PoolInfo{ID: p.ID, Name: p.Name, Type: p.Type.String(), Size: p.Size, MinSize: p.MinSize,
		CrushRule: p.CrushRule, ObjectHash: p.ObjectHash.String(), PGNum: p.PGNum, PGPNum: p.PGPNum}
	if m.Crush != nil {
		pi.RuleName = m.Crush.RuleNames[p.CrushRule]
	}
	var flags []string
	if p.Flags&cluster.PoolFlagHashPSPool != 0 {
		flags = append(flags, "hashpspool")
	}
	if p.Flags&cluster.PoolFlagFull != 0 {
		flags = append(flags, "full")
	}
	pi.Flags = strings.Join(flags, ",")
	return pi
}

// BuildDump describes the whole map.
func BuildDump(m *cluster.OSDMap) *Dump {
	d := &Dump{Epoch: uint32(m.Epoch), FSID: m.FSID.String(), Created: stamp(m.Created), Modified: stamp(m.Modified),
		Flags: m.Flags.String(), FullRatio: m.FullRatio, BackfillFullRatio: m.BackfillFullRatio,
		NearFullRatio: m.NearFullRatio, PoolMax: m.PoolMax, MaxOSD: m.MaxOSD(),
		Pools: []PoolInfo{}, OSDs: []OSDInfo{}, PGTemp: map[string][]int32{}, PrimaryTemp: map[string]int32{}}
	for _, p := range sortedPools(m) {
		d.Pools = append(d.Pools, BuildPool(m, p))
	}
	for id := range m.OSDs {
		if !m.Exists(int32(id)) {
			continue
		}
		o := &m.OSDs[id]
		d.OSDs = append(d.OSDs, OSDInfo{ID: int32(id), UUID: o.UUID.String(), Up: o.Up, In: o.In(),
			Weight: w16(o.Weight), PrimaryAffinity: w16(o.PrimaryAffinity), UpFrom: uint32(o.UpFrom),
			UpThru: uint32(o.UpThru), DownAt: uint32(o.DownAt), LastCleanBegin: uint32(o.LastCleanBegin),
			LastCleanEnd: uint32(o.LastCleanEnd), PublicAddr: o.PublicAddr, ClusterAddr: o.ClusterAddr,
			HeartbeatBackAddr: o.HeartbeatBack, HeartbeatFront: o.HeartbeatFront, Host: o.Host, DeviceClass: o.DeviceClass, AutoOut: o.AutoOut})
	}
	for pg, osds := range m.PGTemp {
		d.PGTemp[pg.String()] = osds
	}
	for pg, osd := range m.PrimaryTemp {
		d.PrimaryTemp[pg.String()] = osd
	}
	return d
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// PoolLine is a pool as one `osd dump` line.
func PoolLine(p PoolInfo) string {
	return fmt.Sprintf("pool %d '%s' %s size %d min_size %d crush_rule %d object_hash %s pg_num %d pgp_num %d flags %s",
		p.ID, p.Name, p.Type, p.Size, p.MinSize, p.CrushRule, p.ObjectHash, p.PGNum, p.PGPNum, p.Flags)
}

// WriteDump prints the map like `ceph osd dump`.
func WriteDump(w io.Writer, d *Dump) error {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d\nfsid %s\ncreated %s\nmodified %s\nflags %s\n", d.Epoch, d.FSID, d.Created, d.Modified, d.Flags)
	fmt.Fprintf(&b, "full_ratio %g\nbackfillfull_ratio %g\nnearfull_ratio %g\npool_max %d\n", d.FullRatio, d.BackfillFullRatio, d.NearFullRatio, d.PoolMax)
	for _, p := range d.Pools {
		b.WriteString("\n" + PoolLine(p) + "\n")
	}
	fmt.Fprintf(&b, "\nmax_osd %d\n", d.MaxOSD)
	for _, o := range d.OSDs {
		fmt.Fprintf(&b, "osd.%d %s %s weight %g primary_affinity %g up_from %d up_thru %d down_at %d last_clean_interval [%d,%d) public %s cluster %s hb_back %s hb_front %s host %s class %s %s",
			o.ID, upDown(o.Up), inOut(o.In), o.Weight, o.PrimaryAffinity, o.UpFrom, o.UpThru, o.DownAt,
			o.LastCleanBegin, o.LastCleanEnd, dash(o.PublicAddr), dash(o.ClusterAddr), dash(o.HeartbeatBackAddr),
			dash(o.HeartbeatFront), dash(o.Host), dash(o.DeviceClass), o.UUID)
		if o.AutoOut {
			b.WriteString(" autoout") // marked out by the monitors after it stayed down; in again when it boots
		}
		b.WriteString("\n")
	}
	for _, pg := range sortedKeys(d.PGTemp) {
		fmt.Fprintf(&b, "pg_temp %s %v\n", pg, d.PGTemp[pg])
	}
	for _, pg := range sortedKeys(d.PrimaryTemp) {
		fmt.Fprintf(&b, "primary_temp %s %d\n", pg, d.PrimaryTemp[pg])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sortedKeys[V any](mp map[string]V) []string {
	ks := make([]string, 0, len(mp))
	for k := range mp {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func upDown(up bool) string {
	if up {
		return "up  "
	}
	return "down"
}

func inOut(in bool) string {
	if in {
		return "in "
	}
	return "out"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// PoolGet returns the value of one pool variable, or every variable for
// key "all", as "key: value" pairs in Ceph's order.
func PoolGet(m *cluster.OSDMap, p *cluster.Pool, key string) ([][2]string, error) {
	pi := BuildPool(m, p)
	all := [][2]string{
		{"size", fmt.Sprint(pi.Size)}, {"min_size", fmt.Sprint(pi.MinSize)},
		{"pg_num", fmt.Sprint(pi.PGNum)}, {"pgp_num", fmt.Sprint(pi.PGPNum)},
		{"crush_rule", pi.RuleName}, {"hashpspool", fmt.Sprint(p.Flags&cluster.PoolFlagHashPSPool != 0)},
		{"object_hash", pi.ObjectHash},
	}
	if key == "all" {
		return all, nil
	}
	for _, kv := range all {
		if kv[0] == key {
			return [][2]string{kv}, nil
		}
	}
	var keys []string
	for _, kv := range all {
		keys = append(keys, kv[0])
	}
	return nil, fmt.Errorf("unknown pool variable %q: use all or one of %s", key, strings.Join(keys, ", "))
}

// RuleStep is one step in `osd crush rule dump`.
type RuleStep struct {
	Op       string `json:"op"`
	Item     *int32 `json:"item,omitempty"`
	ItemName string `json:"item_name,omitempty"`
	Num      *int32 `json:"num,omitempty"`
	Type     string `json:"type,omitempty"`
}

// RuleInfo is one rule in `osd crush rule dump`.
type RuleInfo struct {
	ID    int32      `json:"rule_id"`
	Name  string     `json:"rule_name"`
	Type  int        `json:"type"`
	Steps []RuleStep `json:"steps"`
}

var stepOps = map[crush.Op]string{
	crush.OpNoop: "noop", crush.OpTake: "take", crush.OpChooseFirstN: "choose_firstn",
	crush.OpChooseIndep: "choose_indep", crush.OpEmit: "emit", crush.OpChooseLeafFirstN: "chooseleaf_firstn",
	crush.OpChooseLeafIndep: "chooseleaf_indep", crush.OpSetChooseTries: "set_choose_tries",
	crush.OpSetChooseLeafTries: "set_chooseleaf_tries", crush.OpSetChooseLocalTries: "set_choose_local_tries",
	crush.OpSetChooseLocalFallbackTries: "set_choose_local_fallback_tries",
	crush.OpSetChooseLeafVaryR:          "set_chooseleaf_vary_r", crush.OpSetChooseLeafStable: "set_chooseleaf_stable",
}

// BuildRules describes the CRUSH rules in id order.
func BuildRules(cm *crush.Map) []RuleInfo {
	out := []RuleInfo{}
	if cm == nil {
		return out
	}
	for id, r := range cm.Rules {
		if r == nil {
			continue
		}
		ri := RuleInfo{ID: int32(id), Name: cm.RuleNames[int32(id)], Type: int(r.Type), Steps: []RuleStep{}}
		for _, s := range r.Steps {
			ri.Steps = append(ri.Steps, ruleStep(cm, s))
		}
		out = append(out, ri)
	}
	return out
}

func ruleStep(cm *crush.Map, s crush.Step) RuleStep {
	st := RuleStep{Op: stepOps[s.Op]}
	if st.Op == "" {
		st.Op = fmt.Sprintf("op%d", s.Op)
	}
	switch s.Op {
	case crush.OpTake:
		st.Item, st.ItemName = new(s.Arg1), cm.Names[s.Arg1]
	case crush.OpChooseFirstN, crush.OpChooseIndep, crush.OpChooseLeafFirstN, crush.OpChooseLeafIndep:
		st.Num, st.Type = new(s.Arg1), cm.TypeNames[s.Arg2]
	case crush.OpEmit, crush.OpNoop:
	default:
		st.Num = new(s.Arg1)
	}
	return st
}
