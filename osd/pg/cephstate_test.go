package pg

import "testing"

func TestCephState(t *testing.T) {
	full := Mapping{Up: []int32{0, 1, 2}, Acting: []int32{0, 1, 2}, Size: 3, MinSize: 2}
	short := Mapping{Up: []int32{0, 1}, Acting: []int32{0, 1}, Size: 3, MinSize: 2}
	temp := Mapping{Up: []int32{3, 1, 2}, Acting: []int32{0, 1, 2}, Size: 3, MinSize: 2}
	holes := Mapping{Up: []int32{0, crushItemNone, 2}, Acting: []int32{0, crushItemNone, 2}, Size: 3, MinSize: 2}
	for _, tc := range []struct {
		s    State
		m    Mapping
		want string
	}{
		{StateActive, full, "active+clean"},
		{StateActive, short, "active+undersized+degraded"},
		{StateActive, temp, "active+remapped"},
		{StateActive, holes, "active+undersized+degraded"},
		{StatePeered, short, "undersized+degraded+peered"},
		{StatePeering, full, "peering"},
		{StateActivating, full, "activating"},
		{StateRecovering, full, "recovering"},
		{StateWaiting, full, "waiting"},
		{StateInitial, Mapping{}, "unknown"},
	} {
		if got := CephState(tc.s, tc.m); got != tc.want {
			t.Errorf("CephState(%s, up %v acting %v size %d) = %q, want %q", tc.s, tc.m.Up, tc.m.Acting, tc.m.Size, got, tc.want)
		}
	}
}
