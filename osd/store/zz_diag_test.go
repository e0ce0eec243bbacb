package store

import (
	"math/rand/v2"
	"testing"
)

func TestZZDiag(t *testing.T) {
	for _, bs := range []int{16 << 10, 64 << 10} {
		s := newStore(t, Options{BlockSize: bs})
		for i := 0; i < 16; i++ {
			txn := NewTxn()
			txn.WriteFull(testPG, benchObj(int64(i)), pattern(i, 4<<20))
			mustApply(t, s, txn)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		for _, variant := range []string{"data only", "full op"} {
			st0 := s.db.Stats().TxStats
			d0, _ := procWriteBytes()
			n := 100
			for i := 0; i < n; i++ {
				txn := NewTxn()
				o := benchObj(int64(rng.IntN(16)))
				txn.Write(testPG, o, uint64(rng.IntN(1024))*4096, pattern(2, 4096))
				if variant == "full op" {
					txn.SetXattr(testPG, o, "_", benchAttr)
					txn.AppendLog(testPG, EVersion{1, uint64(i + 1000*len(variant))}, benchLog)
					txn.SetPGInfo(testPG, benchInfo)
				}
				mustApply(t, s, txn)
			}
			st1 := s.db.Stats().TxStats
			d1, _ := procWriteBytes()
			t.Logf("bs %d %s: pagealloc/txn %d KiB, writes/txn %.1f, disk/txn %d KiB", bs, variant,
				(st1.GetPageAlloc()-st0.GetPageAlloc())/int64(n)/1024, float64(st1.GetWrite()-st0.GetWrite())/float64(n), (d1-d0)/int64(n)/1024)
		}
	}
}
