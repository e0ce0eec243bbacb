// Package cluster owns the cluster map: the OSDMap (epoch, fsid, pools, OSD
// state and addresses, weights, the CRUSH map, pg_temp and upmap exceptions),
// its Incremental, Apply and Diff, and the object -> PG -> up/acting placement
// pipeline that clients and OSDs compute themselves.
//
// Everything here is a pure function of its inputs: no I/O, no clocks, no
// goroutines. The monitors, OSDs and clients wrap it.
//
// # Placement
//
// ObjectToPG hashes an object's key (locator key or name, with its
// namespace) with the pool's object hash and folds it onto pg_num with
// StableMod. MapPG (and the convenience forms PGToUpActing and PGToRaw)
// follows Ceph's OSDMap pipeline exactly: CRUSH with the pool's rule, size,
// the reweight vector and the pool's choose_args; removal of nonexistent
// OSDs; pg_upmap and pg_upmap_items (ignored when a target is out); removal
// of down OSDs (replicated pools shift, erasure pools keep crush.ItemNone
// holes); primary affinity; pg_temp and primary_temp. Results are checked
// against osdmaptool and crushtool output in testdata (see testdata/gen.sh).
// A map caches its reweight vector and a pool of CRUSH workspaces on first
// use, so MapPG does not allocate; treat a map as read-only from then on.
//
// # Versions
//
// An Incremental turns the map of epoch e into the map of epoch e+1. The
// monitor edits a Clone of the current map and calls Diff (or builds an
// Incremental by hand and calls Seal); receivers call Apply, which refuses an
// incremental for another cluster, for another epoch, one that breaks an
// invariant, or one whose result does not match the crc32c the sender
// computed. Apply never mutates its input.
//
// # Encoding
//
// Marshal and Unmarshal (and their Incremental forms) use the canonical,
// deterministic protobuf encoding of proto/cluster.proto; equal maps encode
// to equal bytes. Unmarshal validates everything and never panics.
package cluster
