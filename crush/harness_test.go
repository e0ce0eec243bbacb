package crush

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestReweightFixed(t *testing.T) {
	// crushtool's conversions (spec 11): float32 * 65536, truncated.
	for w, want := range map[float32]uint32{0.1: 0x1999, 0.3: 0x4ccc, 0.8: 0xcccc, 0.5: 0x8000, 1: 0x10000, 0: 0, 0.99999: 0xffff} {
		if got := reweightFixed(w); got != want {
			t.Errorf("reweightFixed(%v) = %#x, want %#x", w, got, want)
		}
	}
}

func testMap(t *testing.T) *Map {
	t.Helper()
	m := buildHierarchy(t, 2, 2, 2)
	m.RuleNames[0] = "rep"
	return m
}

func runTest(t *testing.T, m *Map, opt TestOptions) string {
	t.Helper()
	var out bytes.Buffer
	if err := m.RunTest(&out, opt); err != nil {
		t.Fatalf("%+v: %v", opt, err)
	}
	return out.String()
}

func TestRunTestRanges(t *testing.T) {
	m := testMap(t)
	lines := func(s string) int { return strings.Count(s, "\n") }
	if got := runTest(t, m, TestOptions{NumRep: 2, MinX: 5, MaxX: 7}); lines(got) != 3 || !strings.HasPrefix(got, "CRUSH rule 0 x 5 [") {
		t.Errorf("5..7: %q", got)
	}
	// crushtool's quirks: a negative bound selects 0..1023; an inverted
	// range prints nothing; the largest x ends the loop.
	if got := runTest(t, m, TestOptions{NumRep: 2, MinX: -3, MaxX: 4}); lines(got) != 1024 {
		t.Errorf("negative min: %d lines, want 1024", lines(got))
	}
	if got := runTest(t, m, TestOptions{NumRep: 2, MinX: 7, MaxX: 3}); got != "" {
		t.Errorf("inverted range printed %q", got)
	}
	got := runTest(t, m, TestOptions{NumRep: 2, MinX: math.MaxInt32 - 1, MaxX: math.MaxInt32})
	if lines(got) != 2 || !strings.Contains(got, "x 2147483647 [") {
		t.Errorf("range ending at 2^31-1: %q", got)
	}
}

func TestRunTestAllWeightsZero(t *testing.T) {
	m := testMap(t)
	w := map[int32]float32{}
	for d := range m.MaxDevices {
		w[d] = 0
	}
	if got := runTest(t, m, TestOptions{NumRep: 2, MaxX: 9, Weights: w}); got != "" {
		t.Errorf("all-zero reweights printed %q", got)
	}
	got := runTest(t, m, TestOptions{NumRep: 2, MaxX: 9, Weights: w, ShowUtilization: true})
	if got != "rule 0 (rep), x = 0..9, numrep = 2..2\n" {
		t.Errorf("all-zero reweights with utilization printed %q", got)
	}
}

func TestRunTestUtilizationFormat(t *testing.T) {
	m := testMap(t)
	got := runTest(t, m, TestOptions{NumRep: 2, MaxX: 0, ShowUtilization: true, Weights: map[int32]float32{3: 0}})
	wantPrefix := "rule 0 (rep), x = 0..0, numrep = 2..2\nCRUSH rule 0 x 0 ["
	if !strings.HasPrefix(got, wantPrefix) || !strings.Contains(got, "rule 0 (rep) num_rep 2 result size == 2:\t1/1\n") {
		t.Fatalf("utilization output %q", got)
	}
	// Two devices stored one object each; expected is 2 objects spread over
	// 7 devices of weight 1.
	if n := strings.Count(got, "\t expected : 0.285714\n"); n != 2 || strings.Contains(got, "device 3:") {
		t.Errorf("device lines in %q", got)
	}
}

func TestRunTestChooseArgsSelection(t *testing.T) {
	m := testMap(t)
	zeroFirst := make(ChooseArgSet, len(m.Buckets))
	zeroFirst[0].WeightSet = [][]uint32{{0, WeightOne}} // root: only the second rack
	m.ChooseArgs[5] = zeroFirst                         // a pool set: ignored
	plain := runTest(t, m, TestOptions{NumRep: 1, MaxX: 99})
	m.ChooseArgs[DefaultChooseArgs] = zeroFirst
	withDefault := runTest(t, m, TestOptions{NumRep: 1, MaxX: 99})
	if plain == withDefault {
		t.Error("the default choose_args set was not used")
	}
	m.ChooseArgs[0] = make(ChooseArgSet, len(m.Buckets)) // set 0 wins over -1
	if got := runTest(t, m, TestOptions{NumRep: 1, MaxX: 99}); got != plain {
		t.Error("set 0 did not take precedence over the default set")
	}
}

func TestRunTestErrors(t *testing.T) {
	m := testMap(t)
	m.Names[20] = "osd.20" // named device outside every bucket: valid, weight 0
	m.MaxDevices = 21
	cases := []struct {
		opt  TestOptions
		want error
	}{
		{TestOptions{Rule: 1, NumRep: 2}, ErrUnknownRule},
		{TestOptions{Rule: -1, NumRep: 2}, ErrUnknownRule},
		{TestOptions{NumRep: 0}, ErrBadTestOption},
		{TestOptions{NumRep: -1}, ErrBadTestOption},
		{TestOptions{NumRep: 2, MaxX: math.MaxInt32 + 1}, ErrBadTestOption},
		{TestOptions{NumRep: 2, Weights: map[int32]float32{1: 1.01}}, ErrBadTestOption},
		{TestOptions{NumRep: 2, Weights: map[int32]float32{1: -0.5}}, ErrBadTestOption},
		{TestOptions{NumRep: 2, Weights: map[int32]float32{1: float32(math.NaN())}}, ErrBadTestOption},
		{TestOptions{NumRep: 2, Weights: map[int32]float32{21: 0.5}}, ErrUnknownDevice},
		{TestOptions{NumRep: 2, Weights: map[int32]float32{12: 0.5}}, ErrUnknownDevice},
		{TestOptions{NumRep: 2, Weights: map[int32]float32{-1: 0.5}}, ErrUnknownDevice},
	}
	for _, c := range cases {
		var out bytes.Buffer
		err := m.RunTest(&out, c.opt)
		if !errors.Is(err, c.want) || strings.Contains(err.Error(), "\n") || out.Len() != 0 {
			t.Errorf("%+v: err %v (output %d bytes), want one-line %v", c.opt, err, out.Len(), c.want)
		}
	}
	if _, err := m.testReweights(TestOptions{NumRep: 1, Weights: map[int32]float32{20: 0.5}}); err != nil {
		t.Errorf("named device outside buckets: %v", err)
	}
}

// TestPlaceableReplicas pins crushtool's estimate behind the "expected"
// utilization figures, case by case as observed with crushtool 16.2.
func TestPlaceableReplicas(t *testing.T) {
	m := buildHierarchy(t, 2, 3, 2) // 6 hosts, 2 racks, 1 root, 12 OSDs, 9 bucket slots
	for _, b := range m.Buckets {
		m.Names[b.ID] = fmt.Sprintf("b%d", -b.ID)
	}
	const host, rack = 1, 2
	step := func(op Op, n, typ int32) Step { return Step{Op: op, Arg1: n, Arg2: typ} }
	take, emit := Step{Op: OpTake, Arg1: -1}, Step{Op: OpEmit}
	cases := []struct {
		name  string
		steps []Step
		want  int
	}{
		{"hosts", []Step{take, step(OpChooseLeafFirstN, 0, host), emit}, 6},
		{"count caps", []Step{take, step(OpChooseFirstN, 2, host), step(OpChooseLeafFirstN, 1, 0), emit}, 2},
		{"negative count", []Step{take, step(OpChooseFirstN, -1, rack), step(OpChooseFirstN, 0, 0), emit}, 2},
		{"no choose step", []Step{take, emit}, 12},
		{"type named twice", []Step{take, step(OpChooseLeafFirstN, 0, host), emit, take, step(OpChooseLeafFirstN, 0, host), emit}, 12},
		{"last count wins", []Step{take, step(OpChooseLeafFirstN, 2, host), emit, take, step(OpChooseLeafFirstN, 0, host), emit}, 12},
		{"last count caps", []Step{take, step(OpChooseLeafFirstN, 0, host), emit, take, step(OpChooseLeafFirstN, 2, host), emit}, 2},
		{"count above buckets", []Step{take, step(OpChooseLeafIndep, 8, host), emit}, 6},
		{"set step", []Step{step(OpSetChooseTries, 3, 0), take, step(OpChooseFirstN, 0, 0), emit}, 12},
	}
	for _, c := range cases {
		if got := m.placeableReplicas(&Rule{Steps: c.steps}); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// TestUtilizationSinglePrecision pins crushtool's float32 arithmetic in the
// expected figures: 1800 objects, device 13 at reweight 0.5 among 19
// devices gives 48.6487 (double precision would print 48.6486).
func TestUtilizationSinglePrecision(t *testing.T) {
	m := NewMap()
	m.MaxDevices = 19
	m.Rules = []*Rule{{Steps: []Step{{Op: OpTake, Arg1: 0}, {Op: OpEmit}}}}
	reweight := make([]uint32, 19)
	for i := range reweight {
		reweight[i] = WeightOne
	}
	reweight[13] = 0x8000
	u := newUtilization(true, 19)
	u.total = 300
	u.sizes[1] = 300
	u.stored[13] = 11
	var out bytes.Buffer
	u.write(&out, m, TestOptions{NumRep: 6}, reweight)
	if want := "  device 13:\t\t stored : 11\t expected : 48.6487\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("got %q, want it to end with %q", out.String(), want)
	}
}
