package store

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks of the object store. Each op is a whole PG-layer-like
// transaction: the data, a 256-byte object-info xattr, a 200-byte PG log
// entry and a 200-byte PG info update. Metrics beyond ns/op and MB/s:
//
//	IOPS        transactions per second
//	commits/txn group commits per transaction
//	fsyncs/txn  2 x commits/txn (bbolt fdatasyncs data pages, then the meta page)
//	cpu-µs/op   user+system CPU of the whole process per op (Unix)
//	commit-µs   mean time of one group commit: execution, bbolt write, fsyncs
//	written-B/op bytes the process handed to write/pwrite per op (wchar of
//	            /proc/self/io, Linux): bbolt's pages plus its meta page. The
//	            kernel's write_bytes counter reads about 4x higher on this
//	            ext4 host, also for plain pwrites, so it is not used.
//
// Run: go test ./osd/store -run '^$' -bench . -benchtime 3s

var (
	benchAttr = pattern(11, 256)
	benchLog  = pattern(12, 200)
	benchInfo = pattern(13, 200)
)

func benchObj(i int64) ObjectID {
	return ObjectID{Pool: 1, Name: "bench-" + strconv.FormatInt(i, 10), Hash: uint32(i) * 2654435761}
}

// procWriteBytes returns wchar of /proc/self/io: the bytes passed to write
// system calls.
func procWriteBytes() (int64, bool) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// runWriters runs op(i) for i in 1..b.N on the given number of goroutines
// and reports the store metrics.
func runWriters(b *testing.B, s *Store, writers int, op func(i int64, rng *rand.Rand) *Txn) {
	b.Helper()
	before := s.Stats()
	disk0, diskOK := procWriteBytes()
	cpu0, cpuOK := processCPU()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if err := s.Apply(bg, op(i, rng)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	st := s.Stats()
	commits := float64(st.Commits - before.Commits)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "IOPS")
	b.ReportMetric(commits/float64(b.N), "commits/txn")
	b.ReportMetric(2*commits/float64(b.N), "fsyncs/txn")
	if commits > 0 {
		b.ReportMetric(float64((st.CommitTime-before.CommitTime).Microseconds())/commits, "commit-µs")
	}
	if disk1, ok := procWriteBytes(); ok && diskOK {
		b.ReportMetric(float64(disk1-disk0)/float64(b.N), "written-B/op")
	}
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// BenchmarkWrite writes new objects of 4 KiB and 4 MiB (as rados bench
// write does) with 1 and 16 concurrent writers; 4 MiB objects also with
// their data kept inline in bbolt (BlockFileMin -1, the format 1 layout)
// for comparison with the block file.
func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{4 << 10, 4 << 20} {
		for _, writers := range []int{1, 16} {
			for _, inline := range []bool{false, true} {
				if inline && size < 1<<20 {
					continue // small writes are inline anyway
				}
				name := fmt.Sprintf("size=%s/writers=%d", sizeName(size), writers)
				opts := Options{}
				if inline {
					name, opts.BlockFileMin = name+"/inline", -1
				}
				benchWrite(b, name, opts, size, writers)
			}
		}
	}
}

func benchWrite(b *testing.B, name string, opts Options, size, writers int) {
	b.Run(name, func(b *testing.B) {
		s := newStore(b, opts)
		data := pattern(1, size)
		b.SetBytes(int64(size))
		runWriters(b, s, writers, func(i int64, _ *rand.Rand) *Txn {
			txn := NewTxn()
			o := benchObj(i)
			txn.WriteFull(testPG, o, data)
			txn.SetXattr(testPG, o, "_", benchAttr)
			txn.AppendLog(testPG, EVersion{1, uint64(i)}, benchLog)
			txn.SetPGInfo(testPG, benchInfo)
			return txn
		})
	})
}

// fillObjects creates n objects of size bytes.
func fillObjects(b *testing.B, s *Store, n, size int) {
	b.Helper()
	for i := 0; i < n; i++ {
		txn := NewTxn()
		txn.WriteFull(testPG, benchObj(int64(i)), pattern(i, size))
		mustApply(b, s, txn)
	}
}

// BenchmarkOverwrite writes 4 KiB at random 4 KiB-aligned offsets inside
// 16 existing 4 MiB objects (an RBD-like random write), with 1 and 16
// writers. written-B/op shows it costs a block, not the object.
func BenchmarkOverwrite(b *testing.B) {
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("size=4KiB/in=4MiB/writers=%d", writers), func(b *testing.B) {
			benchOverwrite(b, Options{}, writers)
		})
	}
}

func benchOverwrite(b *testing.B, opts Options, writers int) {
	s := newStore(b, opts)
	fillObjects(b, s, 16, 4<<20)
	data := pattern(2, 4096)
	b.SetBytes(4096)
	runWriters(b, s, writers, func(i int64, rng *rand.Rand) *Txn {
		txn := NewTxn()
		o := benchObj(int64(rng.IntN(16)))
		txn.Write(testPG, o, uint64(rng.IntN(1024))*4096, data)
		txn.SetXattr(testPG, o, "_", benchAttr)
		txn.AppendLog(testPG, EVersion{1, uint64(i)}, benchLog)
		txn.SetPGInfo(testPG, benchInfo)
		return txn
	})
}

// BenchmarkBlockSize compares data block sizes on 4 MiB writes and 4 KiB
// overwrites (16 writers), the trade-off behind the 64 KiB default.
func BenchmarkBlockSize(b *testing.B) {
	for _, bs := range []int{16 << 10, 32 << 10, 64 << 10, 256 << 10} {
		b.Run(fmt.Sprintf("block=%s/write=4MiB", sizeName(bs)), func(b *testing.B) {
			s := newStore(b, Options{BlockSize: bs})
			data := pattern(1, 4<<20)
			b.SetBytes(4 << 20)
			runWriters(b, s, 16, func(i int64, _ *rand.Rand) *Txn {
				txn := NewTxn()
				txn.WriteFull(testPG, benchObj(i), data)
				return txn
			})
		})
		b.Run(fmt.Sprintf("block=%s/overwrite=4KiB", sizeName(bs)), func(b *testing.B) {
			benchOverwrite(b, Options{BlockSize: bs}, 16)
		})
	}
}

// BenchmarkRead reads 4 KiB at random offsets of 4 MiB objects and whole
// 4 MiB objects, with 1 and 16 readers (data in the page cache).
func BenchmarkRead(b *testing.B) {
	for _, size := range []int{4 << 10, 4 << 20} {
		for _, readers := range []int{1, 16} {
			b.Run(fmt.Sprintf("size=%s/readers=%d", sizeName(size), readers), func(b *testing.B) {
				s := newStore(b, Options{})
				fillObjects(b, s, 16, 4<<20)
				b.SetBytes(int64(size))
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for r := 0; r < readers; r++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rng := rand.New(rand.NewPCG(uint64(r), 7))
						for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
							off := uint64(rng.IntN((4<<20)/size)) * uint64(size)
							got, err := s.Read(bg, testPG, benchObj(int64(rng.IntN(16))), off, uint64(size))
							if err != nil || len(got) != size {
								b.Errorf("read: %d bytes, %v", len(got), err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "IOPS")
			})
		}
	}
}

// BenchmarkBaselineFile is the floor an extent-file design would pay for
// the data alone: pwrite at the end of a plain file plus fdatasync, one
// writer, before any metadata commit. Compare with BenchmarkWrite/writers=1.
func BenchmarkBaselineFile(b *testing.B) {
	for _, size := range []int{4 << 10, 4 << 20} {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "extents"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			data := pattern(1, size)
			b.SetBytes(int64(size))
			cpu0, cpuOK := processCPU()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := f.WriteAt(data, int64(i)*int64(size)); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "IOPS")
			if cpu1, ok := processCPU(); ok && cpuOK {
				b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			}
		})
	}
}
