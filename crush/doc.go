// Package crush implements Ceph's CRUSH placement algorithm bit-identically to
// Ceph Pacific (16.2): the rjenkins1 hashes, the fixed-point logarithm used by
// straw2, the five bucket algorithms, rule execution in firstn and indep modes,
// tunables, device classes with shadow trees, choose_args weight sets and the
// per-device reweight vector. It also holds crushtool's text compiler and
// decompiler, Ceph's binary map codec and a builder used by the monitors.
//
// It owns the CRUSH map model and nothing else: it knows no pools, networks or
// daemons. Mapping takes a caller-owned Workspace so that one mapping allocates
// nothing and concurrent goroutines each use their own workspace.
//
// The specifications it implements are spec/crush-mapping.md and
// spec/crush-formats.md in the project's shared folder; file names follow
// Ceph's split (hash, ln, bucket algorithms, mapper, builder, compiler).
package crush
