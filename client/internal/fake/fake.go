// Package fake is the test double of a gorados cluster for the client's
// unit tests: a monitor serving GetMap and Subscribe from a map the test
// controls, and in-process OSDs serving the object API from one shared
// in-memory store (replication is not what these tests are about). The
// OSDs answer as real ones do about fsids, pools, primaries, epochs and
// duplicate reqids; hooks let a test inject other answers. End-to-end
// tests under test/e2e use the real daemons.
package fake

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
	"github.com/gorados/gorados/proto/pb"
)

// Pool is the name of the fake cluster's pool (id 1, size 3, 16 PGs).
const Pool = "data"

// PoolID is the id of Pool.
const PoolID = 1

// msgSizeMax matches the client's message size limit.
const msgSizeMax = 160 << 20

// Cluster is a fake monitor and n fake OSDs.
type Cluster struct {
	t    testing.TB
	mon  *monitor
	OSDs []*OSD

	mu      sync.Mutex
	objects map[objKey]*object
	done    map[string]*pb.OpReply // executed reqids
	seen    []Request
}

// Request is one Execute an OSD received.
type Request struct {
	OSD   int32
	ReqID string // client.incarnation.tid
	Epoch uint64
	Seed  uint32
}

// New starts a fake cluster of n OSDs, one per host, with Pool; it is
// stopped when the test ends.
func New(t testing.TB, n int) *Cluster {
	fc := &Cluster{t: t, objects: map[objKey]*object{}, done: map[string]*pb.OpReply{}}
	m := cluster.New(cluster.UUID{1, 2, 3, 4}, time.Unix(1700000000, 0))
	m.Epoch = 1
	m.SetCrush(Crush(t, n))
	m.SetMaxOSD(int32(n))
	for i := range n {
		o := &OSD{id: int32(i), fc: fc}
		o.Start(t, "127.0.0.1:0")
		fc.OSDs = append(fc.OSDs, o)
		m.OSDs[i] = cluster.OSD{Exists: true, Up: true, Weight: cluster.WeightIn, PrimaryAffinity: cluster.AffinityDefault,
			Host: fmt.Sprintf("host%d", i), PublicAddr: o.addr}
	}
	p := cluster.NewReplicatedPool(PoolID, Pool, 3, 0, 16)
	m.Pools[p.ID], m.PoolMax = p, p.ID
	fc.mon = startMonitor(t, m)
	t.Cleanup(func() {
		for _, o := range fc.OSDs {
			o.Stop()
		}
		fc.mon.srv.Stop()
	})
	return fc
}

// MonAddr returns the fake monitor's address.
func (fc *Cluster) MonAddr() string { return fc.mon.addr }

// Map returns the authoritative map.
func (fc *Cluster) Map() *cluster.OSDMap { return fc.mon.current() }

// Edit publishes a copy of the current map changed by fn at the next
// epoch. With deliver false, subscribers are not told (only GetMap sees
// it), which leaves clients on a stale map.
func (fc *Cluster) Edit(deliver bool, fn func(m *cluster.OSDMap)) *cluster.OSDMap {
	m := fc.mon.current().Clone()
	m.Epoch++
	fn(m)
	fc.mon.publish(fc.t, m, deliver)
	return m
}

// PrimaryOf returns the acting primary of an object of Pool (default
// namespace, no key) in the authoritative map.
func (fc *Cluster) PrimaryOf(name string) int32 {
	m := fc.mon.current()
	pg, err := m.ObjectToPG(PoolID, name, "", "")
	if err != nil {
		fc.t.Fatal(err)
	}
	_, _, _, p := m.PGToUpActing(pg)
	return p
}

// Requests returns every Execute the OSDs received, in order.
func (fc *Cluster) Requests() []Request {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return append([]Request(nil), fc.seen...)
}

// Crush returns a CRUSH map of n hosts holding one OSD each and the usual
// replicated rule (one replica per host).
func Crush(t testing.TB, n int) *crush.Map {
	var b strings.Builder
	b.WriteString("tunable choose_local_tries 0\ntunable choose_local_fallback_tries 0\ntunable choose_total_tries 50\n" +
		"tunable chooseleaf_descend_once 1\ntunable chooseleaf_vary_r 1\ntunable chooseleaf_stable 1\n" +
		"tunable straw_calc_version 1\ntunable allowed_bucket_algs 54\n")
	for i := range n {
		fmt.Fprintf(&b, "device %d osd.%d class hdd\n", i, i)
	}
	b.WriteString("type 0 osd\ntype 1 host\ntype 10 root\n")
	for i := range n {
		fmt.Fprintf(&b, "host host%d {\n\tid %d\n\talg straw2\n\thash 0\n\titem osd.%d weight 1.000\n}\n", i, -2-i, i)
	}
	b.WriteString("root default {\n\tid -1\n\talg straw2\n\thash 0\n")
	for i := range n {
		fmt.Fprintf(&b, "\titem host%d weight 1.000\n", i)
	}
	b.WriteString("}\nrule replicated_rule {\n\tid 0\n\ttype replicated\n\tmin_size 1\n\tmax_size 10\n" +
		"\tstep take default\n\tstep chooseleaf firstn 0 type host\n\tstep emit\n}\n")
	c, err := crush.Compile([]byte(b.String()))
	if err != nil {
		t.Fatalf("compile test CRUSH map: %v\n%s", err, b.String())
	}
	return c
}

// monitor serves GetMap and Subscribe (full maps only) of the Mon service.
type monitor struct {
	pb.UnimplementedMonServer
	addr string
	srv  *grpc.Server

	mu   sync.Mutex
	m    *cluster.OSDMap
	subs map[chan []byte]bool
}

func startMonitor(t testing.TB, m *cluster.OSDMap) *monitor {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mon := &monitor{addr: lis.Addr().String(), srv: grpc.NewServer(), m: m, subs: map[chan []byte]bool{}}
	pb.RegisterMonServer(mon.srv, mon)
	go mon.srv.Serve(lis)
	return mon
}

func (mon *monitor) current() *cluster.OSDMap {
	mon.mu.Lock()
	defer mon.mu.Unlock()
	return mon.m
}

func (mon *monitor) publish(t testing.TB, m *cluster.OSDMap, deliver bool) {
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mon.mu.Lock()
	defer mon.mu.Unlock()
	mon.m = m
	if deliver {
		for ch := range mon.subs {
			ch <- b
		}
	}
}

// GetMap serves the authoritative map.
func (mon *monitor) GetMap(ctx context.Context, _ *pb.MonGetMapRequest) (*pb.MonGetMapReply, error) {
	m := mon.current()
	b, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	return &pb.MonGetMapReply{Epoch: uint64(m.Epoch), Map: b}, nil
}

// Subscribe sends the current map, then every published one as a full map.
func (mon *monitor) Subscribe(req *pb.MonSubscribeRequest, stream pb.Mon_SubscribeServer) error {
	ch := make(chan []byte, 64)
	mon.mu.Lock()
	mon.subs[ch] = true
	m := mon.m
	mon.mu.Unlock()
	defer func() {
		mon.mu.Lock()
		delete(mon.subs, ch)
		mon.mu.Unlock()
	}()
	if uint64(m.Epoch) > req.GetFromEpoch() {
		b, err := m.Marshal()
		if err != nil {
			return err
		}
		if err := stream.Send(&pb.MonMapUpdate{FullMap: b, NewestEpoch: uint64(m.Epoch)}); err != nil {
			return err
		}
	}
	for {
		select {
		case b := <-ch:
			if err := stream.Send(&pb.MonMapUpdate{FullMap: b}); err != nil {
				return err
			}
		case <-stream.Context().Done():
			return nil
		}
	}
}
