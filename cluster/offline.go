package cluster

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gorados/gorados/crush"
)

// This file backs the offline `radosctl osd map --crush MAP ...` command: it
// builds a one-pool map around a CRUSH map, as osdmaptool does with
// --createsimple/--import-crush/--mark-up-in, and prints mappings in the
// formats of `ceph osd map` and `osdmaptool --test-map-pgs-dump-all`.

// OfflinePoolName is the name the offline map gives its only pool.
const OfflinePoolName = "pool"

// OfflineConfig describes a one-pool map built around a CRUSH map. Every
// device of the CRUSH map exists, is up and in, except the Out ones
// (reweight 0).
type OfflineConfig struct {
	Crush  *crush.Map
	PoolID int64
	PGNum  uint64 // wider than the pool field so that >= 2^31 is reported, not truncated
	PGPNum uint64 // 0 means PGNum
	Size   int
	Rule   int
	Out    []int32
}

// NewOfflineMap validates cfg and builds its map at epoch 0.
func NewOfflineMap(cfg OfflineConfig) (*OSDMap, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	pgp := cfg.PGPNum
	if pgp == 0 {
		pgp = cfg.PGNum
	}
	m := New(UUID{}, time.Time{})
	m.SetCrush(cfg.Crush)
	p := NewReplicatedPool(cfg.PoolID, OfflinePoolName, int32(cfg.Size), int32(cfg.Rule), uint32(cfg.PGNum))
	p.PGPNum = uint32(pgp)
	m.Pools[p.ID] = p
	m.PoolMax = p.ID
	m.SetMaxOSD(cfg.Crush.MaxDevices)
	for i := range m.OSDs {
		m.OSDs[i] = OSD{Exists: true, Up: true, Weight: WeightIn, PrimaryAffinity: AffinityDefault}
	}
	for _, o := range cfg.Out {
		m.OSDs[o].Weight = WeightOut
	}
	return m, nil
}

// validate reports the first bad parameter of cfg in one line.
func (cfg *OfflineConfig) validate() error {
	if cfg.Crush == nil {
		return fmt.Errorf("%w: no CRUSH map", ErrInvalidArgument)
	}
	if cfg.PoolID < 0 {
		return fmt.Errorf("%w: pool id %d is negative", ErrInvalidArgument, cfg.PoolID)
	}
	if cfg.PGNum == 0 || cfg.PGNum > PGNumMax {
		return fmt.Errorf("%w: pg_num %d is outside 1..%d", ErrInvalidArgument, cfg.PGNum, PGNumMax)
	}
	if cfg.PGPNum > cfg.PGNum {
		return fmt.Errorf("%w: pgp_num %d is larger than pg_num %d", ErrInvalidArgument, cfg.PGPNum, cfg.PGNum)
	}
	if cfg.Size <= 0 || cfg.Size > PoolSizeMax {
		return fmt.Errorf("%w: size %d is outside 1..%d", ErrInvalidArgument, cfg.Size, PoolSizeMax)
	}
	if cfg.Crush.Rule(cfg.Rule) == nil {
		return fmt.Errorf("%w: the CRUSH map has no rule %d", ErrInvalidArgument, cfg.Rule)
	}
	for _, o := range cfg.Out {
		if o < 0 || o >= cfg.Crush.MaxDevices || cfg.Crush.Names[o] == "" {
			return fmt.Errorf("%w: --out %d: the CRUSH map has no device %d", ErrInvalidArgument, o, o)
		}
	}
	return nil
}

// AppendOSDList appends osds as osdmaptool prints a vector: "[1,2,3]", holes
// as 2147483647.
func AppendOSDList(b []byte, osds []int32) []byte {
	b = append(b, '[')
	for i, o := range osds {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(o), 10)
	}
	return append(b, ']')
}

// AppendPGVector appends osds as `ceph osd map` prints them: "[1,2,3]", holes
// as NONE.
func AppendPGVector(b []byte, osds []int32) []byte {
	b = append(b, '[')
	for i, o := range osds {
		if i > 0 {
			b = append(b, ',')
		}
		if o == crush.ItemNone {
			b = append(b, "NONE"...)
		} else {
			b = strconv.AppendInt(b, int64(o), 10)
		}
	}
	return append(b, ']')
}

// appendSetPrimary appends " (" + list + ", pN)" with the given list format.
func appendSetPrimary(b []byte, label string, osds []int32, primary int32, list func([]byte, []int32) []byte) []byte {
	b = append(b, label...)
	b = append(b, " ("...)
	b = list(b, osds)
	b = append(b, ", p"...)
	b = strconv.AppendInt(b, int64(primary), 10)
	return append(b, ')')
}

// AppendObjectMapping appends the line `ceph osd map` prints for an object
// (without newline): osdmap eE pool 'NAME' (P) object 'OBJ' -> pg P.RAW (P.PS)
// -> up ([..], pX) acting ([..], pX). A namespace is shown as NS/OBJ.
func (m *OSDMap) AppendObjectMapping(b []byte, pool int64, namespace, name string, mp *Mapping) ([]byte, error) {
	p := m.Pools[pool]
	if p == nil {
		return b, fmt.Errorf("%w: pool %d", ErrNoSuchPool, pool)
	}
	raw := PGID{Pool: pool, Seed: p.HashKey(name, namespace)}
	m.MapPG(raw, mp)
	b = append(b, "osdmap e"...)
	b = strconv.AppendUint(b, uint64(m.Epoch), 10)
	b = append(b, " pool '"...)
	b = append(b, p.Name...)
	b = append(b, "' ("...)
	b = strconv.AppendInt(b, pool, 10)
	b = append(b, ") object '"...)
	if namespace != "" {
		b = append(b, namespace...)
		b = append(b, '/')
	}
	b = append(b, name...)
	b = append(b, "' -> pg "...)
	b = append(b, raw.String()...)
	b = append(b, " ("...)
	b = append(b, mp.PG.String()...)
	b = append(b, ") ->"...)
	b = appendSetPrimary(b, " up", mp.Up, mp.UpPrimary, AppendPGVector)
	b = appendSetPrimary(b, " acting", mp.Acting, mp.ActingPrimary, AppendPGVector)
	return b, nil
}

// AppendPGDump appends osdmaptool's --test-map-pgs-dump-all line for a
// computed mapping (without newline): P.PS raw ([..], pX) up ([..], pX)
// acting ([..], pX).
func AppendPGDump(b []byte, mp *Mapping) []byte {
	b = append(b, mp.PG.String()...)
	b = appendSetPrimary(b, " raw", mp.Raw, mp.RawPrimary, AppendOSDList)
	b = appendSetPrimary(b, " up", mp.Up, mp.UpPrimary, AppendOSDList)
	return appendSetPrimary(b, " acting", mp.Acting, mp.ActingPrimary, AppendOSDList)
}

// WriteObjectMappings writes one `ceph osd map` line per object name.
func (m *OSDMap) WriteObjectMappings(w io.Writer, pool int64, namespace string, names []string) error {
	bw := bufio.NewWriter(w)
	var mp Mapping
	var line []byte
	for _, name := range names {
		var err error
		line, err = m.AppendObjectMapping(line[:0], pool, namespace, name, &mp)
		if err != nil {
			return err
		}
		bw.Write(append(line, '\n'))
	}
	return bw.Flush()
}

// WritePGMappings writes the dump line of every PG of pool, in seed order.
func (m *OSDMap) WritePGMappings(w io.Writer, pool int64) error {
	p := m.Pools[pool]
	if p == nil {
		return fmt.Errorf("%w: pool %d", ErrNoSuchPool, pool)
	}
	bw := bufio.NewWriter(w)
	var mp Mapping
	var line []byte
	for seed := uint32(0); seed < p.PGNum; seed++ {
		m.MapPG(PGID{Pool: pool, Seed: seed}, &mp)
		line = append(AppendPGDump(line[:0], &mp), '\n')
		bw.Write(line)
	}
	return bw.Flush()
}
