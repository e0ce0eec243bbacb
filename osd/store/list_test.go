package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestCompareGolden pins Ceph's hobject order on hand-picked cases: the
// bit-reversed hash first (0x80000000 reverses to 1, 0x2 to 0x40000000 and
// 0x1 to 0x80000000),
// then namespace, the effective key (key, else name), then the name.
func TestCompareGolden(t *testing.T) {
	ordered := []ObjectID{
		{Pool: 1, Name: "z", Hash: 0x00000000},
		{Pool: 1, Name: "x", Hash: 0x80000000},
		{Pool: 1, Name: "y", Hash: 0x00000002},
		{Pool: 1, Name: "b", Hash: 0x00000001},
		{Pool: 1, Name: "c", Hash: 0x00000001, Key: "c"}, // key == name: same as no key
		{Pool: 1, Name: "a", Hash: 0x00000001, Key: "d"}, // effective key "d" > "c"
		{Pool: 1, Name: "a", Hash: 0x00000001, Namespace: "ns"},
		{Pool: 1, Name: "a\x00", Hash: 0x00000001, Namespace: "ns"},
		{Pool: 1, Name: "a\x01", Hash: 0x00000001, Namespace: "ns"},
		{Pool: 1, Name: "\x00", Hash: 0x00000001, Namespace: "ns\x00"},
		{Pool: 2, Name: "a", Hash: 0},
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := Compare(ordered[i], ordered[j]); got != want {
				t.Errorf("Compare(%v, %v) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

// TestListingOrderAndPaging stores random objects (names with 0x00 bytes,
// shared prefixes, keys and namespaces) and checks that paged listings
// return exactly them in Compare order, whatever the page size.
func TestListingOrderAndPaging(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	s := newStore(t, Options{})
	pieces := []string{"", "a", "a\x00", "ab", "\x00", "\xff", "b\x00\x00c"}
	want := map[ObjectID]bool{}
	txn := NewTxn()
	for len(want) < 400 {
		o := ObjectID{Pool: 1, Hash: rng.Uint32() & 0xF000000F,
			Namespace: pieces[rng.IntN(3)],
			Name:      "n" + pieces[rng.IntN(len(pieces))] + pieces[rng.IntN(len(pieces))],
			Key:       pieces[rng.IntN(4)]}
		o = o.Normalize()
		if !want[o] {
			want[o] = true
			txn.Touch(testPG, o)
		}
	}
	mustApply(t, s, txn)
	sorted := make([]ObjectID, 0, len(want))
	for o := range want {
		sorted = append(sorted, o)
	}
	slices.SortFunc(sorted, Compare)

	for _, limit := range []int{1, 7, 100, 1000} {
		var got []ObjectID
		cur := ListCursor("")
		for pages := 0; ; pages++ {
			page, err := s.ListObjects(bg, testPG, cur, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Objects) > limit || pages > len(sorted) {
				t.Fatalf("limit %d: page of %d objects (page %d)", limit, len(page.Objects), pages)
			}
			got = append(got, page.Objects...)
			if page.Next == "" {
				break
			}
			cur = page.Next
		}
		if !slices.Equal(got, sorted) {
			t.Fatalf("seed %d limit %d: listing differs from Compare order (%d vs %d objects)", seed, limit, len(got), len(sorted))
		}
	}

	// CursorAfter resumes after any object, stored or not.
	mid := sorted[len(sorted)/2]
	page, err := s.ListObjects(bg, testPG, CursorAfter(mid), 3)
	if err != nil || !slices.Equal(page.Objects, sorted[len(sorted)/2+1:len(sorted)/2+4]) {
		t.Fatalf("resume after %v = %v, %v", mid, page.Objects, err)
	}
	ghost := mid
	ghost.Name += "\x00ghost"
	page, _ = s.ListObjects(bg, testPG, CursorAfter(ghost), 1)
	if len(page.Objects) != 1 || Compare(page.Objects[0], ghost) <= 0 {
		t.Fatalf("resume after a missing object returned %v", page.Objects)
	}
}

func TestListIsPerCollection(t *testing.T) {
	s := newStore(t, Options{})
	other := PG(1, 0x1b)
	txn := NewTxn()
	txn.CreateCollection(other)
	for i := 0; i < 5; i++ {
		txn.Touch(testPG, obj(fmt.Sprint("in-", i)))
		txn.Touch(other, obj(fmt.Sprint("out-", i)))
	}
	mustApply(t, s, txn)
	page, err := s.ListObjects(bg, testPG, "", 0)
	if err != nil || len(page.Objects) != 5 || page.Next != "" {
		t.Fatalf("list = %v next %q, %v", page.Objects, page.Next, err)
	}
	_, err = s.ListObjects(bg, PG(9, 9), "", 0)
	wantErr(t, err, ErrNoCollection)
}
