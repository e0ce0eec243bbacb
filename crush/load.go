package crush

import "encoding/binary"

// IsBinary reports whether data starts with the binary CRUSH map magic. A
// text map can never start with it: its first bytes are NUL bytes.
func IsBinary(data []byte) bool {
	return len(data) >= 4 && binary.LittleEndian.Uint32(data) == Magic
}

// Load reads a CRUSH map in either of crushtool's formats, deciding by
// content rather than by file name: binary maps (what `crushtool -c` and
// `ceph osd getcrushmap` write) are decoded, anything else is compiled as
// crushtool's text format.
func Load(data []byte) (*Map, error) {
	if IsBinary(data) {
		return Decode(data)
	}
	return Compile(data)
}
