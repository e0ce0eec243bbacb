package crush

// This file prints a map as the JSON of `crushtool --dump`
// (spec/crush-formats.md section 7), byte for byte: crushtool's formatter
// indents by four spaces and keeps keys in a fixed order, which Go's
// encoding/json cannot reproduce, so the JSON is written by hand.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// DumpJSON returns the map as `crushtool --dump` prints it.
func (m *Map) DumpJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteJSON streams the map as `crushtool --dump` prints it. Streaming
// matters for maps with a huge max_devices: the dump lists every device id
// below it, named or not.
func (m *Map) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	j := &jsonWriter{w: bw}
	j.open('{')
	j.key("devices")
	m.dumpDevices(j)
	j.key("types")
	m.dumpTypes(j)
	j.key("buckets")
	m.dumpBuckets(j)
	j.key("rules")
	m.dumpRules(j)
	j.key("tunables")
	m.dumpTunables(j)
	j.key("choose_args")
	m.dumpChooseArgs(j)
	j.close('}')
	bw.WriteString("\n\n")
	return bw.Flush()
}

// jsonWriter writes pretty-printed JSON with crushtool's layout: one value
// per line, four spaces per level, empty containers as {} and [].
type jsonWriter struct {
	w     *bufio.Writer
	depth int
	first []bool // per open container: nothing written in it yet
	inKey bool   // a key was just written; the value follows on its line
}

func (j *jsonWriter) indent() {
	for range j.depth {
		j.w.WriteString("    ")
	}
}

// start begins a value: a separator and a new line unless it follows a key.
func (j *jsonWriter) start() {
	if j.inKey {
		j.inKey = false
		return
	}
	if n := len(j.first); n > 0 {
		if !j.first[n-1] {
			j.w.WriteByte(',')
		}
		j.first[n-1] = false
		j.w.WriteByte('\n')
		j.indent()
	}
}

func (j *jsonWriter) open(c byte) {
	j.start()
	j.w.WriteByte(c)
	j.depth++
	j.first = append(j.first, true)
}

func (j *jsonWriter) close(c byte) {
	empty := j.first[len(j.first)-1]
	j.first = j.first[:len(j.first)-1]
	j.depth--
	if !empty {
		j.w.WriteByte('\n')
		j.indent()
	}
	j.w.WriteByte(c)
}

func (j *jsonWriter) key(k string) {
	j.start()
	j.str(k)
	j.w.WriteString(": ")
	j.inKey = true
}

func (j *jsonWriter) str(s string) {
	j.w.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			j.w.WriteByte('\\')
			j.w.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(j.w, "\\u%04x", c)
		default:
			j.w.WriteByte(c)
		}
	}
	j.w.WriteByte('"')
}

func (j *jsonWriter) stringValue(s string) { j.start(); j.str(s) }

func (j *jsonWriter) int(v int64) { j.start(); j.w.WriteString(strconv.FormatInt(v, 10)) }

func (j *jsonWriter) field(k string, v int64) { j.key(k); j.int(v) }

func (j *jsonWriter) fieldString(k, v string) { j.key(k); j.stringValue(v) }

func (m *Map) dumpDevices(j *jsonWriter) {
	j.open('[')
	for id := int32(0); id < m.MaxDevices; id++ {
		j.open('{')
		j.field("id", int64(id))
		j.fieldString("name", m.itemName(id))
		if cls, ok := m.deviceClass(id); ok {
			j.fieldString("class", cls)
		}
		j.close('}')
	}
	j.close(']')
}

func (m *Map) dumpTypes(j *jsonWriter) {
	j.open('[')
	if _, ok := m.TypeNames[0]; !ok && len(m.TypeNames) > 0 {
		j.open('{')
		j.field("type_id", 0)
		j.fieldString("name", "device")
		j.close('}')
	}
	for _, id := range typeWalkOrder(m) {
		j.open('{')
		j.field("type_id", int64(uint32(id))) // crushtool prints type ids unsigned
		j.fieldString("name", m.TypeNames[id])
		j.close('}')
	}
	j.close(']')
}

func (m *Map) dumpBuckets(j *jsonWriter) {
	j.open('[')
	for _, b := range m.Buckets {
		if b != nil {
			m.dumpBucket(j, b)
		}
	}
	j.close(']')
}

func (m *Map) dumpBucket(j *jsonWriter, b *Bucket) {
	j.open('{')
	j.field("id", int64(b.ID))
	if name, ok := m.Names[b.ID]; ok {
		j.fieldString("name", name)
	}
	j.field("type_id", int64(b.Type))
	if name, ok := m.TypeNames[int32(b.Type)]; ok {
		j.fieldString("type_name", name)
	}
	j.field("weight", int64(int32(b.Weight)))
	alg := "unknown"
	if a, ok := algText[b.Alg]; ok {
		alg = a.name
	}
	j.fieldString("alg", alg)
	hash := "unknown"
	if b.Hash == 0 {
		hash = "rjenkins1"
	}
	j.fieldString("hash", hash)
	j.key("items")
	j.open('[')
	for k, it := range b.Items {
		j.open('{')
		j.field("id", int64(it))
		j.field("weight", int64(int32(b.ItemWeight(k))))
		j.field("pos", int64(k))
		j.close('}')
	}
	j.close(']')
	j.close('}')
}

// dumpOpNames are the steps dumped as {"op": name, "num": arg1, ...}.
var dumpOpNames = map[Op]string{
	OpChooseFirstN: "choose_firstn", OpChooseIndep: "choose_indep",
	OpChooseLeafFirstN: "chooseleaf_firstn", OpChooseLeafIndep: "chooseleaf_indep",
	OpSetChooseTries: "set_choose_tries", OpSetChooseLeafTries: "set_chooseleaf_tries",
}

func (m *Map) dumpRules(j *jsonWriter) {
	j.open('[')
	for id, r := range m.Rules {
		if r == nil {
			continue
		}
		j.open('{')
		j.field("rule_id", int64(id))
		if name, ok := m.RuleNames[int32(id)]; ok {
			j.fieldString("rule_name", name)
		}
		j.field("ruleset", int64(r.Ruleset))
		j.field("type", int64(r.Type))
		j.field("min_size", int64(r.MinSize))
		j.field("max_size", int64(r.MaxSize))
		j.key("steps")
		j.open('[')
		for _, s := range r.Steps {
			m.dumpStep(j, s)
		}
		j.close(']')
		j.close('}')
	}
	j.close(']')
}

func (m *Map) dumpStep(j *jsonWriter, s Step) {
	j.open('{')
	switch {
	case s.Op == OpNoop || s.Op == OpEmit:
		j.fieldString("op", map[Op]string{OpNoop: "noop", OpEmit: "emit"}[s.Op])
	case s.Op == OpTake:
		j.fieldString("op", "take")
		j.field("item", int64(s.Arg1))
		j.fieldString("item_name", m.Names[s.Arg1])
	case dumpOpNames[s.Op] != "":
		j.fieldString("op", dumpOpNames[s.Op])
		j.field("num", int64(s.Arg1))
		if s.Op != OpSetChooseTries && s.Op != OpSetChooseLeafTries {
			j.fieldString("type", m.TypeNames[s.Arg2])
		}
	default:
		j.field("opcode", int64(s.Op))
		j.field("arg1", int64(s.Arg1))
		j.field("arg2", int64(s.Arg2))
	}
	j.close('}')
}

// mapFeatures are the facts about rules and buckets the tunables dump uses.
type mapFeatures struct{ v2Rules, v3Rules, v5Rules, straw2 bool }

func (m *Map) features() mapFeatures {
	var f mapFeatures
	for _, r := range m.Rules {
		if r == nil {
			continue
		}
		for _, s := range r.Steps {
			switch s.Op {
			case OpChooseIndep, OpChooseLeafIndep, OpSetChooseTries, OpSetChooseLeafTries:
				f.v2Rules = true
			case OpSetChooseLeafVaryR:
				f.v3Rules = true
			case OpSetChooseLeafStable:
				f.v5Rules = true
			}
		}
	}
	for _, b := range m.Buckets {
		if b != nil && b.Alg == AlgStraw2 {
			f.straw2 = true
		}
	}
	return f
}

func (m *Map) minimumRequiredVersion(f mapFeatures) string {
	t := m.Tunables
	switch {
	case f.v5Rules || t.ChooseLeafStable != 0:
		return "jewel"
	case f.straw2:
		return "hammer"
	case t.ChooseLeafVaryR != 0:
		return "firefly"
	case t.ChooseLeafDescendOnce != 0 || !legacyTries(t):
		return "bobtail"
	}
	return "argonaut"
}

func legacyTries(t Tunables) bool {
	return t.ChooseLocalTries == 2 && t.ChooseLocalFallbackTries == 5 && t.ChooseTotalTries == 19
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (m *Map) dumpTunables(j *jsonWriter) {
	t, f := m.Tunables, m.features()
	j.open('{')
	j.field("choose_local_tries", int64(t.ChooseLocalTries))
	j.field("choose_local_fallback_tries", int64(t.ChooseLocalFallbackTries))
	j.field("choose_total_tries", int64(t.ChooseTotalTries))
	j.field("chooseleaf_descend_once", int64(t.ChooseLeafDescendOnce))
	j.field("chooseleaf_vary_r", int64(t.ChooseLeafVaryR))
	j.field("chooseleaf_stable", int64(t.ChooseLeafStable))
	j.field("straw_calc_version", int64(t.StrawCalcVersion))
	j.field("allowed_bucket_algs", int64(t.AllowedBucketAlgs))
	profile := t.ProfileName()
	j.fieldString("profile", profile)
	j.field("optimal_tunables", boolInt(profile == "jewel"))
	j.field("legacy_tunables", boolInt(profile == "argonaut"))
	j.fieldString("minimum_required_version", m.minimumRequiredVersion(f))
	j.field("require_feature_tunables", boolInt(!legacyTries(t)))
	j.field("require_feature_tunables2", boolInt(t.ChooseLeafDescendOnce != 0))
	j.field("has_v2_rules", boolInt(f.v2Rules))
	j.field("require_feature_tunables3", boolInt(t.ChooseLeafVaryR != 0))
	j.field("has_v3_rules", boolInt(f.v3Rules))
	j.field("has_v4_buckets", boolInt(f.straw2))
	j.field("require_feature_tunables5", boolInt(t.ChooseLeafStable != 0))
	j.field("has_v5_rules", boolInt(f.v5Rules))
	j.close('}')
}

func (m *Map) dumpChooseArgs(j *jsonWriter) {
	ids := make([]int64, 0, len(m.ChooseArgs))
	for id := range m.ChooseArgs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	j.open('{')
	for _, id := range ids {
		j.key(strconv.FormatInt(id, 10))
		j.open('[')
		for slot, a := range m.ChooseArgs[id] {
			if !a.Empty() {
				dumpChooseArg(j, int32(-1-slot), a)
			}
		}
		j.close(']')
	}
	j.close('}')
}

func dumpChooseArg(j *jsonWriter, bucketID int32, a ChooseArg) {
	j.open('{')
	j.field("bucket_id", int64(bucketID))
	if len(a.WeightSet) > 0 {
		j.key("weight_set")
		j.open('[')
		for _, row := range a.WeightSet {
			j.open('[')
			for _, w := range row {
				j.start()
				j.w.WriteString(strconv.FormatFloat(float64(float32(w)/65536), 'g', -1, 64))
			}
			j.close(']')
		}
		j.close(']')
	}
	if len(a.IDs) > 0 {
		j.key("ids")
		j.open('[')
		for _, id := range a.IDs {
			j.int(int64(id))
		}
		j.close(']')
	}
	j.close('}')
}
