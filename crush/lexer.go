package crush

// This file splits crushtool's text format into tokens and converts number
// tokens the way crushtool does (spec/crush-formats.md section 2). Line
// breaks carry no meaning in the format, but every token remembers its line
// and column so that errors can point at it.

import (
	"math"
	"strconv"
)

// tokenKind tells words from punctuation.
type tokenKind uint8

const (
	tokWord tokenKind = iota
	tokLBrace
	tokRBrace
	tokLBracket
	tokRBracket
	tokEOF
)

// token is one word or punctuation mark with its 1-based position in the
// source (columns count bytes).
type token struct {
	kind tokenKind
	text string
	line int
	col  int
}

// describe renders a token for error messages.
func (t token) describe() string {
	if t.kind == tokEOF {
		return "end of file"
	}
	return strconv.Quote(t.text)
}

// lex splits src into tokens: runs of non-blank characters, broken at the
// punctuation { } [ ]. Everything from '#' to the end of its line is a
// comment. Classifying words (name, integer, real) is the parser's job,
// because the grammar decides by position what a word must be.
func lex(src []byte) []token {
	var toks []token
	line, col := 1, 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line, col = line+1, 1
			i++
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case isBlank(c):
		case punctKind(c) != tokWord:
			toks = append(toks, token{kind: punctKind(c), text: string(c), line: line, col: col})
		default:
			j := i
			for j < len(src) && !isBlank(src[j]) && src[j] != '\n' && src[j] != '#' && punctKind(src[j]) == tokWord {
				j++
			}
			toks = append(toks, token{kind: tokWord, text: string(src[i:j]), line: line, col: col})
			col += j - i
			i = j
			continue
		}
		i++
		col++
	}
	return append(toks, token{kind: tokEOF, line: line, col: col})
}

// isBlank reports the whitespace crushtool folds into one space (spec 2).
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

func punctKind(c byte) tokenKind {
	switch c {
	case '{':
		return tokLBrace
	case '}':
		return tokRBrace
	case '[':
		return tokLBracket
	case ']':
		return tokRBracket
	}
	return tokWord
}

// isName reports whether s is a name: one or more of A-Z a-z 0-9 _ - .
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isUint, isInt and isNegInt are the integer token classes of spec 2.
func isUint(s string) bool   { return isDigits(s) }
func isNegInt(s string) bool { return len(s) > 1 && s[0] == '-' && isDigits(s[1:]) }
func isInt(s string) bool    { return isUint(s) || isNegInt(s) }

// isReal reports whether s is a real: an optional sign, digits with an
// optional point and fraction (at least one digit in all), and an optional
// exponent with optional sign and at least one digit. inf, nan and
// hexadecimal forms are not reals.
func isReal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		return isDigits(s[i:])
	}
	return i == len(s)
}

// intValue converts an integer token as crushtool does: the digits are read
// as a signed 64-bit value that saturates at the int64 limits, and the
// result is its low 32 bits. So 4294967295 is -1 and 4294967297 is 1.
func intValue(s string) int32 {
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			v = math.MaxUint64
			break
		}
		v = v*10 + d
	}
	var r int64
	switch {
	case neg && v >= 1<<63:
		r = math.MinInt64
	case neg:
		r = -int64(v)
	case v > math.MaxInt64:
		r = math.MaxInt64
	default:
		r = int64(v)
	}
	return int32(r)
}

// weightValue converts a real token to a 16.16 weight exactly as crushtool:
// parse to the nearest float32, multiply by 65536 in float32, truncate
// toward zero to int64 (non-finite or out-of-range values become -2^63) and
// keep the low 32 bits. Float64 arithmetic would differ for inputs such as
// 0.99999999, which must give 65536.
func weightValue(s string) uint32 {
	f64, _ := strconv.ParseFloat(s, 32) // out of range gives ±Inf, handled below
	scaled := float32(f64) * 65536
	v := float64(scaled)
	if math.IsInf(v, 0) || math.IsNaN(v) || v >= 1<<63 || v < -(1<<63) {
		return 0 // the low 32 bits of -2^63
	}
	return uint32(int64(v))
}
