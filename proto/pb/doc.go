// Package pb holds the Go code generated from gorados' .proto files in the
// parent folder (regenerated with `make proto`, committed). It holds no logic:
// the wire types are converted to and from Go types at the edges.
package pb
