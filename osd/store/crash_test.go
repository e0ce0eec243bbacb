package store

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorados/gorados/internal/failpoint"
)

// The crash test re-executes the test binary as a child process that writes
// to a store from several goroutines and prints "ack W K" on stdout after
// transaction K of writer W is acknowledged. The child is killed with
// SIGKILL, by the parent at a random point or by itself at a failpoint;
// the parent then reopens the store and checks that every acknowledged
// transaction is there and that no transaction is torn.

const (
	crashChildEnv = "GORADOS_STORE_CRASH_CHILD"
	crashWriters  = 8
	crashSlots    = 16 // 4 KiB slots of object b-W
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		os.Exit(runCrashChild(dir))
	}
	os.Exit(m.Run())
}

func crashColl(w int) CollID { return PG(1, uint32(w%4)) }

func crashObj(prefix string, w int) ObjectID {
	return obj(fmt.Sprintf("%s-%d", prefix, w))
}

// crashSizeA is the size of object a-W after transaction k: 1 B to 300 KiB,
// so it spans several 64 KiB blocks.
func crashSizeA(k int) int { return 1 + (k*7919)%(300<<10) }

func crashData(w, k, n int) []byte { return pattern(w*1_000_000+k, n) }

// crashTxn is transaction k of writer w: a full write of a-W, a 4 KiB write
// into slot k%16 of b-W, xattrs, omap, a PG log entry and a PG key, all
// stamped with k.
func crashTxn(w, k int) *Txn {
	c, a, b := crashColl(w), crashObj("a", w), crashObj("b", w)
	seq := []byte(strconv.Itoa(k))
	txn := NewTxn()
	txn.WriteFull(c, a, crashData(w, k, crashSizeA(k)))
	txn.SetXattr(c, a, "seq", seq)
	txn.OmapSet(c, a, map[string][]byte{"seq": seq})
	txn.Write(c, b, uint64(k%crashSlots)*4096, crashData(w, k, 4096))
	txn.SetXattr(c, b, "seq", seq)
	txn.AppendLog(c, EVersion{1, uint64(w)<<32 | uint64(k)}, seq)
	txn.SetPGMeta(c, fmt.Sprint("w", w), seq)
	return txn
}

// runCrashChild is the child's main: it continues each writer from the
// sequence number found in the store and writes until it is killed.
func runCrashChild(dir string) int {
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 3
	}
	var wg sync.WaitGroup
	for w := 0; w < crashWriters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := storedSeq(s, w)
			if err != nil {
				fmt.Fprintln(os.Stderr, "child:", err)
				os.Exit(3)
			}
			for k++; k < 1_000_000; k++ {
				if err := s.Apply(bg, crashTxn(w, k)); err != nil {
					fmt.Fprintln(os.Stderr, "child apply:", err)
					os.Exit(3)
				}
				os.Stdout.WriteString(fmt.Sprintf("ack %d %d\n", w, k))
			}
		}()
	}
	wg.Wait()
	return 0
}

// storedSeq returns the sequence number writer w's last transaction left
// in the store (0 if none).
func storedSeq(s *Store, w int) (int, error) {
	v, err := s.GetXattr(bg, crashColl(w), crashObj("a", w), "seq")
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(v))
}

func TestCrashConsistency(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	dir := t.TempDir()
	s, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	txn := NewTxn()
	for i := 0; i < 4; i++ {
		txn.CreateCollection(crashColl(i))
	}
	mustApply(t, s, txn)
	s.Close()

	rounds := []struct {
		name      string
		failpoint string
		killAfter int // acks before the parent kills the child; 0: the failpoint does
	}{
		{"kill -9 mid-load", "", 20 + rng.IntN(200)},
		{"crash before commit", fmt.Sprintf("%s=kill@%d", FailpointBeforeCommit, 5+rng.IntN(40)), 0},
		{"crash after commit before ack", fmt.Sprintf("%s=kill@%d", FailpointAfterCommitBeforeAck, 5+rng.IntN(40)), 0},
		{"kill -9 again", "", 20 + rng.IntN(200)},
	}
	for _, r := range rounds {
		acked := runCrashRound(t, dir, r.failpoint, r.killAfter)
		t.Logf("%s: child killed; last acks per writer %v", r.name, acked)
		verifyCrashStore(t, dir, acked, fmt.Sprintf("seed %d, round %q", seed, r.name))
	}
}

// runCrashRound starts a child, kills it (or lets a failpoint kill it) and
// returns the last acknowledged sequence number of each writer this round.
func runCrashRound(t *testing.T, dir, fp string, killAfter int) [crashWriters]int {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	if fp != "" {
		cmd.Env = append(cmd.Env, failpoint.EnvVar+"="+fp)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr safeBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer watchdog.Stop()
	var acked [crashWriters]int
	n := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var w, k int
		if _, err := fmt.Sscanf(sc.Text(), "ack %d %d", &w, &k); err != nil || w < 0 || w >= crashWriters {
			t.Fatalf("bad child output %q", sc.Text())
		}
		acked[w] = k
		if n++; killAfter > 0 && n == killAfter {
			cmd.Process.Kill()
		}
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != -1 {
		t.Fatalf("child did not die by a signal: %v; stderr: %s", err, stderr.String())
	}
	if n == 0 && killAfter > 0 {
		t.Fatalf("child acknowledged nothing; stderr: %s", stderr.String())
	}
	return acked
}

// verifyCrashStore reopens the store and checks each writer's state is
// exactly that of one transaction k >= its last ack, in every object, the
// log and the PG keys.
func verifyCrashStore(t *testing.T, dir string, acked [crashWriters]int, where string) {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("%s: reopen: %v", where, err)
	}
	defer s.Close()
	for w := 0; w < crashWriters; w++ {
		k, err := storedSeq(s, w)
		if err != nil {
			t.Fatalf("%s: writer %d: %v", where, w, err)
		}
		if k < acked[w] {
			t.Fatalf("%s: writer %d: acknowledged transaction %d lost (store has %d)", where, w, acked[w], k)
		}
		if k > 0 {
			verifyWriter(t, s, w, k, where)
		}
	}
	// The block file writes of transactions the crash cut off are free
	// space again.
	checkAllocation(t, s, where)
}

func verifyWriter(t *testing.T, s *Store, w, k int, where string) {
	t.Helper()
	c, a, b := crashColl(w), crashObj("a", w), crashObj("b", w)
	where = fmt.Sprintf("%s: writer %d at %d", where, w, k)
	checkBytes(t, where+": a", mustRead(t, s, c, a), crashData(w, k, crashSizeA(k)))
	seq := strconv.Itoa(k)
	om, err := s.OmapGet(bg, c, a, "seq")
	bseq, err2 := s.GetXattr(bg, c, b, "seq")
	pgk, err3 := s.PGMeta(bg, c, fmt.Sprint("w", w))
	if err != nil || err2 != nil || err3 != nil || string(om["seq"]) != seq || string(bseq) != seq || string(pgk) != seq {
		t.Fatalf("%s: torn: omap %q xattr %q pg key %q (%v %v %v)", where, om["seq"], bseq, pgk, err, err2, err3)
	}
	checkBytes(t, where+": b", mustRead(t, s, c, b), bObjectAt(w, k))
	verifyLog(t, s, w, k, where)
}

// bObjectAt is the content of b-W after transaction k: slot j holds the
// data of the newest k' <= k with k' % 16 == j, and the object ends with
// the highest slot written so far.
func bObjectAt(w, k int) []byte {
	size := 0
	for kk := 1; kk <= k && kk <= crashSlots; kk++ {
		size = max(size, (kk%crashSlots+1)*4096)
	}
	if k >= crashSlots {
		size = crashSlots * 4096
	}
	out := make([]byte, size)
	for kk := max(1, k-crashSlots+1); kk <= k; kk++ {
		copy(out[(kk%crashSlots)*4096:], crashData(w, kk, 4096))
	}
	return out
}

// verifyLog checks writer w's log entries are exactly 1..k.
func verifyLog(t *testing.T, s *Store, w, k int, where string) {
	t.Helper()
	entries, err := s.ReadLog(bg, crashColl(w), EVersion{1, uint64(w) << 32}, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Version.Version>>32 != uint64(w) {
			break
		}
		n++
		if got := int(e.Version.Version & 0xFFFFFFFF); got != n || string(e.Data) != strconv.Itoa(n) {
			t.Fatalf("%s: log entry %d is %v %q", where, n, e.Version, e.Data)
		}
	}
	if n != k {
		t.Fatalf("%s: %d log entries, want %d", where, n, k)
	}
}

// safeBuffer collects a child's stderr.
type safeBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b = append(b.b, p...)
	return len(p), nil
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.b)
}
