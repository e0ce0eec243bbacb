package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentUse runs writers, readers and listers at once (run it
// under -race): each writer appends numbered records to its own object and
// a shared-PG log; readers check every object they read is a prefix of
// whole records; at the end every append is there exactly once.
func TestConcurrentUse(t *testing.T) {
	s := newStore(t, Options{BlockSize: 4096})
	const writers, appends, recLen = 8, 40, 1000
	record := func(w, i int) []byte {
		return []byte(fmt.Sprintf("%0*d", recLen, w*100_000+i))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 64)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < appends; i++ {
				txn := NewTxn()
				txn.Append(testPG, obj(fmt.Sprint("c", w)), record(w, i))
				txn.AppendLog(testPG, EVersion{1, uint64(w*appends + i + 1)}, nil)
				txn.SetXattr(testPG, obj(fmt.Sprint("c", w)), "n", []byte(fmt.Sprint(i+1)))
				if err := s.Apply(bg, txn); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var readers sync.WaitGroup
	for r := 0; r < 4; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				w := (n + r) % writers
				b, err := s.Read(bg, testPG, obj(fmt.Sprint("c", w)), 0, 0)
				if err != nil && !errors.Is(err, ErrNotFound) {
					errs <- err
					return
				}
				for i := 0; i*recLen < len(b); i++ {
					if len(b)%recLen != 0 || string(b[i*recLen:(i+1)*recLen]) != string(record(w, i)) {
						errs <- fmt.Errorf("reader saw a torn or misordered object c%d (%d bytes)", w, len(b))
						return
					}
				}
				if _, err := s.ListObjects(bg, testPG, "", 3); err != nil {
					errs <- err
					return
				}
				_ = s.Stats()
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := 0; w < writers; w++ {
		b := mustRead(t, s, testPG, obj(fmt.Sprint("c", w)))
		if len(b) != appends*recLen {
			t.Fatalf("object c%d has %d bytes, want %d", w, len(b), appends*recLen)
		}
	}
	log, _ := s.ReadLog(bg, testPG, EVersion{}, 0)
	if len(log) != writers*appends {
		t.Fatalf("%d log entries, want %d", len(log), writers*appends)
	}
}
