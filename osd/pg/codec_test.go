package pg

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gorados/gorados/cluster"
)

func sampleEntry() LogEntry {
	return LogEntry{Op: OpModify, Object: ObjectID{Namespace: "ns", Key: "k", Name: "obj"},
		Version: Eversion{12, 345}, PriorVersion: Eversion{11, 300}, UserVersion: 345,
		ReqID: ReqID{Client: 1 << 60, Incarnation: 7, Tid: 99}, ReturnCode: -17, MtimeUnixNano: -5}
}

func sampleInfo() Info {
	return Info{PG: cluster.PGID{Pool: 3, Seed: 0x1f}, LastUpdate: Eversion{9, 10}, LastComplete: Eversion{9, 9},
		LogTail: Eversion{2, 1}, LastEpochStarted: 8,
		History: History{EpochCreated: 1, LastEpochStarted: 8, LastEpochClean: 7, SameIntervalSince: 8, SameUpSince: 6, SamePrimarySince: 5}}
}

func TestCodecRoundTrip(t *testing.T) {
	e := sampleEntry()
	if got, err := DecodeEntry(EncodeEntry(e)); err != nil || got != e {
		t.Fatalf("entry round trip: %v, %+v != %+v", err, got, e)
	}
	i := sampleInfo()
	if got, err := DecodeInfo(EncodeInfo(i)); err != nil || got != i {
		t.Fatalf("info round trip: %v, %+v != %+v", err, got, i)
	}
	m := Mapping{Epoch: 9, Up: []int32{1, 2, crushItemNone}, Acting: []int32{2, 1}, UpPrimary: 1, ActingPrimary: 2, Size: 3, MinSize: 2, UpFrom: 7}
	if got, err := DecodeMapping(EncodeMapping(m)); err != nil || !got.sameInterval(m) || got.Epoch != 9 {
		t.Fatalf("mapping round trip: %v, %+v != %+v", err, got, m)
	}
	d := dupOf(e)
	if got, err := DecodeDup(EncodeDup(d)); err != nil || got != d {
		t.Fatalf("dup round trip: %v, %+v != %+v", err, got, d)
	}
}

// Every strict prefix of a valid encoding, trailing garbage, a wrong kind
// and an unknown format version are all ErrCorrupt, never a panic.
func TestCodecRejectsDamage(t *testing.T) {
	enc := EncodeEntry(sampleEntry())
	for n := range len(enc) {
		if _, err := DecodeEntry(enc[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix %d/%d: err %v, want ErrCorrupt", n, len(enc), err)
		}
	}
	cases := map[string][]byte{
		"trailing":      append(bytes.Clone(enc), 0),
		"kind":          append([]byte{kindInfo}, enc[1:]...),
		"format":        append([]byte{kindEntry, 9}, enc[2:]...),
		"info as entry": EncodeInfo(sampleInfo()),
	}
	for name, b := range cases {
		if _, err := DecodeEntry(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", name, err)
		}
	}
	bad := sampleEntry()
	bad.Op = 77
	if _, err := DecodeEntry(EncodeEntry(bad)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unknown op: err %v, want ErrCorrupt", err)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(EncodeEntry(sampleEntry()))
	f.Add([]byte{kindEntry, formatV1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			return
		}
		if again := EncodeEntry(e); !bytes.Equal(again, b) {
			// Varints have one canonical form only when re-encoded;
			// decoding the re-encoding must give the same entry.
			if e2, err := DecodeEntry(again); err != nil || e2 != e {
				t.Fatalf("re-encoding changed the entry: %v %+v %+v", err, e, e2)
			}
		}
	})
}

func FuzzDecodeInfo(f *testing.F) {
	f.Add(EncodeInfo(sampleInfo()))
	f.Add(EncodeDup(dupOf(sampleEntry())))
	f.Add(EncodeMapping(Mapping{Epoch: 3, Up: []int32{0, 1}, Acting: []int32{0, 1}, Size: 2, MinSize: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if i, err := DecodeInfo(b); err == nil {
			if i2, err := DecodeInfo(EncodeInfo(i)); err != nil || i2 != i {
				t.Fatalf("info re-encoding changed it: %v", err)
			}
		}
		if m, err := DecodeMapping(b); err == nil {
			if m2, err := DecodeMapping(EncodeMapping(m)); err != nil || !m2.sameInterval(m) {
				t.Fatalf("mapping re-encoding changed it: %v", err)
			}
		}
		if d, err := DecodeDup(b); err == nil {
			if d2, err := DecodeDup(EncodeDup(d)); err != nil || d2 != d {
				t.Fatalf("dup re-encoding changed it: %v", err)
			}
		}
	})
}

func TestEversionOrder(t *testing.T) {
	vs := []Eversion{{0, 0}, {0, 5}, {1, 0}, {1, 1}, {2, 0}, {10, 6}, {11, 6}}
	for i := range vs {
		for j := range vs {
			want := cmpInt(i, j)
			if got := vs[i].Compare(vs[j]); got != want {
				t.Errorf("%s vs %s: %d, want %d", vs[i], vs[j], got, want)
			}
		}
	}
	if s := (Eversion{473, 302}).String(); s != "473'302" {
		t.Errorf("String = %q", s)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
