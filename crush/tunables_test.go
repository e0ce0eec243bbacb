package crush

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestTunablesProfileValues(t *testing.T) {
	cases := []struct {
		name                            string
		local, fallback, total, descend uint32
		varyR, stable, strawCalc        uint8
		algs                            uint32
	}{
		{"argonaut", 2, 5, 19, 0, 0, 0, 0, 22},
		{"legacy", 2, 5, 19, 0, 0, 0, 0, 22},
		{"bobtail", 0, 0, 50, 1, 0, 0, 0, 22},
		{"firefly", 0, 0, 50, 1, 1, 0, 0, 22},
		{"hammer", 0, 0, 50, 1, 1, 0, 1, 54},
		{"jewel", 0, 0, 50, 1, 1, 1, 1, 54},
		{"optimal", 0, 0, 50, 1, 1, 1, 1, 54},
		{"Default", 0, 0, 50, 1, 1, 1, 1, 54},
	}
	for _, c := range cases {
		got, err := TunablesProfile(c.name)
		if err != nil {
			t.Fatal(err)
		}
		want := Tunables{c.local, c.fallback, c.total, c.descend, c.varyR, c.stable, c.strawCalc, c.algs}
		if got != want {
			t.Errorf("%s: %+v, want %+v", c.name, got, want)
		}
	}
	if _, err := TunablesProfile("reef"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("unknown profile: err %v", err)
	}
}

func TestProfileName(t *testing.T) {
	for _, name := range []string{"argonaut", "bobtail", "firefly", "hammer", "jewel"} {
		p, _ := TunablesProfile(name)
		if got := p.ProfileName(); got != name {
			t.Errorf("ProfileName(%s values) = %s", name, got)
		}
		p.StrawCalcVersion ^= 1 // not part of the profile
		if got := p.ProfileName(); got != name {
			t.Errorf("ProfileName(%s values, other straw_calc_version) = %s", name, got)
		}
	}
	p, _ := TunablesProfile("optimal")
	p.ChooseTotalTries = 49
	if got := p.ProfileName(); got != "unknown" {
		t.Errorf("modified profile named %s", got)
	}
	// Every golden map: the profile name crushtool --dump printed.
	files, err := filepath.Glob("testdata/mapping/maps/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dumps: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var dump struct {
			Tunables struct{ Profile string } `json:"tunables"`
		}
		if err := json.Unmarshal(data, &dump); err != nil {
			t.Fatal(err)
		}
		m, err := loadDump(data)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Tunables.ProfileName(); got != dump.Tunables.Profile {
			t.Errorf("%s: ProfileName %s, crushtool --dump says %s", file, got, dump.Tunables.Profile)
		}
	}
}
