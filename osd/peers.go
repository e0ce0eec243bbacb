package osd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/experimental"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/fastrpc"
	"github.com/gorados/gorados/internal/wire"
	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/proto/pb"
)

// peerSet holds gRPC connections to other OSDs' cluster addresses, dialed
// on first use and kept by address (an OSD that restarts elsewhere gets a
// new connection).
type peerSet struct {
	o     *OSD
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
	fast  map[string]*fastrpc.Client // repops, by cluster address
}

func newPeerSet(o *OSD) *peerSet {
	return &peerSet{o: o, conns: map[string]*grpc.ClientConn{}, fast: map[string]*fastrpc.Client{}}
}

// clusterAddr returns OSD id's cluster address in the current map.
func (p *peerSet) clusterAddr(id int32) (string, error) {
	m := p.o.Map()
	if m == nil || !m.Exists(id) || m.OSDs[id].ClusterAddr == "" {
		return "", fmt.Errorf("osd.%d has no cluster address in the map", id)
	}
	return m.OSDs[id].ClusterAddr, nil
}

// fastClient returns the fastrpc client of OSD id's cluster address.
func (p *peerSet) fastClient(id int32) (*fastrpc.Client, error) {
	addr, err := p.clusterAddr(id)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.fast[addr]
	if c == nil {
		c = fastrpc.NewClient(addr, maxMessageBytes)
		p.fast[addr] = c
	}
	return c, nil
}

// client returns a cluster-network client for OSD id per the current map.
func (p *peerSet) client(id int32) (pb.OSDClusterClient, error) {
	c, err := p.conn(id)
	if err != nil {
		return nil, err
	}
	return pb.NewOSDClusterClient(c), nil
}

// conn returns the connection to OSD id's cluster address per the current
// map, dialing it on first use.
func (p *peerSet) conn(id int32) (*grpc.ClientConn, error) {
	addr, err := p.clusterAddr(id)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.conns[addr]; c != nil {
		return c, nil
	}
	c, err := grpc.NewClient(addr, DialOptions()...)
	if err != nil {
		return nil, fmt.Errorf("dial osd.%d at %s: %w", id, addr, err)
	}
	p.conns[addr] = c
	return c, nil
}

// maxMessageBytes bounds gRPC messages: a full 128 MiB object plus room
// for the envelope.
const maxMessageBytes = 140 << 20

// Flow-control windows sized for many 4 MiB ops in flight on one
// connection, as the client's.
const (
	streamWindowBytes = 16 << 20
	connWindowBytes   = 64 << 20
)

// ServerOptions are the gRPC options of the OSD's public and cluster
// servers: the data codec and buffer pool of package wire, which spare
// copying and zeroing 4 MiB messages.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(maxMessageBytes), grpc.MaxSendMsgSize(maxMessageBytes),
		grpc.ForceServerCodecV2(wire.Codec{}), experimental.BufferPool(wire.Buffers),
		grpc.InitialWindowSize(streamWindowBytes), grpc.InitialConnWindowSize(connWindowBytes)}
}

// DialOptions are the gRPC options for connections to OSDs (peers, and
// clients that move whole objects of up to 128 MiB).
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()),
		experimental.WithBufferPool(wire.Buffers),
		grpc.WithInitialWindowSize(streamWindowBytes), grpc.WithInitialConnWindowSize(connWindowBytes),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes),
			grpc.ForceCodecV2(wire.Codec{}))}
}

func (p *peerSet) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, c := range p.conns {
		_ = c.Close()
		delete(p.conns, addr)
	}
	for addr, c := range p.fast {
		c.Close()
		delete(p.fast, addr)
	}
}

// sendPeering sends one peering message in the background. Losses are fine:
// the PG core asks again on its timer.
func (p *peerSet) sendPeering(id cluster.PGID, m pg.Message) {
	msg := &pb.PeeringMessage{Fsid: p.o.cfg.FSID.String(), FromOsd: p.o.cfg.ID, Epoch: m.Epoch,
		Pool: id.Pool, PgSeed: id.Seed, QueryEpoch: m.QueryEpoch}
	switch m.Type {
	case pg.MsgQuery:
		msg.Msg = &pb.PeeringMessage_Query{Query: &pb.PGQuery{Kind: pb.PGQuery_INFO}}
	case pg.MsgNotify:
		msg.Msg = &pb.PeeringMessage_Notify{Notify: &pb.PGNotify{Info: pg.EncodeInfo(m.Info)}}
	case pg.MsgActivate:
		msg.Msg = &pb.PeeringMessage_Activate{Activate: &pb.PGActivate{Info: pg.EncodeInfo(m.Info)}}
	case pg.MsgLogQuery:
		msg.Msg = &pb.PeeringMessage_Query{Query: &pb.PGQuery{Kind: pb.PGQuery_LOG}}
	case pg.MsgLog:
		msg.Msg = &pb.PeeringMessage_Log{Log: &pb.PGLog{Info: pg.EncodeInfo(m.Info),
			Tail: eversionPB(m.Tail), Entries: encodeEntries(m.Entries), Dups: encodeDups(m.Dups)}}
	case pg.MsgActivated:
		msg.Msg = &pb.PeeringMessage_Activated{Activated: &pb.PGActivated{}}
	}
	go func() {
		c, err := p.client(m.To)
		if err != nil {
			p.o.log.Debug("peering message not sent", "to", m.To, "err", err)
			return
		}
		ctx, cancel := context.WithTimeout(p.o.ctx, 10*time.Second)
		defer cancel()
		if _, err := c.Peering(ctx, msg); err != nil {
			p.o.log.Debug("peering message failed", "to", m.To, "pg", id, "err", err)
		}
	}()
}

// repOp sends one write to a replica until it commits there, the PG's
// interval changes, or the OSD stops. The replica deduplicates resends by
// version. enc is req encoded once for every replica.
func (p *peerSet) repOp(h *pgHandle, osd int32, req *pb.RepOpRequest, enc *wire.Encoded, v pg.Eversion) {
	backoff := 50 * time.Millisecond
	for p.o.ctx.Err() == nil && h.interval.Load() == req.GetIntervalStart() {
		start := time.Now()
		reply, err := p.tryRepOp(osd, enc)
		if err == nil && reply.GetResult() == pb.Result_RESULT_OK {
			p.o.cfg.Metrics.repOpDone(time.Since(start))
			h.post(func() { h.step(pg.CommitEvent{From: osd, Version: v}) })
			return
		}
		if err == nil && reply.GetResult() != pb.Result_RESULT_AGAIN {
			p.o.log.Warn("replica refused repop", "pg", h.id, "osd", osd, "version", v.String(),
				"result", reply.GetResult().String(), "msg", reply.GetMessage())
		}
		select {
		case <-time.After(backoff):
		case <-p.o.ctx.Done():
		}
		backoff = min(2*backoff, time.Second)
	}
}

// tryRepOp sends a repop once, over fastrpc unless the replica speaks
// gRPC only.
func (p *peerSet) tryRepOp(osd int32, enc *wire.Encoded) (*pb.RepOpReply, error) {
	ctx, cancel := context.WithTimeout(p.o.ctx, 60*time.Second)
	defer cancel()
	reply := &pb.RepOpReply{}
	fc, err := p.fastClient(osd)
	if err != nil {
		return nil, err
	}
	err = fc.Call(ctx, fastrpc.MethodRepOp, enc, reply)
	if !errors.Is(err, fastrpc.ErrUnsupported) {
		return reply, err
	}
	c, err := p.conn(osd)
	if err != nil {
		return nil, err
	}
	if err := c.Invoke(ctx, pb.OSDCluster_RepOp_FullMethodName, enc, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// pull fetches the whole state of an object from OSD osd.
func (p *peerSet) pull(h *pgHandle, osd int32, obj pg.ObjectID) (*pb.ObjectState, error) {
	c, err := p.client(osd)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(p.o.ctx, 60*time.Second)
	defer cancel()
	st, err := c.Pull(ctx, &pb.PullRequest{Fsid: p.o.cfg.FSID.String(), FromOsd: p.o.cfg.ID, Epoch: p.o.Epoch(),
		Pool: h.id.Pool, PgSeed: h.id.Seed, Object: locatorOf(obj)})
	if err != nil {
		return nil, err
	}
	if st.GetResult() != pb.Result_RESULT_OK {
		return nil, fmt.Errorf("pull %s from osd.%d: %s: %s", obj, osd, st.GetResult(), st.GetMessage())
	}
	return st, nil
}

// recover sends one recovery step to OSD osd.
func (p *peerSet) recover(osd int32, req *pb.RecoverRequest) error {
	c, err := p.client(osd)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(p.o.ctx, 120*time.Second)
	defer cancel()
	r, err := c.Recover(ctx, req)
	if err != nil {
		return err
	}
	if r.GetResult() != pb.Result_RESULT_OK {
		return fmt.Errorf("osd.%d: %s: %s", osd, r.GetResult(), r.GetMessage())
	}
	return nil
}

// listPG fetches one page of OSD osd's objects of h's PG.
func (p *peerSet) listPG(h *pgHandle, osd int32, cursor []byte) (*pb.ListPGReply, error) {
	c, err := p.client(osd)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(p.o.ctx, 60*time.Second)
	defer cancel()
	r, err := c.ListPG(ctx, &pb.ListPGRequest{Fsid: p.o.cfg.FSID.String(), FromOsd: p.o.cfg.ID, Epoch: p.o.Epoch(),
		Pool: h.id.Pool, PgSeed: h.id.Seed, Cursor: cursor})
	if err != nil {
		return nil, err
	}
	if r.GetResult() != pb.Result_RESULT_OK {
		return nil, fmt.Errorf("list PG %s on osd.%d: %s: %s", h.id, osd, r.GetResult(), r.GetMessage())
	}
	return r, nil
}
