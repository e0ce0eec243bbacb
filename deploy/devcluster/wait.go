package devcluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/monclient"
)

// poll calls check every 100 ms until it reports done, a daemon started
// by this launcher dies, or the timeout (Config.Timeout) passes; the error
// then carries what check last said was missing.
func (c *Cluster) poll(ctx context.Context, what string, check func(ctx context.Context) (bool, string)) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	start := time.Now()
	for {
		if err := c.checkAlive(); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		done, missing := check(actx)
		acancel()
		if done {
			c.logf("%s (%.1fs)", what, time.Since(start).Seconds())
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s: not reached within %v: %s; see the logs in %s/log",
				ErrNotReady, what, c.cfg.Timeout, missing, c.dir)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WaitQuorum waits until the monitors have elected a leader and serve the
// map.
func (c *Cluster) WaitQuorum(ctx context.Context) error {
	mc, err := c.MonClient()
	if err != nil {
		return err
	}
	defer mc.Close()
	return c.poll(ctx, "monitor quorum", func(ctx context.Context) (bool, string) {
		st, err := mc.Status(ctx)
		if err != nil {
			return false, err.Error()
		}
		if !st.QuorumKnown || st.Leader == "" {
			return false, fmt.Sprintf("no leader yet (answered by %s)", st.AnsweredBy)
		}
		if _, err := mc.GetMap(ctx); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// WaitOSDsUp waits until every OSD of the layout is up in the map at its
// public address, and records the ids the monitors gave them.
func (c *Cluster) WaitOSDsUp(ctx context.Context) error {
	mc, err := c.MonClient()
	if err != nil {
		return err
	}
	defer mc.Close()
	err = c.poll(ctx, fmt.Sprintf("%d OSDs up", len(c.layout.OSDs())), func(ctx context.Context) (bool, string) {
		m, err := mc.GetMap(ctx)
		if err != nil {
			return false, err.Error()
		}
		byAddr := map[string]int32{}
		for id := range m.OSDs {
			if m.IsUp(int32(id)) {
				byAddr[m.OSDs[id].PublicAddr] = int32(id)
			}
		}
		for _, d := range c.layout.OSDs() {
			id, ok := byAddr[d.Addr]
			if !ok {
				return false, fmt.Sprintf("%s (%s) is not up in map epoch %d", d.Name, d.Addr, m.Epoch)
			}
			d.ID = id
		}
		return true, ""
	})
	if err != nil {
		return err
	}
	return c.layout.write(c.dir)
}

// ensurePool creates the layout's pool unless it exists.
func (c *Cluster) ensurePool(ctx context.Context) error {
	if c.layout.Pool == "-" {
		return nil
	}
	mc, err := c.MonClient()
	if err != nil {
		return err
	}
	defer mc.Close()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	size, minSize := c.layout.Size, c.layout.MinSize
	_, err = mc.PoolCreate(ctx, monclient.PoolCreateOpts{Name: c.layout.Pool, PGNum: c.layout.PGNum, Size: &size, MinSize: &minSize})
	switch {
	case errors.Is(err, monclient.ErrAlreadyExists):
		return nil
	case err != nil:
		return fmt.Errorf("create pool %q: %w", c.layout.Pool, err)
	}
	c.logf("created pool %q: %d PGs, size %d, min_size %d", c.layout.Pool, c.layout.PGNum, size, minSize)
	return nil
}

// WaitActive waits until every PG of the layout's pool answers a listing,
// which its primary serves only once the PG is active.
func (c *Cluster) WaitActive(ctx context.Context) error {
	if c.layout.Pool == "-" {
		return nil
	}
	conn, err := c.Connect(ctx, client.Config{AttemptTimeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	return c.poll(ctx, fmt.Sprintf("all %d PGs of pool %q active", c.layout.PGNum, c.layout.Pool), func(ctx context.Context) (bool, string) {
		io, err := conn.OpenPool(ctx, c.layout.Pool)
		if err != nil {
			return false, err.Error()
		}
		io.SetNamespace(client.AllNamespaces)
		for _, err := range io.ListObjects(ctx) {
			if err != nil {
				return false, err.Error()
			}
		}
		return true, ""
	})
}
