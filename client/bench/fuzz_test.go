package bench

import "testing"

// FuzzParseMetadata: the metadata object is read from the cluster, so any
// bytes must give a value in range or an error, never a panic.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"prefix":"benchmark_data_h_1","objects":10,"object_size":4096}`))
	f.Add([]byte(`{"prefix":"p","objects":-1,"object_size":4096}`))
	f.Add([]byte(`{"prefix":"p","objects":1,"object_size":1e300}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := parseMetadata(b)
		if err == nil && (md.Prefix == "" || md.ObjectSize <= 0 || md.ObjectSize > 64<<20 || md.Objects < 0) {
			t.Fatalf("accepted %+v from %q", md, b)
		}
	})
}
