package crush

// This file names Ceph's tunable profiles (spec/crush-mapping.md section 10,
// spec/crush-formats.md section 7): the values each profile sets, and the
// profile name that crushtool reports for a map's values.

import (
	"fmt"
	"strings"
)

// Allowed bucket algorithm sets: bit a allows algorithm a.
const (
	// AllowedBucketAlgsLegacy allows uniform, list and straw (22).
	AllowedBucketAlgsLegacy uint32 = 1<<AlgUniform | 1<<AlgList | 1<<AlgStraw
	// AllowedBucketAlgsStraw2 adds straw2 (54), from hammer on.
	AllowedBucketAlgsStraw2 = AllowedBucketAlgsLegacy | 1<<AlgStraw2
)

// profileOrder is the order in which ProfileName tries the profiles, newest
// first, as crushtool does.
var profileOrder = []string{"jewel", "hammer", "firefly", "bobtail", "argonaut"}

// profiles holds the values each named profile sets. straw_calc_version is
// 0 up to firefly and 1 from hammer on (Ceph's default map, built with the
// "default" profile, has 1); it is not part of profile matching.
var profiles = map[string]Tunables{
	"argonaut": LegacyTunables(),
	"bobtail":  {ChooseTotalTries: 50, ChooseLeafDescendOnce: 1, AllowedBucketAlgs: AllowedBucketAlgsLegacy},
	"firefly":  {ChooseTotalTries: 50, ChooseLeafDescendOnce: 1, ChooseLeafVaryR: 1, AllowedBucketAlgs: AllowedBucketAlgsLegacy},
	"hammer": {ChooseTotalTries: 50, ChooseLeafDescendOnce: 1, ChooseLeafVaryR: 1,
		StrawCalcVersion: 1, AllowedBucketAlgs: AllowedBucketAlgsStraw2},
	"jewel": {ChooseTotalTries: 50, ChooseLeafDescendOnce: 1, ChooseLeafVaryR: 1, ChooseLeafStable: 1,
		StrawCalcVersion: 1, AllowedBucketAlgs: AllowedBucketAlgsStraw2},
}

// profileAliases maps the other accepted names to a profile: legacy is
// argonaut, and in Pacific both optimal and default are jewel.
var profileAliases = map[string]string{"legacy": "argonaut", "optimal": "jewel", "default": "jewel"}

// TunablesProfile returns the tunables of a named profile: argonaut (or
// legacy), bobtail, firefly, hammer, jewel, optimal or default. Names are
// case-insensitive.
func TunablesProfile(name string) (Tunables, error) {
	key := strings.ToLower(name)
	if alias, ok := profileAliases[key]; ok {
		key = alias
	}
	t, ok := profiles[key]
	if !ok {
		return Tunables{}, fmt.Errorf("%w %q: use argonaut, legacy, bobtail, firefly, hammer, jewel, optimal or default", ErrUnknownProfile, name)
	}
	return t, nil
}

// ProfileName returns the newest profile whose values the tunables match
// (comparing the three tries, descend_once, vary_r, stable and
// allowed_bucket_algs, not straw_calc_version), or "unknown"; it is what
// crushtool --dump prints as "profile".
func (t Tunables) ProfileName() string {
	for _, name := range profileOrder {
		if t.sameProfileValues(profiles[name]) {
			return name
		}
	}
	return "unknown"
}

func (t Tunables) sameProfileValues(p Tunables) bool {
	return t.ChooseLocalTries == p.ChooseLocalTries &&
		t.ChooseLocalFallbackTries == p.ChooseLocalFallbackTries &&
		t.ChooseTotalTries == p.ChooseTotalTries &&
		t.ChooseLeafDescendOnce == p.ChooseLeafDescendOnce &&
		t.ChooseLeafVaryR == p.ChooseLeafVaryR &&
		t.ChooseLeafStable == p.ChooseLeafStable &&
		t.AllowedBucketAlgs == p.AllowedBucketAlgs
}
