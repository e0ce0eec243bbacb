package crush

// This file parses crushtool's text format (spec/crush-formats.md 3.1) into
// statements. It checks only the grammar; what the statements mean, and the
// errors crushtool reports for them, are compile.go's business.

import (
	"fmt"
	"strings"
)

// pos is a statement's or token's place in the source, for error messages.
type pos struct{ line, col int }

// CompileError is a text map that does not follow the grammar (it wraps
// ErrSyntax) or a statement that crushtool refuses (it wraps ErrCompile, and
// Msg is crushtool's own message). Line and Col (1-based, columns count
// bytes) point at the offending token or statement.
type CompileError struct {
	Line, Col int
	Msg       string
	kind      error // ErrSyntax, ErrCompile or ErrUnknownClassSilent
}

// Error returns "<line>:<col>: <message>".
func (e *CompileError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Unwrap lets callers tell syntax errors (ErrSyntax) from refused maps
// (ErrCompile).
func (e *CompileError) Unwrap() error { return e.kind }

type tunableStmt struct {
	at    pos
	name  string
	value int32
}

type deviceStmt struct {
	at    pos
	id    int32
	name  string
	class string // "" when the line has no class
}

type typeStmt struct {
	at   pos
	id   int32
	name string
}

type idLine struct {
	id    int32
	class string // "" for a plain id line
}

type itemLine struct {
	at        pos
	name      string
	weight    uint32
	hasWeight bool
	pos       int32
	hasPos    bool
}

type bucketStmt struct {
	at       pos
	typeName string
	name     string
	ids      []idLine
	alg      string
	hash     int32
	hashSet  bool
	items    []itemLine
}

type stepStmt struct {
	at       pos
	op       string // "take", "emit", "choose", "chooseleaf" or a set_* name
	item     string // take
	class    string // take ... class
	mode     string // firstn or indep
	num      int32  // choose count or set_* value
	typeName string // choose type
}

type ruleStmt struct {
	at      pos
	name    string
	id      int32
	typ     string
	minSize int32
	maxSize int32
	steps   []stepStmt
}

type chooseArgStmt struct {
	at           pos
	bucketID     int32
	weightSet    [][]uint32
	hasWeightSet bool
	ids          []int32
	hasIDs       bool
}

type chooseArgsStmt struct {
	at   pos
	id   int32
	args []chooseArgStmt
}

// bodyStmt is a bucket or a rule, in file order.
type bodyStmt struct {
	bucket *bucketStmt
	rule   *ruleStmt
}

// mapFile is a parsed text map. Header statements keep their mixed order.
type mapFile struct {
	header     []any // *tunableStmt, *deviceStmt, *typeStmt
	body       []bodyStmt
	chooseArgs []*chooseArgsStmt
}

// parser is a recursive-descent parser with backtracking over whole
// statements, like crushtool's grammar. Statement parsers return false on a
// mismatch; the furthest mismatch is remembered for the error message.
type parser struct {
	toks     []token
	i        int
	farthest int    // token index of the furthest mismatch
	expected string // what was expected there
	stmt     int    // token index where the current statement starts
	failStmt int    // start of the statement that mismatched farthest
	inBody   bool   // a bucket or rule has been parsed
}

// parseMap parses a whole text map.
func parseMap(src []byte) (*mapFile, error) {
	p := &parser{toks: lex(src)}
	f := &mapFile{}
	for p.startStmt() && p.header(f) {
	}
	for p.startStmt() && p.body(f) {
		p.inBody = true
	}
	for p.startStmt() && p.chooseArgsStmt(f) {
		p.inBody = true
	}
	if p.peek().kind != tokEOF {
		return nil, p.syntaxError()
	}
	return f, nil
}

func (p *parser) syntaxError() error {
	at := p.toks[p.farthest]
	if p.farthest < p.i || p.expected == "" {
		at, p.farthest, p.failStmt = p.peek(), p.i, p.i
	}
	if p.farthest == p.failStmt {
		// Nothing matched even the first word: list statements, not words.
		p.expected = "a tunable, device, type, bucket, rule or choose_args statement"
	}
	msg := fmt.Sprintf("syntax error: expected %s, found %s", p.expected, at.describe())
	if hint := p.hint(p.toks[p.failStmt]); hint != "" {
		msg += " (" + hint + ")"
	}
	return &CompileError{Line: at.line, Col: at.col, Msg: msg, kind: ErrSyntax}
}

// hint explains the two mistakes the grammar alone reports badly: header
// lines after the first bucket or rule, and a keyword glued to its argument
// (which crushtool accepts and then crashes on).
func (p *parser) hint(first token) string {
	keywords := []string{"tunable", "device", "type", "rule", "choose_args"}
	for _, kw := range keywords[:3] {
		if first.text == kw && p.inBody {
			return kw + " lines must come before every bucket and rule"
		}
	}
	for _, kw := range keywords {
		if len(first.text) > len(kw) && strings.HasPrefix(first.text, kw) && first.text[len(kw)] != '_' {
			return fmt.Sprintf("%q starts with the keyword %q; separate the keyword from what follows", first.text, kw)
		}
	}
	return ""
}

// startStmt marks the start of a top-level statement attempt.
func (p *parser) startStmt() bool {
	p.stmt = p.i
	return true
}

func (p *parser) peek() token { return p.toks[p.i] }

// fail records a mismatch at the current token and reports false.
func (p *parser) fail(expected string) bool {
	if p.i > p.farthest || p.expected == "" {
		p.farthest, p.expected, p.failStmt = p.i, expected, p.stmt
	} else if p.i == p.farthest && !strings.Contains(p.expected, expected) {
		p.expected += " or " + expected
	}
	return false
}

// keyword consumes the word kw.
func (p *parser) keyword(kw string) bool {
	if t := p.peek(); t.kind == tokWord && t.text == kw {
		p.i++
		return true
	}
	return p.fail(fmt.Sprintf("%q", kw))
}

func (p *parser) punct(k tokenKind, text string) bool {
	if p.peek().kind == k {
		p.i++
		return true
	}
	return p.fail(fmt.Sprintf("%q", text))
}

// word consumes a word of the class accepted by ok, storing it in out.
func (p *parser) word(what string, ok func(string) bool, out *string) bool {
	if t := p.peek(); t.kind == tokWord && ok(t.text) {
		*out = t.text
		p.i++
		return true
	}
	return p.fail(what)
}

func (p *parser) name(out *string) bool { return p.word("a name", isName, out) }

func (p *parser) integer(what string, ok func(string) bool, out *int32) bool {
	var s string
	if !p.word(what, ok, &s) {
		return false
	}
	*out = intValue(s)
	return true
}

func (p *parser) uint(out *int32) bool   { return p.integer("an unsigned integer", isUint, out) }
func (p *parser) int(out *int32) bool    { return p.integer("an integer", isInt, out) }
func (p *parser) negint(out *int32) bool { return p.integer("a negative integer", isNegInt, out) }

func (p *parser) real(out *uint32) bool {
	var s string
	if !p.word("a number", isReal, &s) {
		return false
	}
	*out = weightValue(s)
	return true
}

// try runs a statement parser and rewinds on a mismatch.
func (p *parser) try(f func() bool) bool {
	start := p.i
	if f() {
		return true
	}
	p.i = start
	return false
}

func (p *parser) at() pos { t := p.peek(); return pos{t.line, t.col} }

func (p *parser) header(f *mapFile) bool {
	at := p.at()
	var s any
	ok := p.try(func() bool {
		t := &tunableStmt{at: at}
		s = t
		return p.keyword("tunable") && p.name(&t.name) && p.uint(&t.value)
	}) || p.try(func() bool {
		d := &deviceStmt{at: at}
		s = d
		return p.keyword("device") && p.uint(&d.id) && p.name(&d.name) &&
			p.optional(func() bool { return p.keyword("class") && p.name(&d.class) })
	}) || p.try(func() bool {
		ty := &typeStmt{at: at}
		s = ty
		return p.keyword("type") && p.uint(&ty.id) && p.name(&ty.name)
	})
	if ok {
		f.header = append(f.header, s)
	}
	return ok
}

// optional runs f and succeeds either way, rewinding when f mismatches.
func (p *parser) optional(f func() bool) bool {
	p.try(f)
	return true
}

// many runs f until it mismatches (rewinding the mismatch) and succeeds.
func (p *parser) many(f func() bool) bool {
	for p.try(f) {
	}
	return true
}

func (p *parser) body(f *mapFile) bool {
	var b *bucketStmt
	var r *ruleStmt
	if p.try(func() bool { b = p.bucket(); return b != nil }) {
		f.body = append(f.body, bodyStmt{bucket: b})
		return true
	}
	if p.try(func() bool { r = p.rule(); return r != nil }) {
		f.body = append(f.body, bodyStmt{rule: r})
		return true
	}
	return false
}

func (p *parser) bucket() *bucketStmt {
	b := &bucketStmt{at: p.at()}
	ok := p.name(&b.typeName) && p.name(&b.name) && p.punct(tokLBrace, "{") &&
		p.many(func() bool {
			var l idLine
			if !(p.keyword("id") && p.negint(&l.id) &&
				p.optional(func() bool { return p.keyword("class") && p.name(&l.class) })) {
				return false
			}
			b.ids = append(b.ids, l)
			return true
		}) &&
		p.keyword("alg") && p.name(&b.alg) &&
		p.many(func() bool { return p.hashLine(b) }) &&
		p.many(func() bool { return p.itemLine(b) }) &&
		p.punct(tokRBrace, "}")
	if !ok {
		return nil
	}
	return b
}

func (p *parser) hashLine(b *bucketStmt) bool {
	if !p.keyword("hash") {
		return false
	}
	if p.keyword("rjenkins1") {
		b.hash, b.hashSet = 0, true
		return true
	}
	if p.int(&b.hash) {
		b.hashSet = true
		return true
	}
	return false
}

func (p *parser) itemLine(b *bucketStmt) bool {
	it := itemLine{at: p.at()}
	ok := p.keyword("item") && p.name(&it.name) &&
		p.optional(func() bool { it.hasWeight = p.keyword("weight") && p.real(&it.weight); return it.hasWeight }) &&
		p.optional(func() bool { it.hasPos = p.keyword("pos") && p.uint(&it.pos); return it.hasPos })
	if ok {
		b.items = append(b.items, it)
	}
	return ok
}

func (p *parser) rule() *ruleStmt {
	r := &ruleStmt{at: p.at()}
	ok := p.keyword("rule") &&
		p.optional(func() bool { return p.name(&r.name) }) &&
		p.punct(tokLBrace, "{") &&
		(p.keyword("id") || p.keyword("ruleset")) && p.uint(&r.id) &&
		p.keyword("type") && (p.word(`"replicated" or "erasure"`, isRuleType, &r.typ)) &&
		p.keyword("min_size") && p.uint(&r.minSize) &&
		p.keyword("max_size") && p.uint(&r.maxSize) &&
		p.step(r) && p.many(func() bool { return p.step(r) }) &&
		p.punct(tokRBrace, "}")
	if !ok {
		return nil
	}
	return r
}

func isRuleType(s string) bool { return s == "replicated" || s == "erasure" }

// setSteps are the rule steps that take one unsigned value.
var setSteps = map[string]Op{
	"set_choose_tries":                OpSetChooseTries,
	"set_choose_local_tries":          OpSetChooseLocalTries,
	"set_choose_local_fallback_tries": OpSetChooseLocalFallbackTries,
	"set_chooseleaf_tries":            OpSetChooseLeafTries,
	"set_chooseleaf_vary_r":           OpSetChooseLeafVaryR,
	"set_chooseleaf_stable":           OpSetChooseLeafStable,
}

func isSetStep(s string) bool { _, ok := setSteps[s]; return ok }

func isChoose(s string) bool { return s == "choose" || s == "chooseleaf" }

func isMode(s string) bool { return s == "firstn" || s == "indep" }

func (p *parser) step(r *ruleStmt) bool {
	s := stepStmt{at: p.at()}
	if !p.keyword("step") {
		return false
	}
	ok := p.try(func() bool {
		s.op = "take"
		return p.keyword("take") && p.name(&s.item) &&
			p.optional(func() bool { return p.keyword("class") && p.name(&s.class) })
	}) || p.try(func() bool {
		return p.word("a set_* step", isSetStep, &s.op) && p.uint(&s.num)
	}) || p.try(func() bool {
		return p.word(`"choose" or "chooseleaf"`, isChoose, &s.op) &&
			p.word(`"firstn" or "indep"`, isMode, &s.mode) && p.int(&s.num) &&
			p.keyword("type") && p.name(&s.typeName)
	}) || p.try(func() bool {
		s.op = "emit"
		return p.keyword("emit")
	})
	if ok {
		r.steps = append(r.steps, s)
	}
	return ok
}

func (p *parser) chooseArgsStmt(f *mapFile) bool {
	c := &chooseArgsStmt{at: p.at()}
	ok := p.try(func() bool {
		return p.keyword("choose_args") && p.uint(&c.id) && p.punct(tokLBrace, "{") &&
			p.many(func() bool { return p.chooseArg(c) }) && p.punct(tokRBrace, "}")
	})
	if ok {
		f.chooseArgs = append(f.chooseArgs, c)
	}
	return ok
}

func (p *parser) chooseArg(c *chooseArgsStmt) bool {
	a := chooseArgStmt{at: p.at()}
	ok := p.punct(tokLBrace, "{") && p.keyword("bucket_id") && p.negint(&a.bucketID) &&
		p.optional(func() bool { a.hasWeightSet = p.weightSet(&a); return a.hasWeightSet }) &&
		p.optional(func() bool { a.hasIDs = p.idList(&a); return a.hasIDs }) &&
		p.punct(tokRBrace, "}")
	if ok {
		c.args = append(c.args, a)
	}
	return ok
}

func (p *parser) weightSet(a *chooseArgStmt) bool {
	a.weightSet = nil
	return p.keyword("weight_set") && p.punct(tokLBracket, "[") &&
		p.many(func() bool {
			row := []uint32{}
			ok := p.punct(tokLBracket, "[") && p.many(func() bool {
				var w uint32
				if p.real(&w) {
					row = append(row, w)
					return true
				}
				return false
			}) && p.punct(tokRBracket, "]")
			if ok {
				a.weightSet = append(a.weightSet, row)
			}
			return ok
		}) && p.punct(tokRBracket, "]")
}

func (p *parser) idList(a *chooseArgStmt) bool {
	a.ids = []int32{}
	return p.keyword("ids") && p.punct(tokLBracket, "[") &&
		p.many(func() bool {
			var v int32
			if p.int(&v) {
				a.ids = append(a.ids, v)
				return true
			}
			return false
		}) && p.punct(tokRBracket, "]")
}
