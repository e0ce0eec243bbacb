package crush

import (
	"fmt"
	"testing"
)

// TestWeightValue checks the float32 16.16 conversion against the examples
// of spec section 2, which were observed with crushtool.
func TestWeightValue(t *testing.T) {
	cases := map[string]uint32{
		"1.0": 65536, "0.5": 32768, "3.7": 242483, "0.123456": 8090, "0.1": 6553,
		"0.99999999": 65536, "1.99999999": 131072, "99.99999": 6553599, "100.000001": 6553600,
		"0.0000001": 0, "65537": 65536, "70000.5": 292585472, "4294967296": 0, "1e40": 0,
		"-1": 4294901760, "-0.5": 4294934528, ".5": 32768, "5.": 327680, "+2": 131072,
		"1e2": 6553600, "1.5E-1": 9830, "0": 0,
	}
	for in, want := range cases {
		if !isReal(in) {
			t.Errorf("isReal(%q) = false", in)
		}
		if got := weightValue(in); got != want {
			t.Errorf("weightValue(%q) = %d, want %d", in, got, want)
		}
	}
	for _, bad := range []string{"", ".", "+", "e5", "1e", "1e+", "inf", "nan", "0x10", "1.2.3", "1,5", "--1", "1e5x"} {
		if isReal(bad) {
			t.Errorf("isReal(%q) = true", bad)
		}
	}
}

func TestIntValue(t *testing.T) {
	cases := map[string]int32{
		"0": 0, "42": 42, "-2": -2, "-0": 0, "4294967295": -1, "18446744073709551615": -1,
		"4294967297": 1, "2147483648": -2147483648, "-2147483649": 2147483647,
		"99999999999999999999999": -1, "-99999999999999999999999": 0, "9223372036854775807": -1,
	}
	for in, want := range cases {
		if got := intValue(in); got != want {
			t.Errorf("intValue(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestLexPositions(t *testing.T) {
	src := "device 0 osd.0 # comment { }\n\thost h{item a[1]}\r\n#\n  x"
	var got []string
	for _, tk := range lex([]byte(src)) {
		got = append(got, fmt.Sprintf("%d:%d:%s", tk.line, tk.col, tk.text))
	}
	want := []string{"1:1:device", "1:8:0", "1:10:osd.0", "2:2:host", "2:7:h", "2:8:{", "2:9:item",
		"2:14:a", "2:15:[", "2:16:1", "2:17:]", "2:18:}", "4:3:x", "4:4:"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("tokens\n got %v\nwant %v", got, want)
	}
}

func TestTokenClasses(t *testing.T) {
	for s, want := range map[string][4]bool{ // name, uint, int, negint
		"osd.0": {true, false, false, false}, "1host": {true, false, false, false},
		"42": {true, true, true, false}, "-3": {true, false, true, true}, "-": {true, false, false, false},
		"a~b": {false, false, false, false}, "": {false, false, false, false}, "+1": {false, false, false, false},
	} {
		got := [4]bool{isName(s), isUint(s), isInt(s), isNegInt(s)}
		if got != want {
			t.Errorf("classes of %q = %v, want %v", s, got, want)
		}
	}
}
