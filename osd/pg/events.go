package pg

import "fmt"

// Event is an input to PG.Step.
type Event interface{ isEvent() }

// MapEvent delivers the PG's mapping in a new map epoch. The daemon sends
// every epoch in order.
type MapEvent struct{ Mapping Mapping }

// QueryEvent is a peer's request for this OSD's PG info, or with Log for
// its whole PG log.
type QueryEvent struct {
	From       int32
	QueryEpoch uint64
	Log        bool
}

// NotifyEvent carries a peer's PG info, answering a query (or unsolicited
// after the peer saw a new interval).
type NotifyEvent struct {
	From       int32
	QueryEpoch uint64
	Info       Info
}

// CommitEvent reports that OSD From (this OSD for the local store) has
// durably committed the write with version Version.
type CommitEvent struct {
	From    int32
	Version Eversion
}

// ActivateEvent is the primary's word that the PG went active in the
// current interval; a replica records the activation epoch (local les).
type ActivateEvent struct {
	From       int32
	QueryEpoch uint64
	Info       Info
}

// ActivatedEvent is a replica's word that it persisted the activation.
type ActivatedEvent struct {
	From       int32
	QueryEpoch uint64
}

func (ActivatedEvent) isEvent() {}

// LogEvent carries a peer's PG log, answering a MsgLogQuery.
type LogEvent struct {
	From       int32
	QueryEpoch uint64
	Info       Info
	Tail       Eversion
	Entries    []LogEntry
	Dups       []Dup
}

// SyncedEvent reports that OSD From finished its SyncPlan: the log entries
// and the objects are committed there.
type SyncedEvent struct {
	From       int32
	QueryEpoch uint64
}

func (LogEvent) isEvent()      {}
func (SyncedEvent) isEvent()   {}
func (MapEvent) isEvent()      {}
func (ActivateEvent) isEvent() {}
func (QueryEvent) isEvent()    {}
func (NotifyEvent) isEvent()   {}
func (CommitEvent) isEvent()   {}

// MsgType is the kind of an outgoing peering message.
type MsgType uint8

// Peering message kinds.
const (
	// MsgQuery asks the receiver for its PG info.
	MsgQuery MsgType = iota + 1
	// MsgNotify carries the sender's PG info.
	MsgNotify
	// MsgActivate tells a replica the PG went active (with the primary's
	// info).
	MsgActivate
	// MsgLogQuery asks the receiver for its whole PG log.
	MsgLogQuery
	// MsgLog carries the sender's info and PG log.
	MsgLog
	// MsgActivated tells the primary the activation is persisted.
	MsgActivated
)

// String names the message kind.
func (t MsgType) String() string {
	switch t {
	case MsgQuery:
		return "query"
	case MsgNotify:
		return "notify"
	case MsgActivate:
		return "activate"
	case MsgLogQuery:
		return "log-query"
	case MsgLog:
		return "log"
	case MsgActivated:
		return "activated"
	}
	return fmt.Sprintf("msg(%d)", uint8(t))
}

// Message is one peering message for the daemon to send.
type Message struct {
	To   int32
	Type MsgType
	// Epoch is the sender's map epoch; QueryEpoch names the peering round
	// (see the proto's PeeringMessage).
	Epoch      uint64
	QueryEpoch uint64
	// Info is set on notifies, activations and logs.
	Info Info
	// Tail, Entries and Dups are set on logs.
	Tail    Eversion
	Entries []LogEntry
	Dups    []Dup
}

// SyncPlan is what one acting member must do to hold the authoritative
// history: drop its log entries after RewindTo (divergent: never
// acknowledged), append Entries, and take Source's copy of every object
// in Objects (or delete the object where Source has none).
//
// A Backfill plan is for a member whose log does not overlap the
// authority's: its whole log is replaced by (Tail, Entries], and it takes
// Source's copy of every object of the PG (and drops the others); Objects
// is then empty, the daemon enumerates the source's objects.
type SyncPlan struct {
	OSD        int32
	Source     int32
	QueryEpoch uint64
	RewindTo   Eversion
	Entries    []LogEntry
	Objects    []ObjectID
	Backfill   bool
	Tail       Eversion
	// Dups are the authority's dup list, which a backfilled member takes
	// with the log so that resends of trimmed writes are still answered.
	Dups []Dup
}

// StateChange records one transition, with the reason in words.
type StateChange struct {
	From, To State
	Reason   string
}

// Ready is everything the PG wants done after some Steps: the daemon sends
// the messages, persists the info and deletes trimmed entries (in its next
// store transaction for this PG), replies to the clients of acked writes and
// tells the clients of dropped writes to resend, then calls Advance.
type Ready struct {
	Messages []Message
	// Info, when non-nil, must be persisted.
	Info *Info
	// Trimmed entries were dropped from the log (their request ids went to
	// the dup list) and can be deleted from the store.
	Trimmed []LogEntry
	// ForgottenDups fell off the bounded dup list during those trims; the
	// daemon deletes their persisted copies.
	ForgottenDups []Dup
	// Acked writes are now durable on every acting member, in version
	// order.
	Acked []LogEntry
	// Dropped writes were in flight when the interval changed; they were
	// never acknowledged and their clients must resend.
	Dropped []LogEntry
	// Syncs are recovery plans to execute: this OSD's own first (pull the
	// objects from the source, apply, then step SyncedEvent), then the
	// replicas' (push from this OSD; step SyncedEvent on each ack).
	Syncs []SyncPlan
	// Interval, when set, is the mapping of a new interval; the daemon
	// persists it and hands it back with RestoreMapping after a restart.
	Interval     *Mapping
	StateChanges []StateChange
}

// IsEmpty reports whether there is nothing to do.
func (r Ready) IsEmpty() bool {
	return len(r.Messages) == 0 && r.Info == nil && len(r.Trimmed) == 0 && len(r.ForgottenDups) == 0 &&
		len(r.Acked) == 0 && len(r.Dropped) == 0 && len(r.Syncs) == 0 && r.Interval == nil && len(r.StateChanges) == 0
}
