package devcluster

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseLayout: cluster.json is read from disk; whatever it holds, the
// launcher gets a layout whose names are safe file names or an error.
func FuzzParseLayout(f *testing.F) {
	f.Add([]byte(`{"daemons":[{"name":"mon.a","kind":"mon","addr":"127.0.0.1:1","http_addr":"127.0.0.1:2","id":-1}],"pool":"data"}`))
	f.Add([]byte(`{"daemons":[{"name":"mon./..","kind":"mon","addr":"a","http_addr":"b"}]}`))
	f.Add([]byte(`{"daemons":[null]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := parseLayout(b)
		if err != nil {
			return
		}
		if len(l.Mons()) == 0 {
			t.Fatal("accepted a layout without monitors")
		}
		for _, d := range l.Daemons {
			if strings.ContainsAny(d.Name, "/\\\x00") || d.Addr == "" {
				t.Fatalf("accepted daemon %+v", d)
			}
		}
	})
}

// FuzzParseSamples: metrics come from the network; parsing never panics
// and keeps only lines ending in a number.
func FuzzParseSamples(f *testing.F) {
	f.Add([]byte("# HELP x\nx 1\ny{a=\"b c\"} 2.5e3\nbad\n z NaN\n"))
	f.Add([]byte(" \n\x00 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSamples(bytes.NewReader(b))
		if err != nil {
			return
		}
		for k := range s {
			if strings.Contains(k, "\n") {
				t.Fatalf("series %q spans lines", k)
			}
		}
	})
}
