package store

import (
	"errors"
	"testing"
)

// TestSnapshotIsConsistent: a snapshot answers like the store's own read
// methods, keeps seeing the state it was opened on after later commits,
// holds the block file units of data it can see, and refuses calls once
// closed.
func TestSnapshotIsConsistent(t *testing.T) {
	s := newStore(t, Options{BlockSize: 4096})
	o := obj("snap")
	old := pattern(1, 80<<10) // 20 blocks: in the block file
	txn := NewTxn()
	txn.WriteFull(testPG, o, old)
	txn.SetXattr(testPG, o, "x", []byte("1"))
	txn.OmapSet(testPG, o, map[string][]byte{"k": []byte("v")})
	txn.OmapSetHeader(testPG, o, []byte("hdr"))
	mustApply(t, s, txn)
	sn, err := s.Snapshot(bg)
	if err != nil {
		t.Fatal(err)
	}
	txn = NewTxn()
	txn.Remove(testPG, o)
	mustApply(t, s, txn)
	if _, err := s.Stat(bg, testPG, o); !errors.Is(err, ErrNotFound) {
		t.Fatalf("store after remove: %v", err)
	}
	info, err := sn.Stat(testPG, o)
	if err != nil || info.Size != uint64(len(old)) {
		t.Fatalf("snapshot stat = %+v, %v", info, err)
	}
	got, err := sn.Read(testPG, o, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkBytes(t, "snapshot read after the object was removed", got, old)
	part, err := sn.Read(testPG, o, 4095, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkBytes(t, "partial", part, old[4095:4105])
	x, err := sn.GetXattr(testPG, o, "x")
	xs, err2 := sn.Xattrs(testPG, o)
	h, err3 := sn.OmapHeader(testPG, o)
	kv, err4 := sn.OmapGet(testPG, o, "k", "missing")
	list, more, err5 := sn.OmapList(testPG, o, OmapListOptions{})
	if err != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil {
		t.Fatal(err, err2, err3, err4, err5)
	}
	if string(x) != "1" || len(xs) != 1 || string(h) != "hdr" || len(kv) != 1 || string(kv["k"]) != "v" || len(list) != 1 || more {
		t.Fatalf("metadata through the snapshot: %q %v %q %v %v %v", x, xs, h, kv, list, more)
	}
	_, err = sn.GetXattr(testPG, o, "nope")
	wantErr(t, err, ErrNoXattr)
	_, err = sn.Stat(testPG, obj("never"))
	wantErr(t, err, ErrNotFound)
	if n := s.bf.popcount(); n != 20 {
		t.Fatalf("%d units allocated while the snapshot can still read the removed object's 20", n)
	}
	if err := sn.Close(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, sn.Close(), ErrClosed)
	_, err = sn.Stat(testPG, o)
	wantErr(t, err, ErrClosed)
	checkAllocation(t, s, "after the snapshot closed")
}
