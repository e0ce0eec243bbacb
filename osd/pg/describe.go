package pg

import (
	"fmt"
	"strings"
)

// DescribeMessage prints one message on one line, for traces and logs.
func DescribeMessage(m Message) string {
	s := fmt.Sprintf("%s to osd.%d epoch=%d query_epoch=%d", m.Type, m.To, m.Epoch, m.QueryEpoch)
	if m.Type == MsgNotify || m.Type == MsgActivate || m.Type == MsgLog {
		s += " info(" + m.Info.String() + ")"
	}
	if m.Type == MsgLog {
		s += fmt.Sprintf(" tail=%s entries=%s", m.Tail, versions(m.Entries))
	}
	return s
}

func versions(es []LogEntry) string {
	vs := make([]string, len(es))
	for i, e := range es {
		vs[i] = e.Version.String()
	}
	return "[" + strings.Join(vs, " ") + "]"
}

// DescribeSync prints a sync plan on one line.
func DescribeSync(p SyncPlan) string {
	objs := make([]string, len(p.Objects))
	for i, o := range p.Objects {
		objs[i] = o.String()
	}
	if p.Backfill {
		return fmt.Sprintf("backfill osd.%d from osd.%d round=%d log=(%s, ...] entries=%s",
			p.OSD, p.Source, p.QueryEpoch, p.Tail, versions(p.Entries))
	}
	return fmt.Sprintf("sync osd.%d from osd.%d round=%d rewind-to=%s entries=%s objects=[%s]",
		p.OSD, p.Source, p.QueryEpoch, p.RewindTo, versions(p.Entries), strings.Join(objs, " "))
}

// DescribeReady prints every effect of r, one per line, each prefixed with
// prefix. The order is fixed (state changes, info, trims, acks, drops,
// messages) so golden traces stay stable.
func DescribeReady(prefix string, r Ready) string {
	var b strings.Builder
	line := func(format string, args ...any) {
		b.WriteString(prefix)
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	for _, c := range r.StateChanges {
		line("state %s -> %s (%s)", c.From, c.To, c.Reason)
	}
	if r.Info != nil {
		line("persist info %s", r.Info)
	}
	if r.Interval != nil {
		line("persist interval %s", r.Interval)
	}
	for _, e := range r.Trimmed {
		line("trim %s", e)
	}
	for _, d := range r.ForgottenDups {
		line("forget dup %s -> %s", d.ReqID, d.Version)
	}
	for _, e := range r.Acked {
		line("ack %s", e)
	}
	for _, e := range r.Dropped {
		line("drop %s", e)
	}
	for _, p := range r.Syncs {
		line("%s", DescribeSync(p))
	}
	for _, m := range r.Messages {
		line("send %s", DescribeMessage(m))
	}
	return b.String()
}

// DescribeLog prints the log's bounds, entries and dups.
func DescribeLog(l *Log) string {
	var b strings.Builder
	fmt.Fprintf(&b, "log (%s, %s] %d entries, %d dups\n", l.Tail(), l.Head(), l.Len(), len(l.dups))
	for _, e := range l.entries {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	for _, d := range l.dups {
		fmt.Fprintf(&b, "  dup %s -> %s uv=%d rc=%d\n", d.ReqID, d.Version, d.UserVersion, d.ReturnCode)
	}
	return b.String()
}
