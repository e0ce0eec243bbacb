//go:build ignore

// Command genmaps writes random crushtool text maps for differential tests
// of the compiler, decompiler, dump and tree printer against crushtool. It
// is run by gen.sh (go run genmaps.go -out random); the maps are
// deterministic for a given -seed, so the committed vectors can be
// regenerated exactly.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	seed := flag.Uint64("seed", 20261123, "random seed")
	n := flag.Int("n", 150, "number of maps")
	out := flag.String("out", "random", "output folder")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for i := 0; i < *n; i++ {
		g := &gen{r: rand.New(rand.NewPCG(*seed, uint64(i)))}
		text := g.mapText()
		name := filepath.Join(*out, fmt.Sprintf("map%03d.txt", i))
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

type gen struct {
	r       *rand.Rand
	sb      strings.Builder
	devices []int
	classes []string
	types   []string // index = type id
	buckets []*bucket
	usedIDs map[int]bool
}

type bucket struct {
	name  string
	typ   int
	alg   string
	id    int // 0 = automatic
	items []item
	pins  map[string]int
}

type item struct {
	name   string
	weight string // "" = default
	pos    int    // -1 = none
}

func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.sb, format, args...) }

func (g *gen) chance(pct int) bool { return g.r.IntN(100) < pct }

func (g *gen) mapText() string {
	g.usedIDs = map[int]bool{}
	g.tunables()
	g.devicesAndTypes()
	g.hierarchy()
	g.writeBuckets()
	roots := g.roots()
	g.rules(roots)
	g.chooseArgs()
	return g.sb.String()
}

var profiles = [][7]int{
	{2, 5, 19, 0, 0, 0, 22}, {0, 0, 50, 1, 0, 0, 22}, {0, 0, 50, 1, 1, 0, 22},
	{0, 0, 50, 1, 1, 0, 54}, {0, 0, 50, 1, 1, 1, 54},
}

var tunableNames = []string{"choose_local_tries", "choose_local_fallback_tries", "choose_total_tries",
	"chooseleaf_descend_once", "chooseleaf_vary_r", "chooseleaf_stable", "allowed_bucket_algs"}

func (g *gen) tunables() {
	if g.chance(25) {
		return // legacy
	}
	prof := profiles[g.r.IntN(len(profiles))]
	for i, name := range tunableNames {
		v := prof[i]
		if g.chance(10) {
			v = g.r.IntN(5)
		}
		if g.chance(85) {
			g.p("tunable %s %d\n", name, v)
		}
	}
	if g.chance(60) {
		g.p("tunable straw_calc_version %d\n", g.r.IntN(2))
	}
}

func (g *gen) devicesAndTypes() {
	all := []string{"hdd", "ssd", "nvme"}
	g.classes = all[:g.r.IntN(4)]
	id := g.r.IntN(2)
	for n := 2 + g.r.IntN(28); n > 0; n-- {
		g.devices = append(g.devices, id)
		g.p("device %d osd.%d", id, id)
		if len(g.classes) > 0 && g.chance(85) {
			g.p(" class %s", g.classes[g.r.IntN(len(g.classes))])
		}
		g.p("\n")
		id += 1 + g.r.IntN(3)/2
	}
	g.types = []string{"osd", "host", "rack", "root"}
	start := 0
	if g.chance(10) {
		start = 1 // type 0 without a name
	}
	for t := start; t < len(g.types); t++ {
		g.p("type %d %s\n", t, g.types[t])
	}
	if g.chance(20) {
		g.p("type 11 region\n")
	}
}

var algs = []string{"straw2", "straw2", "straw2", "straw", "list", "tree", "uniform"}

func (g *gen) newBucket(name string, typ int) *bucket {
	b := &bucket{name: name, typ: typ, alg: algs[g.r.IntN(len(algs))], pins: map[string]int{}}
	if g.chance(60) {
		b.id = g.freeID()
	}
	for _, c := range g.classes {
		if g.chance(15) {
			if g.chance(10) && len(g.usedIDs) > 0 {
				b.pins[c] = -1 - g.r.IntN(8) // may collide
			} else {
				b.pins[c] = g.freeID()
			}
		}
	}
	return b
}

func (g *gen) freeID() int {
	for {
		id := -1 - g.r.IntN(60)
		if !g.usedIDs[id] {
			g.usedIDs[id] = true
			return id
		}
	}
}

func (g *gen) weight() string {
	switch g.r.IntN(10) {
	case 0:
		return ""
	case 1:
		return "0"
	case 2:
		return fmt.Sprintf("%.6f", g.r.Float64()*5)
	default:
		return fmt.Sprintf("%.3f", float64(1+g.r.IntN(5000))/1000)
	}
}

// fill adds items to b; uniform buckets get one shared weight.
func (g *gen) fill(b *bucket, names []string) {
	shared := fmt.Sprintf("%.3f", float64(1+g.r.IntN(3000))/1000)
	if b.alg == "tree" && len(names) > 64 {
		names = names[:64]
	}
	for _, n := range names {
		it := item{name: n, weight: g.weight(), pos: -1}
		if b.alg == "uniform" {
			it.weight = shared
		}
		b.items = append(b.items, it)
	}
	if (b.alg == "uniform" || b.alg == "tree") && g.chance(30) {
		for i, j := range g.r.Perm(len(b.items)) {
			if g.chance(70) {
				b.items[i].pos = j
			}
		}
	}
}

func (g *gen) hierarchy() {
	var hosts []*bucket
	nh := 1 + g.r.IntN(6)
	for h := 0; h < nh; h++ {
		b := g.newBucket(fmt.Sprintf("host%d", h), 1)
		var names []string
		for _, d := range g.devices {
			if g.r.IntN(nh) == h || g.chance(3) {
				names = append(names, fmt.Sprintf("osd.%d", d))
			}
		}
		g.fill(b, names)
		hosts = append(hosts, b)
	}
	g.buckets = append(g.buckets, hosts...)
	parents := hosts
	if g.chance(60) {
		parents = g.level(hosts, "rack", 2)
	}
	nroots := 1
	if g.chance(20) {
		nroots = 2
	}
	g.level(parents, "root", 3, nroots)
}

// level groups children under new buckets of type typ; a child may be
// shared by two parents.
func (g *gen) level(children []*bucket, prefix string, typ int, count ...int) []*bucket {
	n := 1 + g.r.IntN(3)
	if len(count) > 0 {
		n = count[0]
	}
	parents := make([]*bucket, n)
	names := make([][]string, n)
	for i := range parents {
		parents[i] = g.newBucket(fmt.Sprintf("%s%d", prefix, i), typ)
	}
	for _, c := range children {
		k := g.r.IntN(n)
		names[k] = append(names[k], c.name)
		if n > 1 && g.chance(10) {
			names[(k+1)%n] = append(names[(k+1)%n], c.name)
		}
	}
	for i, b := range parents {
		g.fill(b, names[i])
	}
	g.buckets = append(g.buckets, parents...)
	return parents
}

func (g *gen) writeBuckets() {
	order := g.buckets
	if g.chance(15) && len(order) > 1 {
		// Parent first: move the last bucket (a root) to the front.
		order = append([]*bucket{order[len(order)-1]}, order[:len(order)-1]...)
	}
	for _, b := range order {
		g.p("%s %s {\n", g.types[b.typ], b.name)
		if b.id != 0 {
			g.p("\tid %d\n", b.id)
		}
		for _, c := range g.classes {
			if id, ok := b.pins[c]; ok {
				g.p("\tid %d class %s\n", id, c)
			}
		}
		g.p("\talg %s\n", b.alg)
		if g.chance(30) {
			g.p("\thash 0\n")
		}
		for _, it := range b.items {
			g.p("\titem %s", it.name)
			if it.weight != "" {
				g.p(" weight %s", it.weight)
			}
			if it.pos >= 0 {
				g.p(" pos %d", it.pos)
			}
			g.p("\n")
		}
		g.p("}\n")
	}
}

func (g *gen) roots() []*bucket {
	child := map[string]bool{}
	for _, b := range g.buckets {
		for _, it := range b.items {
			child[it.name] = true
		}
	}
	var roots []*bucket
	for _, b := range g.buckets {
		if !child[b.name] {
			roots = append(roots, b)
		}
	}
	return roots
}

func (g *gen) rules(roots []*bucket) {
	ids := g.r.Perm(12)
	for i := 0; i < g.r.IntN(5); i++ {
		id := ids[i]
		if g.chance(5) {
			id = 256 + g.r.IntN(100)
		}
		name := fmt.Sprintf("rule%d", i)
		if g.chance(15) {
			name = ""
		}
		typ := "replicated"
		if g.chance(30) {
			typ = "erasure"
		}
		g.p("rule %s {\n\tid %d\n\ttype %s\n\tmin_size %d\n\tmax_size %d\n", name, id, typ, 1+g.r.IntN(3), 3+g.r.IntN(10))
		g.steps(roots)
		g.p("}\n")
	}
}

func (g *gen) steps(roots []*bucket) {
	sets := []string{"set_choose_tries", "set_chooseleaf_tries", "set_choose_local_tries",
		"set_choose_local_fallback_tries", "set_chooseleaf_vary_r", "set_chooseleaf_stable"}
	if g.chance(30) {
		g.p("\tstep %s %d\n", sets[g.r.IntN(len(sets))], g.r.IntN(100))
	}
	for blocks := 1 + g.r.IntN(2); blocks > 0; blocks-- {
		root := roots[g.r.IntN(len(roots))]
		g.p("\tstep take %s", root.name)
		if len(g.classes) > 0 && g.chance(50) {
			g.p(" class %s", g.classes[g.r.IntN(len(g.classes))])
		}
		g.p("\n")
		op := []string{"choose", "chooseleaf"}[g.r.IntN(2)]
		mode := []string{"firstn", "indep"}[g.r.IntN(2)]
		g.p("\tstep %s %s %d type %s\n", op, mode, g.r.IntN(5)-1, g.types[1+g.r.IntN(2)])
		g.p("\tstep emit\n")
	}
}

// chooseArgs writes sets for random buckets (straw2 or not). Bucket ids are
// known only for buckets with explicit ids, which is all a user can write.
func (g *gen) chooseArgs() {
	var withID []*bucket
	for _, b := range g.buckets {
		if b.id != 0 {
			withID = append(withID, b)
		}
	}
	if len(withID) == 0 {
		return
	}
	setIDs := []string{"18446744073709551615", "1", "2"}
	if g.chance(30) {
		setIDs[0] = "4294967295" // also the compat set
	}
	for s := 0; s < g.r.IntN(3); s++ {
		g.p("choose_args %s {\n", setIDs[s])
		positions := 1 + g.r.IntN(2)
		for _, b := range withID {
			if !g.chance(60) {
				continue
			}
			g.p("  {\n    bucket_id %d\n", b.id)
			if g.chance(80) {
				g.p("    weight_set [\n")
				for p := 0; p < positions; p++ {
					g.p("      [")
					for range b.items {
						g.p(" %.3f", float64(g.r.IntN(4000))/1000)
					}
					g.p(" ]\n")
				}
				g.p("    ]\n")
			}
			if g.chance(30) {
				g.p("    ids [")
				for range b.items {
					g.p(" %d", g.r.IntN(40)-20)
				}
				g.p(" ]\n")
			}
			g.p("  }\n")
		}
		g.p("}\n")
	}
}
