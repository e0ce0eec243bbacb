package mon

import (
	"fmt"
	"net"
	"strings"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Member is one monitor of the cluster: its name (as "a" in mon.a) and the
// address it serves raft and the API on. A member's raft id is its position
// in the member list plus one.
type Member struct {
	Name string
	Addr string
}

// memberCountMax bounds the member list; Raft quorums beyond 7 only slow
// commits down.
const memberCountMax = 7

// ParseMembers parses "a=host:port,b=host:port,...".
func ParseMembers(s string) ([]Member, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: empty member list: give --initial-members a=host:port[,b=host:port...]", ErrBadConfig)
	}
	var out []Member
	names, addrs := map[string]bool{}, map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("%w: member %q is not NAME=HOST:PORT", ErrBadConfig, part)
		}
		if err := validateMonName(name); err != nil {
			return nil, err
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("%w: member %s address %q is not HOST:PORT: %w", ErrBadConfig, name, addr, err)
		}
		if names[name] || addrs[addr] {
			return nil, fmt.Errorf("%w: member %s=%s repeats a name or an address", ErrBadConfig, name, addr)
		}
		names[name], addrs[addr] = true, true
		out = append(out, Member{Name: name, Addr: addr})
	}
	if len(out) > memberCountMax {
		return nil, fmt.Errorf("%w: %d members; use 1, 3 or 5 (at most %d)", ErrBadConfig, len(out), memberCountMax)
	}
	return out, nil
}

// FormatMembers is the inverse of ParseMembers.
func FormatMembers(ms []Member) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.Name + "=" + m.Addr
	}
	return strings.Join(parts, ",")
}

func validateMonName(name string) error {
	if name == "" || len(name) > 32 {
		return fmt.Errorf("%w: monitor name %q must be 1 to 32 characters", ErrBadConfig, name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%w: monitor name %q may use only a-z, 0-9, '-' and '_'", ErrBadConfig, name)
		}
	}
	return nil
}

// memberID returns the raft id of the member named name, or 0.
func memberID(ms []Member, name string) uint64 {
	for i, m := range ms {
		if m.Name == name {
			return uint64(i + 1)
		}
	}
	return 0
}

// storedIdentity is what the first start writes to the meta bucket.
type storedIdentity struct {
	Self       string
	Members    []Member
	ListenAddr string
	HTTPAddr   string
}

// readIdentity returns the stored identity, or ok=false for a fresh store.
func readIdentity(db *bolt.DB) (id storedIdentity, ok bool, err error) {
	err = db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		self := meta.Get(keySelf)
		if self == nil {
			return nil
		}
		ms, perr := ParseMembers(string(meta.Get(keyMembers)))
		if perr != nil {
			return fmt.Errorf("%w: stored member list: %w", ErrCorruptStore, perr)
		}
		id = storedIdentity{Self: string(self), Members: ms,
			ListenAddr: string(meta.Get(keyListenAddr)), HTTPAddr: string(meta.Get(keyHTTPAddr))}
		ok = true
		return nil
	})
	return id, ok, err
}

// bootstrapStore writes a fresh monitor's identity and raft's initial state:
// a snapshot at index 1 holding the membership and initialState, and a
// HardState committed at 1. Every member starts from the same state, so the
// first leader's log simply continues at index 2.
func bootstrapStore(db *bolt.DB, id storedIdentity, initialState []byte) error {
	voters := make([]uint64, len(id.Members))
	for i := range id.Members {
		voters[i] = uint64(i + 1)
	}
	snap := &raftpb.Snapshot{Data: initialState, Metadata: &raftpb.SnapshotMetadata{
		Index: new(uint64(1)), Term: new(uint64(1)), ConfState: &raftpb.ConfState{Voters: voters},
	}}
	hs := &raftpb.HardState{Term: new(uint64(1)), Commit: new(uint64(1))}
	return db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		puts := [][2][]byte{
			{keySelf, []byte(id.Self)}, {keyMembers, []byte(FormatMembers(id.Members))},
			{keyListenAddr, []byte(id.ListenAddr)}, {keyHTTPAddr, []byte(id.HTTPAddr)},
		}
		for _, kv := range puts {
			if err := meta.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		rs := &raftState{}
		if err := rs.putSnapshot(tx, snap, true); err != nil {
			return err
		}
		b, err := proto.Marshal(hs)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketRaft).Put(keyHardState, b); err != nil {
			return err
		}
		return tx.Bucket(bucketState).Put(keyApplied, u64key(1))
	})
}
