package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gorados/gorados/client/pgstats"
	"github.com/gorados/gorados/cluster"
)

// PGStat is `radosctl pg stat` (Ceph's `ceph pg stat`).
type PGStat struct {
	NumPGs     int            `json:"num_pgs"`
	ByState    []PGStateCount `json:"num_pg_by_state"`
	NumObjects uint64         `json:"num_objects"`
	DataBytes  uint64         `json:"num_bytes"`
}

// BuildPGStat summarizes the PGs.
func BuildPGStat(s *pgstats.Summary) *PGStat {
	pm := BuildPGMap(s)
	return &PGStat{NumPGs: pm.NumPGs, ByState: pm.ByState, NumObjects: pm.NumObjects, DataBytes: pm.DataBytes}
}

// WritePGStat prints one line like `ceph pg stat`:
// "64 pgs: 60 active+clean, 4 peering; 120 objects, 480 MiB data".
func WritePGStat(w io.Writer, s *PGStat) error {
	states := make([]string, len(s.ByState))
	for i, c := range s.ByState {
		states[i] = fmt.Sprintf("%d %s", c.Count, c.State)
	}
	_, err := fmt.Fprintf(w, "%d pgs: %s; %s objects, %s data\n", s.NumPGs, strings.Join(states, ", "),
		humanCount(s.NumObjects), humanBytes(s.DataBytes))
	return err
}

// PGDump is `radosctl pg dump` (Ceph's `ceph pg dump pgs`).
type PGDump struct {
	PGs []pgstats.PG `json:"pg_stats"`
}

// WritePGDump prints one PG per line with Ceph's column names, then the
// reasons for stale or unknown states, one line per reason with the PGs it
// applies to.
func WritePGDump(w io.Writer, d *PGDump) error {
	t := newTable("<PG_STAT", "OBJECTS", "BYTES", "LOG", "<STATE", "<VERSION", "REPORTED", "<UP", "UP_PRIMARY", "<ACTING", "ACTING_PRIMARY")
	var notes []string             // distinct notes, in order of first use
	noted := map[string][]string{} // note -> PGs it explains
	for _, p := range d.PGs {
		version, reported := p.Version, strconv.FormatUint(p.ReportedEpoch, 10)
		if version == "" {
			version, reported = "-", "-"
		}
		t.add(p.PGID, strconv.FormatUint(p.Objects, 10), strconv.FormatUint(p.Bytes, 10), strconv.FormatUint(p.LogEntries, 10),
			p.State, version, reported, osdList(p.Up), strconv.Itoa(int(p.UpPrimary)), osdList(p.Acting), strconv.Itoa(int(p.ActingPrimary)))
		if p.Note != "" {
			key := p.State + ": " + p.Note
			if noted[key] == nil {
				notes = append(notes, key)
			}
			noted[key] = append(noted[key], p.PGID)
		}
	}
	if err := t.write(w); err != nil {
		return err
	}
	for _, n := range notes {
		if _, err := fmt.Fprintf(w, "pg %s %s\n", strings.Join(noted[n], " "), n); err != nil {
			return err
		}
	}
	return nil
}

// osdList prints a set of OSDs as Ceph does: "[0,3,2]", holes as NONE.
func osdList(ids []int32) string { return string(cluster.AppendPGVector(nil, ids)) }
