package crush

import "errors"

// Errors of the crush package: the codecs, the compiler, the builder, the
// bucket constructor, the tunable profiles and the crushtool-style harness.
// Callers branch on them with errors.Is; the wrapped message says what
// exactly was wrong in the input.
var (
	// ErrBadMagic means the data does not start with the CRUSH map magic.
	ErrBadMagic = errors.New("not a binary CRUSH map (bad magic number)")
	// ErrTruncated means a binary map ends in the middle of a field.
	ErrTruncated = errors.New("binary CRUSH map is truncated")
	// ErrCorrupt means a binary map is complete but internally inconsistent.
	ErrCorrupt = errors.New("binary CRUSH map is corrupt")
	// ErrSyntax is a text map that does not follow crushtool's grammar.
	ErrSyntax = errors.New("syntax error")
	// ErrCompile is a text map that parses but that crushtool would refuse.
	ErrCompile = errors.New("cannot compile CRUSH map")
	// ErrUnknownClassSilent is crushtool's silent failure for
	// `step take X class C` when class C does not exist (spec 3.7).
	ErrUnknownClassSilent = errors.New("unknown device class in a take step")
	// ErrDecompile means a map cannot be written as text (for example a
	// cycle between buckets or a take step on a malformed shadow name).
	ErrDecompile = errors.New("cannot decompile CRUSH map")
	// ErrNotFound names an item, type, rule or class that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists names an item, rule or class that is already defined.
	ErrExists = errors.New("already exists")
	// ErrInvalid is an argument that breaks a rule of the map model.
	ErrInvalid = errors.New("invalid argument")

	// ErrBadBucket reports a bucket that cannot be built from its items.
	ErrBadBucket = errors.New("invalid bucket")
	// ErrUnknownProfile reports a tunables profile name that does not exist.
	ErrUnknownProfile = errors.New("unknown tunables profile")
	// ErrUnknownRule reports a rule id that names no rule of the map.
	ErrUnknownRule = errors.New("unknown rule")
	// ErrBadTestOption reports an invalid option of the crushtool-style test harness.
	ErrBadTestOption = errors.New("invalid test option")
	// ErrUnknownDevice reports a device id that the map does not contain.
	ErrUnknownDevice = errors.New("unknown device")
)
