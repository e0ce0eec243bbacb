package mon

// This file declares every bbolt bucket and key of a monitor's store
// (DATA/mon.db), so the on-disk format reads in one place. Integers are
// big-endian so that cursor order is numeric order.

import "encoding/binary"

// storeFileName is the bbolt file inside a monitor's data directory.
const storeFileName = "mon.db"

// storeFormatVersion is written at creation; a store with another version is
// refused instead of being misread.
const storeFormatVersion = 1

var (
	// bucketMeta holds the monitor's identity and the cluster membership,
	// written once at the first start.
	bucketMeta = []byte("meta")
	// keyFormat: uint64 storeFormatVersion.
	keyFormat = []byte("format")
	// keySelf: this monitor's name (e.g. "a").
	keySelf = []byte("self")
	// keyMembers: the initial member list, "a=host:port,b=host:port" in
	// raft-id order (raft id = position + 1).
	keyMembers = []byte("members")
	// keyListenAddr / keyHTTPAddr: the addresses this monitor serves on.
	keyListenAddr = []byte("listen_addr")
	keyHTTPAddr   = []byte("http_addr")

	// bucketRaft holds raft's durable state other than the log.
	bucketRaft = []byte("raft")
	// keyHardState: marshaled raftpb.HardState.
	keyHardState = []byte("hard_state")
	// keySnapshot: marshaled raftpb.Snapshot (metadata and data) of the
	// newest snapshot; the log holds only entries after its index.
	keySnapshot = []byte("snapshot")

	// bucketRaftLog maps uint64 index -> marshaled raftpb.Entry.
	bucketRaftLog = []byte("raft_log")

	// bucketState holds the applied state of the map state machine.
	bucketState = []byte("state")
	// keyApplied: uint64 raft index of the last applied entry.
	keyApplied = []byte("applied")
	// keyFSID: the cluster fsid (string), set by the bootstrap entry.
	keyFSID = []byte("fsid")
	// keyFullMap: canonical encoding of the current OSDMap.
	keyFullMap = []byte("full_map")

	// bucketIncrementals maps uint64 epoch -> canonical encoding of the
	// Incremental that produced it; trimmed to the newest history epochs.
	bucketIncrementals = []byte("incrementals")

	// bucketRequests maps "client_id/seq" -> marshaled reply of an applied
	// command, so a retried request is answered instead of re-applied. The
	// oldest entries are dropped beyond requestCacheMax.
	bucketRequests = []byte("requests")
	// bucketRequestOrder maps uint64 sequence -> request key, the insertion
	// order used to drop the oldest entries of bucketRequests.
	bucketRequestOrder = []byte("request_order")
)

// allBuckets lists every bucket, created when the store is opened.
var allBuckets = [][]byte{
	bucketMeta, bucketRaft, bucketRaftLog, bucketState, bucketIncrementals,
	bucketRequests, bucketRequestOrder,
}

// u64key encodes an index or epoch as a bbolt key.
func u64key(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// keyU64 decodes a key written by u64key.
func keyU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
