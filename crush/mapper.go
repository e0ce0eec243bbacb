package crush

// This file is the rule interpreter (spec/crush-mapping.md sections 7 to 9):
// DoRule runs a rule's steps over a working vector, and the firstn and indep
// procedures pick items below a bucket. Everything lives in the caller's
// Workspace, so a mapping allocates nothing.

// mapping holds what stays fixed during one DoRule call, plus the per-rule
// tuning values that set_* steps change between choose steps.
type mapping struct {
	m       *Map
	ws      *Workspace
	x       uint32
	weights []uint32
	args    ChooseArgSet

	tries, leafTries int
	local, fallback  int
	varyR, stable    int
	descendOnce      bool
}

// selection describes one firstn or indep call: where descents start, what
// to look for, and where the chosen items (and their leaves) go.
type selection struct {
	bucket  *Bucket
	numrep  int
	target  int32 // wanted type id, 0 for devices
	out     []int32
	leafOut []int32 // nil unless choosing leaves
	start   int
	tries   int
	rtries  int
	parentR int
}

// giveUp is firstn's "no item for this replica" result.
const giveUp = int32(-1 << 31)

// DoRule runs rule `rule` for input x and writes up to len(result) items
// (result_max = len(result)) into result, returning how many were written.
// weights is the 16.16 reweight vector indexed by device id (len normally
// m.MaxDevices); devices beyond it are out. args is the choose_args set to
// use or nil. An unknown rule id writes nothing. The Map must not change
// during the call; ws must not be shared with another goroutine.
func (m *Map) DoRule(ws *Workspace, rule int, x uint32, result []int32, weights []uint32, args ChooseArgSet) int {
	r := m.Rule(rule)
	resultMax := len(result)
	if r == nil || resultMax == 0 {
		return 0
	}
	ws.ensure(resultMax)
	c := mapping{
		m: m, ws: ws, x: x, weights: weights, args: args,
		tries:       int(m.ChooseTotalTries + 1),
		local:       int(m.ChooseLocalTries),
		fallback:    int(m.ChooseLocalFallbackTries),
		varyR:       int(m.ChooseLeafVaryR),
		stable:      int(m.ChooseLeafStable),
		descendOnce: m.ChooseLeafDescendOnce != 0,
	}
	work := ws.work[:0]
	n := 0
	for _, st := range r.Steps {
		switch st.Op {
		case OpTake:
			if (st.Arg1 >= 0 && st.Arg1 < m.MaxDevices) || m.Bucket(st.Arg1) != nil {
				work = append(work[:0], st.Arg1)
			}
		case OpChooseFirstN, OpChooseIndep, OpChooseLeafFirstN, OpChooseLeafIndep:
			work = c.chooseStep(st, work, resultMax)
		case OpEmit:
			n += copy(result[n:], work)
			work = work[:0]
		default:
			c.setStep(st)
		}
	}
	return n
}

// setStep applies a set_* step; other unknown ops are ignored as in Ceph.
func (c *mapping) setStep(st Step) {
	v := int(st.Arg1)
	switch st.Op {
	case OpSetChooseTries:
		if v > 0 {
			c.tries = v
		}
	case OpSetChooseLeafTries:
		if v > 0 {
			c.leafTries = v
		}
	case OpSetChooseLocalTries:
		if v >= 0 {
			c.local = v
		}
	case OpSetChooseLocalFallbackTries:
		if v >= 0 {
			c.fallback = v
		}
	case OpSetChooseLeafVaryR:
		if v >= 0 {
			c.varyR = v
		}
	case OpSetChooseLeafStable:
		if v >= 0 {
			c.stable = v
		}
	}
}

// chooseStep expands every entry of work independently and returns the new
// working vector: the chosen items, or their leaves for chooseleaf. The
// result is built in the workspace's next/leaves vectors and copied back
// into work's storage.
func (c *mapping) chooseStep(st Step, work []int32, resultMax int) []int32 {
	if len(work) == 0 {
		return work
	}
	toLeaf := st.Op == OpChooseLeafFirstN || st.Op == OpChooseLeafIndep
	firstn := st.Op == OpChooseFirstN || st.Op == OpChooseLeafFirstN
	next, leaves := c.ws.next[:resultMax], c.ws.leaves[:resultMax]
	size := 0
	for _, w := range work {
		numrep := int(st.Arg1)
		if numrep <= 0 {
			numrep += resultMax
			if numrep <= 0 {
				continue
			}
		}
		b := c.m.Bucket(w)
		if b == nil {
			continue
		}
		sel := selection{bucket: b, numrep: numrep, target: st.Arg2, out: next[size:], start: 0}
		if toLeaf {
			sel.leafOut = leaves[size:]
		}
		if firstn {
			sel.tries, sel.rtries = c.tries, c.firstnLeafTries()
			size += c.firstn(&sel, resultMax-size)
		} else {
			k := min(numrep, resultMax-size)
			sel.tries, sel.rtries = c.tries, max(c.leafTries, 1)
			c.indep(&sel, k)
			size += k
		}
	}
	src := next
	if toLeaf {
		src = leaves
	}
	return append(work[:0], src[:size]...)
}

// firstnLeafTries is how many attempts the chooseleaf recursion of firstn
// gets: set_chooseleaf_tries, else 1 with descend_once, else the choose tries.
func (c *mapping) firstnLeafTries() int {
	switch {
	case c.leafTries > 0:
		return c.leafTries
	case c.descendOnce:
		return 1
	default:
		return c.tries
	}
}

// chooseArg returns bucket b's entry of the active choose_args set, or nil.
func (c *mapping) chooseArg(b *Bucket) *ChooseArg {
	slot := int(-1 - int64(b.ID))
	if slot < 0 || slot >= len(c.args) || c.args[slot].Empty() {
		return nil
	}
	return &c.args[slot]
}

// itemType returns the type of item (0 for devices) and whether the item is
// a device below max_devices or an existing bucket.
func (c *mapping) itemType(item int32) (int32, bool) {
	if item >= 0 {
		return 0, item < c.m.MaxDevices
	}
	b := c.m.Bucket(item)
	if b == nil {
		return 0, false
	}
	return int32(b.Type), true
}

// firstn fills s.out from s.start with up to `room` items for replicas
// s.start (or 0 when stable) up to s.numrep-1, compacting: a replica that
// finds nothing is skipped for good and leaves no hole. It returns the index
// one past the last filled slot.
func (c *mapping) firstn(s *selection, room int) int {
	pos := s.start
	rep := s.start
	if c.stable != 0 {
		rep = 0
	}
	for ; rep < s.numrep && room > 0; rep++ {
		if item := c.firstnOne(s, rep, pos, room); item != giveUp {
			s.out[pos] = item
			pos++
			room--
		}
	}
	return pos
}

// firstnOne finds the item for replica rep, to be stored at slot pos. Each
// failure bumps r; a collision may be retried locally in the bucket where it
// happened, legacy tunables may fall back to the uniform permutation there,
// and otherwise the descent restarts from s.bucket until the tries run out.
func (c *mapping) firstnOne(s *selection, rep, pos, room int) int32 {
	fails := 0
	for {
		b := s.bucket
		failsHere, depth := 0, 0
		for {
			r := rep + s.parentR + fails
			item, collide, reject, descend := c.firstnAttempt(s, b, r, pos, room, failsHere)
			if item == giveUp {
				return giveUp
			}
			if descend != nil {
				if depth++; depth > len(c.m.Buckets) {
					return giveUp // a cycle of buckets: only a corrupt map has one
				}
				b = descend
				continue
			}
			if !collide && !reject {
				return item
			}
			fails++
			failsHere++
			if collide && failsHere <= c.local {
				continue
			}
			if c.fallback > 0 && failsHere <= len(b.Items)+c.fallback {
				continue
			}
			if fails >= s.tries {
				return giveUp
			}
			break
		}
	}
}

// firstnAttempt makes one choice in bucket b with attempt number r. It
// returns giveUp when the replica must be abandoned, a bucket to descend
// into when the item is not of the wanted type, or the item with its
// collision and rejection verdicts.
func (c *mapping) firstnAttempt(s *selection, b *Bucket, r, pos, room, failsHere int) (item int32, collide, reject bool, descend *Bucket) {
	if len(b.Items) == 0 {
		return 0, false, true, nil
	}
	if c.fallback > 0 && failsHere >= len(b.Items)>>1 && failsHere > c.fallback {
		item = b.permChoose(c.ws, c.x, r)
	} else {
		item = b.choose(c.ws, c.x, r, c.chooseArg(b), pos)
	}
	t, ok := c.itemType(item)
	if !ok {
		return giveUp, false, false, nil
	}
	if t != s.target {
		if item >= 0 {
			return giveUp, false, false, nil
		}
		return item, false, false, c.m.Bucket(item)
	}
	if contains(s.out[:pos], item) {
		return item, true, false, nil
	}
	if s.leafOut != nil {
		if item >= 0 {
			s.leafOut[pos] = item
		} else if !c.firstnLeaf(s, item, r, pos, room) {
			return item, false, true, nil
		}
	}
	if t == 0 {
		reject = isOut(c.weights, item, c.x)
	}
	return item, false, reject, nil
}

// firstnLeaf chooses one device below bucket item into s.leafOut[pos] with
// a nested firstn and reports whether it found one.
func (c *mapping) firstnLeaf(s *selection, item int32, r, pos, room int) bool {
	inner := selection{
		bucket: c.m.Bucket(item), numrep: pos + 1, target: 0,
		out: s.leafOut, start: pos, tries: s.rtries,
	}
	if c.stable != 0 {
		inner.numrep = 1
	}
	if c.varyR != 0 {
		inner.parentR = r >> (c.varyR - 1)
	}
	return c.firstn(&inner, room) > pos
}

// indep fills exactly `slots` slots of s.out from s.start, breadth-first:
// every round retries each slot that is still undecided, and slots that stay
// undecided after s.tries rounds become ItemNone holes. Positions never
// shift.
func (c *mapping) indep(s *selection, slots int) {
	end := s.start + slots
	for i := s.start; i < end; i++ {
		s.out[i] = ItemUndef
		if s.leafOut != nil {
			s.leafOut[i] = ItemUndef
		}
	}
	left := slots
	for round := 0; left > 0 && round < s.tries; round++ {
		for slot := s.start; slot < end; slot++ {
			if s.out[slot] == ItemUndef && c.indepSlot(s, slot, end, round) {
				left--
			}
		}
	}
	for i := s.start; i < end; i++ {
		if s.out[i] == ItemUndef {
			s.out[i] = ItemNone
		}
		if s.leafOut != nil && s.leafOut[i] == ItemUndef {
			s.leafOut[i] = ItemNone
		}
	}
}

// indepSlot makes one descent for slot in the given round. It returns true
// when the slot is decided (an item, or a permanent ItemNone) and false when
// it stays undecided for the next round.
func (c *mapping) indepSlot(s *selection, slot, end, round int) bool {
	b := s.bucket
	for depth := 0; ; depth++ {
		stride := s.numrep
		if b.Alg == AlgUniform && len(b.Items)%s.numrep == 0 {
			stride++
		}
		r := slot + s.parentR + stride*round
		if len(b.Items) == 0 {
			return false
		}
		item := b.choose(c.ws, c.x, r, c.chooseArg(b), s.start)
		t, ok := c.itemType(item)
		// A descent longer than the bucket count means a cycle of buckets,
		// which only a corrupt map has; it ends like an invalid item.
		if !ok || (t != s.target && item >= 0) || depth > len(c.m.Buckets) {
			s.out[slot] = ItemNone
			if s.leafOut != nil {
				s.leafOut[slot] = ItemNone
			}
			return true
		}
		if t != s.target {
			b = c.m.Bucket(item)
			continue
		}
		return c.indepAccept(s, slot, end, item, t, r)
	}
}

// indepAccept applies the collision, leaf and reweight tests to an item of
// the wanted type and stores it in slot when it passes.
func (c *mapping) indepAccept(s *selection, slot, end int, item, t int32, r int) bool {
	if contains(s.out[s.start:end], item) {
		return false
	}
	if s.leafOut != nil {
		if item < 0 {
			inner := selection{
				bucket: c.m.Bucket(item), numrep: s.numrep, target: 0,
				out: s.leafOut, start: slot, tries: s.rtries, parentR: r,
			}
			c.indep(&inner, 1)
			if s.leafOut[slot] == ItemNone {
				return false
			}
		} else {
			// Written before the reweight test, as Ceph does: a refused
			// device stays in the leaf vector if the slot is never filled.
			s.leafOut[slot] = item
		}
	}
	if t == 0 && isOut(c.weights, item, c.x) {
		return false
	}
	s.out[slot] = item
	return true
}

// contains reports whether item occurs in v.
func contains(v []int32, item int32) bool {
	for _, e := range v {
		if e == item {
			return true
		}
	}
	return false
}
