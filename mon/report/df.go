package report

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/gorados/gorados/client/pgstats"
	"github.com/gorados/gorados/cluster"
)

// DFRow is one OSD of `osd df`.
type DFRow struct {
	ID          int32   `json:"id"`
	DeviceClass string  `json:"device_class"`
	Name        string  `json:"name"`
	CrushWeight float64 `json:"crush_weight"`
	Reweight    float64 `json:"reweight"`
	// KB figures as Ceph's JSON has them; Reported is false when the OSD
	// did not answer (its figures are zero).
	KB          uint64  `json:"kb"`
	KBUsed      uint64  `json:"kb_used"`
	KBUsedData  uint64  `json:"kb_used_data"`
	KBAvail     uint64  `json:"kb_avail"`
	Utilization float64 `json:"utilization"`
	Var         float64 `json:"var"`
	PGs         int     `json:"pgs"`
	Status      string  `json:"status"`
	Reported    bool    `json:"reported"`
}

// DF is `osd df` (Ceph's `ceph osd df`).
type DF struct {
	Nodes   []DFRow `json:"nodes"`
	Summary struct {
		KB          uint64  `json:"total_kb"`
		KBUsed      uint64  `json:"total_kb_used"`
		KBUsedData  uint64  `json:"total_kb_used_data"`
		KBAvail     uint64  `json:"total_kb_avail"`
		Utilization float64 `json:"average_utilization"`
		MinVar      float64 `json:"min_var"`
		MaxVar      float64 `json:"max_var"`
		Dev         float64 `json:"dev"`
	} `json:"summary"`
}

// BuildDF joins the map's OSDs (CRUSH order, as osd tree) with the space
// their daemons reported. %USE is the store's files over the file system
// size; VAR is an OSD's %USE over the average of those that reported.
func BuildDF(m *cluster.OSDMap, r *pgstats.Report) *DF {
	byID := map[int32]pgstats.OSD{}
	for _, o := range r.OSDs {
		byID[o.ID] = o
	}
	t := BuildTree(m)
	d := &DF{Nodes: []DFRow{}}
	for _, n := range append(t.Nodes, t.Stray...) {
		if n.Type != "osd" || n.Status == "DNE" {
			continue
		}
		o := byID[n.ID]
		row := DFRow{ID: n.ID, DeviceClass: n.DeviceClass, Name: n.Name, CrushWeight: n.CrushWeight,
			Reweight: n.Reweight, PGs: o.PGs, Status: n.Status}
		if u := o.Usage; u != nil && u.FSBytes > 0 {
			row.Reported = true
			row.KB, row.KBUsed, row.KBUsedData, row.KBAvail = u.FSBytes>>10, u.StoreBytes>>10, u.DataBytes>>10, u.FSAvailBytes>>10
			row.Utilization = 100 * float64(u.StoreBytes) / float64(u.FSBytes)
		}
		d.Nodes = append(d.Nodes, row)
	}
	d.summarize()
	return d
}

// summarize fills the totals, each OSD's VAR and the spread of %USE.
func (d *DF) summarize() {
	s := &d.Summary
	var n int
	var sum, sumSq float64
	for _, r := range d.Nodes {
		if !r.Reported {
			continue
		}
		s.KB, s.KBUsed, s.KBUsedData, s.KBAvail = s.KB+r.KB, s.KBUsed+r.KBUsed, s.KBUsedData+r.KBUsedData, s.KBAvail+r.KBAvail
		n++
		sum += r.Utilization
		sumSq += r.Utilization * r.Utilization
	}
	if s.KB > 0 {
		s.Utilization = 100 * float64(s.KBUsed) / float64(s.KB)
	}
	if n == 0 || sum == 0 {
		return
	}
	avg := sum / float64(n)
	s.Dev = math.Sqrt(max(sumSq/float64(n)-avg*avg, 0))
	s.MinVar, s.MaxVar = math.Inf(1), 0
	for i := range d.Nodes {
		if r := &d.Nodes[i]; r.Reported {
			r.Var = r.Utilization / avg
			s.MinVar, s.MaxVar = min(s.MinVar, r.Var), max(s.MaxVar, r.Var)
		}
	}
}

// WriteDF prints the table of `ceph osd df` (without its OMAP and META
// columns: the store does not split them out), the total line and the
// spread.
func WriteDF(w io.Writer, d *DF) error {
	t := newTable("ID", "CLASS", "WEIGHT", "REWEIGHT", "SIZE", "RAW USE", "DATA", "AVAIL", "%USE", "VAR", "PGS", "STATUS")
	kb := func(v uint64) string { return humanBytes(v << 10) }
	for _, r := range d.Nodes {
		size, used, data, avail, use, vr := "-", "-", "-", "-", "-", "-"
		if r.Reported {
			size, used, data, avail = kb(r.KB), kb(r.KBUsed), kb(r.KBUsedData), kb(r.KBAvail)
			use, vr = fmt.Sprintf("%.2f", r.Utilization), fmt.Sprintf("%.2f", r.Var)
		}
		t.add(strconv.Itoa(int(r.ID)), r.DeviceClass, f5(r.CrushWeight), f5(r.Reweight), size, used, data, avail, use, vr,
			strconv.Itoa(r.PGs), r.Status)
	}
	s := d.Summary
	t.add("", "", "TOTAL", "", kb(s.KB), kb(s.KBUsed), kb(s.KBUsedData), kb(s.KBAvail), fmt.Sprintf("%.2f", s.Utilization), "", "", "")
	if err := t.write(w); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "MIN/MAX VAR: %.2f/%.2f  STDDEV: %.2f\n", s.MinVar, s.MaxVar, s.Dev)
	return err
}
