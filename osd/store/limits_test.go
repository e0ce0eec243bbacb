package store

import (
	"strings"
	"testing"
)

// TestBadInputLeavesStoreUnchanged submits transactions that break a limit
// or a rule in their last operation and checks each fails with the right
// typed error while every byte of the store stays as it was.
func TestBadInputLeavesStoreUnchanged(t *testing.T) {
	s := newStore(t, Options{Limits: Limits{ObjectSize: 1 << 20}})
	base := NewTxn()
	base.WriteFull(testPG, obj("keep"), pattern(3, 200_000))
	base.SetXattr(testPG, obj("keep"), "a", []byte("1"))
	base.AppendLog(testPG, EVersion{1, 1}, []byte("e"))
	mustApply(t, s, base)
	before := snapshot(t, s)

	long := strings.Repeat("n", 2049)
	cases := []struct {
		name string
		last func(*Txn)
		want error
	}{
		{"name too long", func(x *Txn) { x.Touch(testPG, obj(long)) }, ErrTooLarge},
		{"namespace too long", func(x *Txn) {
			x.Touch(testPG, ObjectID{Pool: 1, Name: "a", Namespace: strings.Repeat("s", 257)})
		}, ErrTooLarge},
		{"key too long", func(x *Txn) { x.Touch(testPG, ObjectID{Pool: 1, Name: "a", Key: long}) }, ErrTooLarge},
		{"empty name", func(x *Txn) { x.Touch(testPG, ObjectID{Pool: 1}) }, ErrInvalid},
		{"wrong pool", func(x *Txn) { x.Touch(testPG, ObjectID{Pool: 2, Name: "a"}) }, ErrInvalid},
		{"bad collection", func(x *Txn) { x.CreateCollection(PG(-5, 1)) }, ErrInvalid},
		{"write past limit", func(x *Txn) { x.Write(testPG, obj("keep"), 1<<20-10, make([]byte, 11)) }, ErrTooLarge},
		{"offset overflow", func(x *Txn) { x.Write(testPG, obj("keep"), ^uint64(0)-1, make([]byte, 11)) }, ErrTooLarge},
		{"truncate past limit", func(x *Txn) { x.Truncate(testPG, obj("keep"), 1<<20+1) }, ErrTooLarge},
		{"append past limit", func(x *Txn) { x.Append(testPG, obj("keep"), make([]byte, 1<<20-100_000)) }, ErrTooLarge},
		{"xattr name too long", func(x *Txn) { x.SetXattr(testPG, obj("keep"), strings.Repeat("x", 101), nil) }, ErrTooLarge},
		{"xattr value too large", func(x *Txn) { x.SetXattr(testPG, obj("keep"), "v", make([]byte, 64<<10+1)) }, ErrTooLarge},
		{"empty xattr name", func(x *Txn) { x.SetXattr(testPG, obj("keep"), "", nil) }, ErrInvalid},
		{"omap key too long", func(x *Txn) {
			x.OmapSet(testPG, obj("keep"), map[string][]byte{strings.Repeat("k", 4097): nil})
		}, ErrTooLarge},
		{"omap value too large", func(x *Txn) { x.OmapSet(testPG, obj("keep"), map[string][]byte{"k": make([]byte, 1<<20+1)}) }, ErrTooLarge},
		{"log entry too large", func(x *Txn) { x.AppendLog(testPG, EVersion{1, 2}, make([]byte, 1<<20+1)) }, ErrTooLarge},
		{"empty pg key", func(x *Txn) { x.SetPGMeta(testPG, "", nil) }, ErrInvalid},
		{"exclusive create of existing", func(x *Txn) { x.Create(testPG, obj("keep")) }, ErrExists},
		{"duplicate log entry", func(x *Txn) { x.AppendLog(testPG, EVersion{1, 1}, nil) }, ErrExists},
		{"missing collection", func(x *Txn) { x.Touch(PG(1, 99), obj("a")) }, ErrNoCollection},
		{"remove missing", func(x *Txn) { x.Remove(testPG, obj("ghost")) }, ErrNotFound},
		{"rm missing xattr", func(x *Txn) { x.RmXattr(testPG, obj("keep"), "nope") }, ErrNoXattr},
		{"remove non-empty collection", func(x *Txn) { x.RemoveCollection(testPG) }, ErrCollectionNotEmpty},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			txn := NewTxn()
			// Everything before the bad op would change the store.
			txn.Write(testPG, obj("keep"), 0, []byte("CLOBBER"))
			txn.Touch(testPG, obj("new-object"))
			txn.SetXattr(testPG, obj("keep"), "a", []byte("2"))
			txn.AppendLog(testPG, EVersion{1, 100}, []byte("e"))
			txn.SetPGInfo(testPG, []byte("info"))
			tc.last(txn)
			err := s.Apply(bg, txn)
			wantErr(t, err, tc.want)
			if !strings.Contains(err.Error(), "op 5") {
				t.Errorf("error does not name the failing op: %v", err)
			}
			if after := snapshot(t, s); after != before {
				t.Fatalf("store changed by a rejected transaction")
			}
		})
	}
	if st := s.Stats(); st.FailedTxns == 0 {
		t.Fatalf("FailedTxns = 0 after rejected transactions")
	}
}

func TestSubmitMisuse(t *testing.T) {
	s := newStore(t, Options{})
	_, err := s.Submit(bg, nil)
	wantErr(t, err, ErrInvalid)
	txn := NewTxn()
	txn.Touch(testPG, obj("a"))
	mustApply(t, s, txn)
	wantErr(t, s.Apply(bg, txn), ErrInvalid) // a Txn is submitted once

	ro, err := Open(t.TempDir(), Options{ReadOnly: true})
	wantErr(t, err, ErrNoStore)
	if ro != nil {
		t.Fatal("store returned with an error")
	}
}

func TestLimitOptionsChecked(t *testing.T) {
	for _, l := range []Limits{
		{NameLen: 20000},
		{OmapKeyLen: 40000},
		{ObjectSize: 1 << 41},
		{XattrValueLen: -1},
	} {
		_, err := Create(t.TempDir(), Options{Limits: l})
		wantErr(t, err, ErrInvalid)
	}
	// The longest ids the default limits allow, full of bytes that need
	// escaping, still fit bbolt's key limit.
	s := newStore(t, Options{})
	o := ObjectID{Pool: 1, Name: strings.Repeat("\x00", 2048), Key: strings.Repeat("\x00", 2047) + "k", Namespace: strings.Repeat("\x00", 256)}
	txn := NewTxn()
	txn.Write(testPG, o, 0, []byte("x"))
	mustApply(t, s, txn)
	page, err := s.ListObjects(bg, testPG, "", 0)
	if err != nil || len(page.Objects) != 1 || page.Objects[0] != o {
		t.Fatalf("listing the longest id returned %d objects (equal: %v), %v",
			len(page.Objects), len(page.Objects) == 1 && page.Objects[0] == o, err)
	}
}
