package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
)

// TreeNode is one line of `osd tree`.
type TreeNode struct {
	ID              int32   `json:"id"`
	DeviceClass     string  `json:"device_class,omitempty"`
	Name            string  `json:"name"`
	Type            string  `json:"type"`
	TypeID          int32   `json:"type_id"`
	CrushWeight     float64 `json:"crush_weight"`
	Depth           int     `json:"depth"`
	Children        []int32 `json:"children,omitempty"`
	Status          string  `json:"status,omitempty"`
	Reweight        float64 `json:"reweight,omitempty"`
	PrimaryAffinity float64 `json:"primary_affinity,omitempty"`
}

// Tree is `osd tree`: the CRUSH hierarchy (shadow trees hidden) in
// depth-first order, then the OSDs CRUSH does not place ("stray").
type Tree struct {
	Nodes []TreeNode `json:"nodes"`
	Stray []TreeNode `json:"stray"`
}

// BuildTree walks m's CRUSH hierarchy from its roots.
func BuildTree(m *cluster.OSDMap) *Tree {
	t := &Tree{Nodes: []TreeNode{}, Stray: []TreeNode{}}
	cm := m.Crush
	seen := map[int32]bool{}
	if cm != nil {
		for _, root := range roots(cm) {
			t.walk(m, cm, root, 0, 0x10000, seen)
		}
	}
	for id := range m.OSDs {
		if m.Exists(int32(id)) && !seen[int32(id)] {
			n := osdNode(m, cm, int32(id), 0, 0)
			t.Stray = append(t.Stray, n)
		}
	}
	return t
}

// roots returns the non-shadow buckets that are no bucket's item, highest
// id first (the order Ceph prints: -1 before -2).
func roots(cm *crush.Map) []int32 {
	child := map[int32]bool{}
	for _, b := range cm.Buckets {
		if b != nil {
			for _, it := range b.Items {
				child[it] = true
			}
		}
	}
	var out []int32
	for _, b := range cm.Buckets {
		if b != nil && !child[b.ID] && !strings.Contains(cm.Names[b.ID], "~") {
			out = append(out, b.ID)
		}
	}
	slices.SortFunc(out, func(a, b int32) int { return int(b) - int(a) })
	return out
}

func (t *Tree) walk(m *cluster.OSDMap, cm *crush.Map, id int32, depth int, weight uint32, seen map[int32]bool) {
	if id >= 0 {
		seen[id] = true
		t.Nodes = append(t.Nodes, osdNode(m, cm, id, depth, weight))
		return
	}
	b := cm.Bucket(id)
	if b == nil || depth > 32 {
		return
	}
	t.Nodes = append(t.Nodes, TreeNode{ID: id, Name: cm.Names[id], Type: cm.TypeNames[int32(b.Type)],
		TypeID: int32(b.Type), CrushWeight: w16(b.Weight), Depth: depth, Children: slices.Clone(b.Items)})
	for j, it := range b.Items {
		t.walk(m, cm, it, depth+1, b.ItemWeights[j], seen)
	}
}

func osdNode(m *cluster.OSDMap, cm *crush.Map, id int32, depth int, weight uint32) TreeNode {
	n := TreeNode{ID: id, Name: fmt.Sprintf("osd.%d", id), Type: "osd", CrushWeight: w16(weight), Depth: depth}
	if cm != nil {
		if c, ok := cm.ClassMap[id]; ok {
			n.DeviceClass = cm.ClassNames[c]
		}
		if name, ok := cm.Names[id]; ok {
			n.Name = name
		}
	}
	if !m.Exists(id) {
		n.Status = "DNE"
		return n
	}
	o := &m.OSDs[id]
	n.Status = "down"
	if o.Up {
		n.Status = "up"
	}
	n.Reweight, n.PrimaryAffinity = w16(o.Weight), w16(o.PrimaryAffinity)
	return n
}

func w16(v uint32) float64 { return float64(v) / 0x10000 }

// f5 prints a weight as Ceph's osd tree does: five decimals, and a bare 0
// for zero (an out OSD's reweight, a stray OSD's CRUSH weight).
func f5(v float64) string {
	if v < 0.000001 {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', 5, 64)
}

// WriteTree prints the tree with Ceph's columns: ID CLASS WEIGHT TYPE NAME
// STATUS REWEIGHT PRI-AFF.
func WriteTree(w io.Writer, t *Tree) error {
	tb := newTable("ID", "CLASS", "WEIGHT", "<TYPE NAME", "STATUS", "REWEIGHT", "PRI-AFF")
	for _, n := range append(slices.Clone(t.Nodes), t.Stray...) {
		indent := strings.Repeat("    ", n.Depth)
		if n.ID < 0 {
			tb.add(strconv.Itoa(int(n.ID)), "", f5(n.CrushWeight), indent+n.Type+" "+n.Name, "", "", "")
			continue
		}
		rw, pa := "", ""
		if n.Status != "DNE" {
			rw, pa = f5(n.Reweight), f5(n.PrimaryAffinity)
		}
		tb.add(strconv.Itoa(int(n.ID)), n.DeviceClass, f5(n.CrushWeight), indent+n.Name, n.Status, rw, pa)
	}
	return tb.write(w)
}
