package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/gorados/gorados/crush"
)

// bench240 builds the benchmark cluster of the issue: 4 racks x 5 hosts x
// 12 OSDs (240), straw2, optimal tunables, rule 0 = chooseleaf firstn host,
// with one replicated pool of size 3 and 4096 PGs.
func bench240(b *testing.B) *OSDMap {
	b.Helper()
	cm := crush.NewMap()
	cm.Tunables = crush.Tunables{ChooseTotalTries: 50, ChooseLeafDescendOnce: 1, ChooseLeafVaryR: 1,
		ChooseLeafStable: 1, StrawCalcVersion: 1, AllowedBucketAlgs: 54}
	cm.TypeNames = map[int32]string{0: "osd", 1: "host", 2: "rack", 3: "root"}
	next := int32(-2)
	osd := int32(0)
	add := func(typ uint16, items []int32, weights []uint32) (int32, uint32) {
		id := next
		next--
		bk, err := crush.NewBucket(id, typ, crush.AlgStraw2, 0, items, weights, 1)
		if err != nil {
			b.Fatal(err)
		}
		for int(-1-id) >= len(cm.Buckets) {
			cm.Buckets = append(cm.Buckets, nil)
		}
		cm.Buckets[-1-id] = bk
		cm.Names[id] = fmt.Sprintf("b%d", -id)
		return id, bk.Weight
	}
	var racks []int32
	var rackW []uint32
	for range 4 {
		var hosts []int32
		var hostW []uint32
		for range 5 {
			var osds []int32
			var w []uint32
			for range 12 {
				osds = append(osds, osd)
				w = append(w, crush.WeightOne)
				cm.Names[osd] = fmt.Sprintf("osd.%d", osd)
				osd++
			}
			id, wt := add(1, osds, w)
			hosts, hostW = append(hosts, id), append(hostW, wt)
		}
		id, wt := add(2, hosts, hostW)
		racks, rackW = append(racks, id), append(rackW, wt)
	}
	root, err := crush.NewBucket(-1, 3, crush.AlgStraw2, 0, racks, rackW, 1)
	if err != nil {
		b.Fatal(err)
	}
	cm.Buckets[0] = root
	cm.MaxDevices = osd
	cm.Rules = []*crush.Rule{{Type: crush.RuleTypeReplicated, MinSize: 1, MaxSize: 10, Steps: []crush.Step{
		{Op: crush.OpTake, Arg1: -1}, {Op: crush.OpChooseLeafFirstN, Arg1: 0, Arg2: 1}, {Op: crush.OpEmit}}}}
	m, err := NewOfflineMap(OfflineConfig{Crush: cm, PoolID: 1, PGNum: 4096, Size: 3})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkObjectToPG(b *testing.B) {
	m := bench240(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.ObjectToPG(1, "rbd_data.1234567890ab.0000000000000042", "", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPGToUpActing includes the two result slices it returns.
func BenchmarkPGToUpActing(b *testing.B) {
	m := bench240(b)
	b.ReportAllocs()
	s := uint32(0)
	for b.Loop() {
		m.PGToUpActing(PGID{1, s & 4095})
		s++
	}
}

// BenchmarkMapPG reuses one Mapping: the steady state of a client or OSD.
func BenchmarkMapPG(b *testing.B) {
	m := bench240(b)
	var mp Mapping
	b.ReportAllocs()
	s := uint32(0)
	for b.Loop() {
		m.MapPG(PGID{1, s & 4095}, &mp)
		s++
	}
}

func BenchmarkMapPGParallel(b *testing.B) {
	m := bench240(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var mp Mapping
		s := uint32(0)
		for pb.Next() {
			m.MapPG(PGID{1, s & 4095}, &mp)
			s++
		}
	})
}

// BenchmarkDiffApply measures publishing one OSD state change on the
// 240-OSD map: Diff on the monitor, encode, decode and Apply on a receiver.
func BenchmarkDiffApply(b *testing.B) {
	a := bench240(b)
	next := a.Clone()
	next.OSDs[17].Up = false
	next.Modified = time.Unix(1, 0)
	b.ReportAllocs()
	for b.Loop() {
		inc, err := Diff(a, next)
		if err != nil {
			b.Fatal(err)
		}
		wire, _ := inc.Marshal()
		back, err := UnmarshalIncremental(wire)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Apply(a, back); err != nil {
			b.Fatal(err)
		}
	}
}
