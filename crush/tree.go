package crush

// This file prints the hierarchy as the table of `crushtool --tree`. The
// format is not in the specifications; it was taken from crushtool 16.2's
// observed output (see testdata/formats/*.tree):
//
//   - one tree per root (a bucket no bucket lists, shadows included), roots
//     in ascending id order;
//   - children of a bucket ordered by a key, bucket children first: "_" +
//     name for a bucket, "<class>_osd.%08d" for a device; an item listed
//     twice appears once, with its first weight;
//   - columns ID, CLASS, WEIGHT, one column per choose_args set (the weight
//     of the item in position 0 of its parent's weight set), TYPE NAME;
//     headers are left-aligned, cells right-aligned except TYPE NAME, and
//     columns are separated by two spaces and padded to their widest cell;
//   - weights are float32 quotients by 65536 printed with five decimals,
//     "0" below 0.000001 and "-" below -0.01; a root shows its bucket weight,
//     any other row the (signed) weight its parent gives it;
//   - devices are always named osd.<id>; buckets "<type> <name>", indented
//     four spaces per level.

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// treeRowsMax bounds the rows of a tree. Buckets shared by several parents
// are printed under each of them, so a hostile map whose levels share their
// children would otherwise print exponentially many rows; real maps have a
// few rows per device.
const treeRowsMax = 1 << 20

// WriteTree prints the map as `crushtool --tree` does, byte for byte.
func (m *Map) WriteTree(w io.Writer) error {
	t := &treeTable{m: m}
	t.sets = make([]int64, 0, len(m.ChooseArgs))
	for id := range m.ChooseArgs {
		t.sets = append(t.sets, id)
	}
	sort.Slice(t.sets, func(i, j int) bool { return t.sets[i] < t.sets[j] })
	for _, root := range rootBuckets(m) {
		t.visit(root, nil, -1, 0, map[int32]bool{})
	}
	if len(t.rows) > treeRowsMax {
		return fmt.Errorf("%w: the tree has more than %d rows because buckets are shared by many parents; use the JSON dump instead",
			ErrInvalid, treeRowsMax)
	}
	return t.write(w)
}

type treeTable struct {
	m    *Map
	sets []int64
	rows [][]string
}

// treeChild is one row below a bucket.
type treeChild struct {
	key    string
	id     int32
	weight uint32
	index  int // position in the parent, for weight sets
}

// visit adds the row of item id (a child of parent at index, or a root when
// parent is nil) and then its children. path guards against cycles, which
// decoded maps cannot have but hand-built ones might.
func (t *treeTable) visit(id int32, parent *Bucket, index, depth int, path map[int32]bool) {
	if len(t.rows) > treeRowsMax {
		return
	}
	weight := "" // roots show their unsigned bucket weight
	if parent == nil {
		weight = treeWeight(float32(t.m.Bucket(id).Weight) / 65536)
	} else {
		weight = treeWeight(float32(int32(parent.ItemWeight(index))) / 65536)
	}
	row := []string{strconv.Itoa(int(id)), t.className(id), weight}
	for _, set := range t.sets {
		row = append(row, t.setWeight(set, parent, index))
	}
	indent := strings.Repeat(" ", 4*depth)
	b := t.m.Bucket(id)
	if id >= 0 || b == nil {
		t.rows = append(t.rows, append(row, indent+fmt.Sprintf("osd.%d", id)))
		return
	}
	label := strings.TrimSpace(t.m.TypeNames[int32(b.Type)] + " " + t.m.Names[id])
	t.rows = append(t.rows, append(row, indent+label))
	if path[id] {
		return
	}
	path[id] = true
	for _, c := range t.children(b) {
		t.visit(c.id, b, c.index, depth+1, path)
	}
	delete(path, id)
}

// children returns a bucket's items in crushtool's order, without repeats.
func (t *treeTable) children(b *Bucket) []treeChild {
	seen := map[string]bool{}
	var out []treeChild
	for j, it := range b.Items {
		key := "_" + t.m.Names[it]
		if it >= 0 {
			key = fmt.Sprintf("%s_osd.%08d", t.className(it), it)
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, treeChild{key: key, id: it, index: j})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

func (t *treeTable) className(id int32) string {
	name, _ := t.m.deviceClass(id)
	return name
}

// setWeight is the weight an item has in position 0 of its parent's entry
// of a choose_args set, or "" when there is none.
func (t *treeTable) setWeight(set int64, parent *Bucket, index int) string {
	if parent == nil {
		return ""
	}
	args := t.m.ChooseArgs[set]
	slot := -1 - int64(parent.ID)
	if slot >= int64(len(args)) || len(args[slot].WeightSet) == 0 || index >= len(args[slot].WeightSet[0]) {
		return ""
	}
	return treeWeight(float32(args[slot].WeightSet[0][index]) / 65536)
}

// treeWeight formats a weight for the tree: five decimals, "0" for (almost)
// nothing and "-" for negative weights.
func treeWeight(v float32) string {
	switch {
	case v < -0.01:
		return "-"
	case v < 0.000001:
		return "0"
	}
	return strconv.FormatFloat(float64(v), 'f', 5, 64)
}

func (t *treeTable) header() []string {
	h := []string{"ID", "CLASS", "WEIGHT"}
	for _, set := range t.sets {
		if set == DefaultChooseArgs {
			h = append(h, "(compat)")
		} else {
			h = append(h, strconv.FormatInt(set, 10))
		}
	}
	return append(h, "TYPE NAME")
}

// write prints the header and rows with crushtool's column layout.
func (t *treeTable) write(w io.Writer) error {
	header := t.header()
	widths := make([]int, len(header))
	for c, h := range header {
		widths[c] = len(h)
		for _, r := range t.rows {
			widths[c] = max(widths[c], len(r[c]))
		}
	}
	var sb strings.Builder
	last := len(header) - 1
	line := func(cells []string, isHeader bool) {
		for c, cell := range cells {
			pad := strings.Repeat(" ", widths[c]-len(cell))
			if isHeader || c == last {
				sb.WriteString(cell + pad)
			} else {
				sb.WriteString(pad + cell)
			}
			if c < last {
				sb.WriteString("  ")
			}
		}
		sb.WriteString("\n")
	}
	line(header, true)
	for _, r := range t.rows {
		line(r, false)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
