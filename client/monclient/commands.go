package monclient

import (
	"context"
	"time"

	"github.com/gorados/gorados/proto/pb"
)

// PoolCreateOpts are the arguments of "osd pool create". Nil pointers take
// the monitor's defaults (pgp_num = pg_num, size 3, min_size = size -
// size/2, rule "replicated_rule").
type PoolCreateOpts struct {
	Name      string
	PGNum     uint32
	PGPNum    *uint32
	Size      *uint32
	MinSize   *uint32
	CrushRule string
}

// PoolCreate creates a replicated pool.
func (c *Client) PoolCreate(ctx context.Context, o PoolCreateOpts) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_PoolCreate{PoolCreate: &pb.MonPoolCreate{
		Name: o.Name, PgNum: o.PGNum, PgpNum: o.PGPNum, Size: o.Size, MinSize: o.MinSize, CrushRule: o.CrushRule,
	}}})
}

// PoolRm removes a pool.
func (c *Client) PoolRm(ctx context.Context, name string) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_PoolRm{PoolRm: &pb.MonPoolRm{Name: name}}})
}

// PoolSet sets size, min_size, pg_num, pgp_num or crush_rule of a pool.
func (c *Client) PoolSet(ctx context.Context, name, key, value string) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_PoolSet{PoolSet: &pb.MonPoolSet{Name: name, Key: key, Value: value}}})
}

// OSDCreate allocates the lowest free OSD id for uuid (the same uuid
// always gets the same id) and returns it with the cluster's fsid.
func (c *Client) OSDCreate(ctx context.Context, uuid string) (id int32, fsid string, err error) {
	rep, err := c.command(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_OsdCreate{OsdCreate: &pb.MonOsdCreate{Uuid: uuid}}})
	if err != nil {
		return 0, "", err
	}
	return rep.GetOsdId(), rep.GetFsid(), nil
}

// BootInfo is what a starting OSD tells the monitors.
type BootInfo struct {
	ID                                                     int32
	UUID                                                   string
	PublicAddr, ClusterAddr, HeartbeatBack, HeartbeatFront string
	Host, DeviceClass                                      string
	// CrushWeight 0 keeps the current weight (1.0 for a new OSD).
	CrushWeight float64
}

// OSDBoot marks an OSD up with its addresses; the monitor places it under
// its host in CRUSH.
func (c *Client) OSDBoot(ctx context.Context, b BootInfo) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_OsdBoot{OsdBoot: &pb.MonOsdBoot{
		Id: b.ID, Uuid: b.UUID, PublicAddr: b.PublicAddr, ClusterAddr: b.ClusterAddr, HbBackAddr: b.HeartbeatBack,
		HbFrontAddr: b.HeartbeatFront, Host: b.Host, DeviceClass: b.DeviceClass, CrushWeight: b.CrushWeight,
	}}})
}

// OSDMark runs "osd down|out|in|rm" on ids.
func (c *Client) OSDMark(ctx context.Context, op string, ids ...int32) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_OsdMark{OsdMark: &pb.MonOsdMark{Op: op, Ids: ids}}})
}

// OSDReweight sets an OSD's reweight (0..1).
func (c *Client) OSDReweight(ctx context.Context, id int32, w float64) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_OsdReweight{OsdReweight: &pb.MonOsdReweight{Id: id, Weight: w}}})
}

// OSDPrimaryAffinity sets an OSD's primary affinity (0..1).
func (c *Client) OSDPrimaryAffinity(ctx context.Context, id int32, a float64) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_OsdPrimaryAffinity{OsdPrimaryAffinity: &pb.MonOsdPrimaryAffinity{Id: id, Affinity: a}}})
}

// CrushAddBucket adds a bucket; location ("root=default", ...) may be empty.
func (c *Client) CrushAddBucket(ctx context.Context, name, typ string, location ...string) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_CrushAddBucket{CrushAddBucket: &pb.MonCrushAddBucket{Name: name, Type: typ, Location: location}}})
}

// CrushMove moves a bucket to a location.
func (c *Client) CrushMove(ctx context.Context, name string, location ...string) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_CrushMove{CrushMove: &pb.MonCrushMove{Name: name, Location: location}}})
}

// CrushReweight sets an item's CRUSH weight.
func (c *Client) CrushReweight(ctx context.Context, name string, w float64) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_CrushReweight{CrushReweight: &pb.MonCrushReweight{Name: name, Weight: w}}})
}

// CrushRuleCreateReplicated creates a replicated rule.
func (c *Client) CrushRuleCreateReplicated(ctx context.Context, name, root, failureDomain, class string) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_CrushRuleCreateReplicated{CrushRuleCreateReplicated: &pb.MonCrushRuleCreateReplicated{
		Name: name, Root: root, FailureDomain: failureDomain, DeviceClass: class,
	}}})
}

// CrushRuleRm removes a rule that no pool uses.
func (c *Client) CrushRuleRm(ctx context.Context, name string) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_CrushRuleRm{CrushRuleRm: &pb.MonCrushRuleRm{Name: name}}})
}

// SetCrushMap replaces the CRUSH map with a crushtool text or Ceph binary
// map.
func (c *Client) SetCrushMap(ctx context.Context, data []byte) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_SetCrushMap{SetCrushMap: &pb.MonSetCrushMap{Map: data}}})
}

// SetFlag sets (or with unset, clears) a cluster flag such as noout.
func (c *Client) SetFlag(ctx context.Context, flag string, unset bool) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_SetFlag{SetFlag: &pb.MonSetFlag{Flag: flag, Unset: unset}}})
}

// FailureReport is an OSD's report that a heartbeat peer stopped answering
// (Cancel: it answers again).
type FailureReport struct {
	Target, Reporter int32
	// TargetUpFrom is the target's up_from in the reporter's map.
	TargetUpFrom uint64
	FailedFor    time.Duration
	// Immediate: both of the target's addresses refused the connection.
	Immediate, Cancel bool
	Epoch             uint64
}

// ReportFailure sends a failure report to the leader; the result's
// message says what the leader made of it (and its epoch is the one that
// marked the target down, if this report did).
func (c *Client) ReportFailure(ctx context.Context, f FailureReport) (Result, error) {
	return c.simple(ctx, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_OsdFailure{OsdFailure: &pb.MonOsdFailure{
		Target: f.Target, Reporter: f.Reporter, TargetUpFrom: f.TargetUpFrom, FailedForMs: uint64(f.FailedFor / time.Millisecond),
		Immediate: f.Immediate, Cancel: f.Cancel, Epoch: f.Epoch,
	}}})
}
