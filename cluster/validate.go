package cluster

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/gorados/gorados/crush"
)

// Validate checks every invariant of a map: pools valid and consistent with
// the CRUSH map, OSD records coherent, exception tables pointing at existing
// pools and OSD ids, ratios in [0, 1], only known flags. Unmarshal and Apply
// call it, so a map that passed through them is always valid.
func (m *OSDMap) Validate() error {
	if m.Flags&^FlagsKnown != 0 {
		return fmt.Errorf("%w: unknown flag bits %#x", ErrInvalidMap, uint32(m.Flags&^FlagsKnown))
	}
	if len(m.OSDs) > MaxOSDLimit {
		return fmt.Errorf("%w: max_osd %d exceeds %d", ErrInvalidMap, len(m.OSDs), MaxOSDLimit)
	}
	if (m.Crush == nil) != (len(m.CrushBlob) == 0) {
		return fmt.Errorf("%w: CRUSH map and its encoding must be set together (use SetCrush)", ErrInvalidMap)
	}
	if err := validateCrushBounds(m.Crush); err != nil {
		return err
	}
	if err := m.validateRatios(); err != nil {
		return err
	}
	if err := m.validatePools(); err != nil {
		return err
	}
	for id := range m.OSDs {
		if err := validateOSD(int32(id), &m.OSDs[id]); err != nil {
			return err
		}
	}
	return m.validateExceptions()
}

func (m *OSDMap) validateRatios() error {
	for _, r := range []struct {
		name string
		v    float32
	}{{"nearfull", m.NearFullRatio}, {"backfillfull", m.BackfillFullRatio}, {"full", m.FullRatio}} {
		if math.IsNaN(float64(r.v)) || r.v < 0 || r.v > 1 {
			return fmt.Errorf("%w: %s ratio %v is outside [0, 1]", ErrInvalidMap, r.name, r.v)
		}
	}
	return nil
}

func (m *OSDMap) validatePools() error {
	names := make(map[string]int64, len(m.Pools))
	for id, p := range m.Pools {
		if p == nil || p.ID != id {
			return fmt.Errorf("%w: pool table entry %d does not hold pool %d", ErrInvalidMap, id, id)
		}
		if err := ValidatePool(p); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidMap, err)
		}
		if id > m.PoolMax {
			return fmt.Errorf("%w: pool %d is above pool_max %d", ErrInvalidMap, id, m.PoolMax)
		}
		if other, dup := names[p.Name]; dup {
			return fmt.Errorf("%w: pools %d and %d are both named %q", ErrInvalidMap, other, id, p.Name)
		}
		names[p.Name] = id
		if m.Crush == nil || m.Crush.Rule(int(p.CrushRule)) == nil {
			return fmt.Errorf("%w: pool %q uses CRUSH rule %d, which the CRUSH map lacks", ErrInvalidMap, p.Name, p.CrushRule)
		}
	}
	return nil
}

// validateOSD checks one record: ranges of the 16.16 values, up only when
// it exists, text fields valid UTF-8.
func validateOSD(id int32, o *OSD) error {
	if o.Weight > WeightIn || o.PrimaryAffinity > AffinityDefault {
		return fmt.Errorf("%w: osd.%d reweight %#x or primary affinity %#x above 1.0", ErrInvalidMap, id, o.Weight, o.PrimaryAffinity)
	}
	if o.Up && !o.Exists {
		return fmt.Errorf("%w: osd.%d is up but does not exist", ErrInvalidMap, id)
	}
	for _, s := range []string{o.Host, o.DeviceClass, o.PublicAddr, o.ClusterAddr, o.HeartbeatFront, o.HeartbeatBack} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: osd.%d has a text field that is not UTF-8: %q", ErrInvalidMap, id, s)
		}
	}
	return nil
}

// validExceptionOSD accepts an OSD id inside max_osd, or a hole.
func (m *OSDMap) validExceptionOSD(o int32) bool {
	return o == crush.ItemNone || (o >= 0 && o < m.MaxOSD())
}

func (m *OSDMap) checkPGList(what string, pg PGID, osds []int32) error {
	if m.Pools[pg.Pool] == nil {
		return fmt.Errorf("%w: %s for %v names a pool that does not exist", ErrInvalidMap, what, pg)
	}
	if len(osds) == 0 {
		return fmt.Errorf("%w: %s for %v is empty (remove the entry instead)", ErrInvalidMap, what, pg)
	}
	for _, o := range osds {
		if !m.validExceptionOSD(o) {
			return fmt.Errorf("%w: %s for %v names osd.%d outside max_osd %d", ErrInvalidMap, what, pg, o, m.MaxOSD())
		}
	}
	return nil
}

func (m *OSDMap) validateExceptions() error {
	for pg, osds := range m.PGTemp {
		if err := m.checkPGList("pg_temp", pg, osds); err != nil {
			return err
		}
	}
	for pg, osds := range m.PGUpmap {
		if err := m.checkPGList("pg_upmap", pg, osds); err != nil {
			return err
		}
	}
	for pg, o := range m.PrimaryTemp {
		if err := m.checkPGList("primary_temp", pg, []int32{o}); err != nil || o == crush.ItemNone {
			return fmt.Errorf("%w: primary_temp for %v: osd.%d", ErrInvalidMap, pg, o)
		}
	}
	for pg, items := range m.PGUpmapItems {
		flat := make([]int32, 0, 2*len(items))
		for _, it := range items {
			flat = append(flat, it.From, it.To)
		}
		if err := m.checkPGList("pg_upmap_items", pg, flat); err != nil {
			return err
		}
	}
	return nil
}

// CrushTriesMax bounds every retry count of a CRUSH map carried in an
// OSDMap (tunables and set_*_tries steps). Real maps use 50 to a few
// hundred; a decoded map asking for billions of retries would make every
// placement computation hang, so it is refused.
const CrushTriesMax = 10000

// validateCrushBounds refuses CRUSH maps whose retry counts could make
// mapping loop for minutes.
func validateCrushBounds(c *crush.Map) error {
	if c == nil {
		return nil
	}
	t := c.Tunables
	if t.ChooseTotalTries > CrushTriesMax || t.ChooseLocalTries > CrushTriesMax || t.ChooseLocalFallbackTries > CrushTriesMax {
		return fmt.Errorf("%w: CRUSH tunables ask for more than %d tries", ErrInvalidMap, CrushTriesMax)
	}
	for id, r := range c.Rules {
		if r == nil {
			continue
		}
		for _, st := range r.Steps {
			switch st.Op {
			case crush.OpSetChooseTries, crush.OpSetChooseLeafTries, crush.OpSetChooseLocalTries, crush.OpSetChooseLocalFallbackTries:
				if st.Arg1 > CrushTriesMax {
					return fmt.Errorf("%w: CRUSH rule %d sets %d tries, more than %d", ErrInvalidMap, id, st.Arg1, CrushTriesMax)
				}
			}
		}
	}
	return nil
}
