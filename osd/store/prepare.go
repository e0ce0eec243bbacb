package store

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Preparing a transaction happens in Submit, on the caller's goroutine, so
// that the expensive parts of a write run in parallel across writers
// rather than on the committer: checksumming the blocks a write covers
// completely and, for runs of at least Options.BlockFileMin bytes, writing
// them to the block file. Blocks a write covers only partly are merged with
// the old contents by the committer.

// extentJob is one run of whole blocks of a write going to the block file.
type extentJob struct {
	op         *op
	first, end uint64 // block indexes [first, end)
}

// prepare seals the inline blocks of t's writes and starts its block file
// writes; t.io is closed when those are done. A WriteFull replaces the
// whole object, so all of its blocks, including a short last one, are
// complete.
func (s *Store) prepare(t *Txn) error {
	bs := uint64(s.blockSize)
	var jobs []extentJob
	for i := range t.ops {
		p := &t.ops[i]
		if (p.kind != opWrite && p.kind != opWriteFull) || p.len == 0 {
			continue
		}
		first, last := p.off/bs, (p.off+p.len-1)/bs
		p.firstBlock = first
		p.blocks = make([]prepBlock, last-first+1)
		// Whole blocks of the write: [wholeFirst, wholeEnd).
		wholeFirst, wholeEnd := (p.off+bs-1)/bs, (p.off+p.len)/bs
		if s.opts.BlockFileMin >= 0 && wholeEnd > wholeFirst && (wholeEnd-wholeFirst)*bs >= uint64(s.opts.BlockFileMin) {
			jobs = append(jobs, extentJob{op: p, first: wholeFirst, end: wholeEnd})
		} else {
			wholeEnd = wholeFirst // none: every block inline
		}
		for b := first; b <= last; b++ {
			if b >= wholeFirst && b < wholeEnd {
				continue // written to the block file
			}
			start, end := b*bs, (b+1)*bs
			if p.kind == opWriteFull {
				end = min(end, p.len)
			} else if start < p.off || end > p.off+p.len {
				continue
			}
			p.blocks[b-first] = prepBlock{val: s.sealPooled(p.data[start-p.off : end-p.off])}
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	return s.startExtentWrites(t, jobs)
}

// startExtentWrites allocates the units of jobs and writes them on a
// goroutine of their own; the committer waits for t.io.
func (s *Store) startExtentWrites(t *Txn, jobs []extentJob) error {
	var n uint64
	for _, j := range jobs {
		n += j.end - j.first
	}
	runs, err := s.bf.alloc(n)
	if err != nil {
		return fmt.Errorf("object store: %w", err)
	}
	t.runs = runs
	t.io = make(chan struct{})
	go func() {
		defer close(t.io)
		t.ioErr = s.writeExtents(t, jobs, runs)
	}()
	return nil
}

// writeExtents checksums the blocks of jobs and writes them to runs, in
// order: the k-th block of the jobs goes to the k-th unit of the runs.
func (s *Store) writeExtents(t *Txn, jobs []extentJob, runs []unitRun) error {
	bs := uint64(s.blockSize)
	ri, used := 0, uint64(0) // current run and units of it used so far
	for _, j := range jobs {
		p := j.op
		for b := j.first; b < j.end; {
			r := runs[ri]
			k := min(j.end-b, r.n-used) // blocks that go to this run
			unit := r.start + used
			data := p.data[b*bs-p.off : (b+k)*bs-p.off]
			for i := uint64(0); i < k; i++ {
				payload := data[i*bs : (i+1)*bs]
				p.blocks[b+i-p.firstBlock] = prepBlock{ref: true, ext: extentRef{unit: unit + i, length: uint32(bs),
					crc: crc32.Checksum(payload, castagnoli)}}
			}
			if err := s.bf.writeRun(unit, data); err != nil {
				return err
			}
			if t.cacheData && s.bf.cache != nil {
				t.written = append(t.written, cachedRun{start: unit, data: data})
			}
			b += k
			if used += k; used == r.n {
				ri, used = ri+1, 0
			}
		}
	}
	return nil
}

// abandon gives back what prepare took for a transaction that will not be
// queued, once its block file writes are over (the units must not be
// handed out while they are still being written).
func (s *Store) abandon(t *Txn) {
	if t.io == nil {
		s.recycleBlocks(t)
		return
	}
	go func() {
		<-t.io
		s.releaseRuns(t)
		s.recycleBlocks(t)
	}()
}

// releaseRuns frees the units of a transaction that was not committed.
func (s *Store) releaseRuns(t *Txn) {
	if err := s.bf.release(t.runs); err != nil {
		s.opts.Logger.Error("object store: block file allocation", "err", err)
	}
	t.runs = nil
}

// sealPooled is sealBlock into a recycled buffer. Reusing the buffers of
// committed transactions spares the allocator, the garbage collector and
// page faults about a block's worth of fresh memory per block written.
func (s *Store) sealPooled(payload []byte) []byte {
	v := s.blockPool.Get().(*[]byte)
	b := append((*v)[:0], 0, 0, 0, 0)
	b = append(b, payload...)
	binary.BigEndian.PutUint32(b, crc32.Checksum(payload, castagnoli))
	return b
}

// recycleBlocks returns the prepared inline blocks of a completed
// transaction to the pool: bbolt copied them into its pages at commit (or
// never used them), and the transaction is not executed again.
func (s *Store) recycleBlocks(t *Txn) {
	for i := range t.ops {
		for j, b := range t.ops[i].blocks {
			if !b.ref && b.val != nil && cap(b.val) == crcLen+s.blockSize {
				v := b.val
				s.blockPool.Put(&v)
			}
			t.ops[i].blocks[j] = prepBlock{}
		}
	}
}
