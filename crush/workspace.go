package crush

// Workspace is the scratch memory of one mapping: the working, next and leaf
// vectors of the rule interpreter and the permutation of uniform buckets.
// It is owned by the caller and reused across DoRule calls, so a warm
// workspace makes mapping allocation-free. A workspace must not be used by
// two goroutines at once; give each goroutine its own.
type Workspace struct {
	work, next, leaves []int32
	perm               []uint32
}

// workspaceResultMax is the result_max a new workspace is sized for. A
// larger result_max (a pool with more than this many replicas or chunks)
// still works: the vectors grow once, on the first such call.
const workspaceResultMax = 32

// NewWorkspace returns a workspace sized for m and for result_max up to 32.
func NewWorkspace(m *Map) *Workspace {
	ws := &Workspace{}
	ws.ensure(workspaceResultMax)
	largest := 0
	for _, b := range m.Buckets {
		if b != nil {
			largest = max(largest, len(b.Items))
		}
	}
	ws.perm = make([]uint32, largest)
	return ws
}

// ensure grows the rule vectors to hold n entries.
func (ws *Workspace) ensure(n int) {
	if cap(ws.work) >= n {
		return
	}
	ws.work = make([]int32, 0, n)
	ws.next = make([]int32, n)
	ws.leaves = make([]int32, n)
}

// permScratch returns n entries of permutation scratch, growing it if the
// workspace was made for a smaller map.
func (ws *Workspace) permScratch(n int) []uint32 {
	if len(ws.perm) < n {
		ws.perm = make([]uint32, n)
	}
	return ws.perm[:n]
}
