package mon

import (
	"context"
	"fmt"
	"time"

	"github.com/gorados/gorados/proto/pb"
)

// fsidCheckWindow is how long after start the monitor compares its fsid
// with its peers'.
const fsidCheckWindow = 10 * time.Second

// checkPeerFSIDs stops the monitor when a majority of its peers belong to
// another cluster: its data dir then is another cluster's (a copied or
// mixed-up directory), and letting it vote would corrupt both.
func (m *Monitor) checkPeerFSIDs() {
	deadline := time.Now().Add(fsidCheckWindow)
	for time.Now().Before(deadline) {
		mine := m.fsid()
		if mine == "" {
			return // a fresh monitor learns the fsid from the others
		}
		foreign, answered := m.peerFSIDs(mine)
		others := len(m.ident.Members) - 1
		if others > 0 && foreign > others/2 {
			m.fatal <- fmt.Errorf("%w: %s holds cluster %s but %d of %d peers are in another cluster: wrong --data directory?",
				ErrFSIDMismatch, m.cfg.DataDir, mine, foreign, others)
			return
		}
		if answered == others {
			return
		}
		select {
		case <-time.After(time.Second):
		case <-m.stopped:
			return
		}
	}
}

// peerFSIDs asks every peer for its fsid and counts those that differ.
func (m *Monitor) peerFSIDs(mine string) (foreign, answered int) {
	for i, mem := range m.ident.Members {
		if uint64(i+1) == m.raftID {
			continue
		}
		conn, err := m.peerConn(uint64(i + 1))
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		rep, err := pb.NewMonClient(conn).Status(ctx, &pb.MonStatusRequest{})
		cancel()
		if err != nil {
			continue
		}
		answered++
		if rep.GetFsid() != "" && rep.GetFsid() != mine {
			m.log.Error("peer is in another cluster", "peer", mem.Name, "peer_fsid", rep.GetFsid(), "fsid", mine)
			foreign++
		}
	}
	return foreign, answered
}
