package monclient

import (
	"context"
	"errors"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

// MapUpdate is one new epoch delivered by Subscribe.
type MapUpdate struct {
	// Map is the full map at the new epoch (read-only for the receiver).
	Map *cluster.OSDMap
	// Incremental led to Map from the previous update's map; nil when the
	// monitor sent a full map (first update, or history trimmed).
	Incremental *cluster.Incremental
}

// Subscribe keeps a map current: starting from have (nil for none), it
// delivers every later epoch in order, built from incrementals (whose CRC
// proves the rebuilt map identical to the monitors'), or a full map when
// the monitors no longer hold the incrementals needed. It reconnects to
// other monitors as needed and closes the channel when ctx ends.
func (c *Client) Subscribe(ctx context.Context, have *cluster.OSDMap) <-chan MapUpdate {
	out := make(chan MapUpdate, 16)
	go func() {
		defer close(out)
		cur := have
		for ctx.Err() == nil {
			var err error
			cur, err = c.subscribeOnce(ctx, cur, out)
			if err != nil && ctx.Err() == nil {
				select {
				case <-time.After(retryPause):
				case <-ctx.Done():
				}
			}
		}
	}()
	return out
}

// subscribeOnce follows one stream from one monitor until it fails.
func (c *Client) subscribeOnce(ctx context.Context, cur *cluster.OSDMap, out chan<- MapUpdate) (*cluster.OSDMap, error) {
	i := int(c.pref.Load()) % len(c.clients)
	from := uint64(0)
	if cur != nil {
		from = uint64(cur.Epoch)
	}
	stream, err := c.clients[i].Subscribe(ctx, &pb.MonSubscribeRequest{FromEpoch: from})
	if err != nil {
		c.pref.Store(int32((i + 1) % len(c.clients)))
		return cur, err
	}
	for {
		upd, err := stream.Recv()
		if err != nil {
			c.pref.Store(int32((i + 1) % len(c.clients)))
			return cur, err
		}
		next, err := deliver(ctx, cur, upd, out)
		if err != nil {
			// A gap or a CRC mismatch: start over from a full map.
			return nil, err
		}
		cur = next
	}
}

var errGap = errors.New("incremental does not follow the held map")

func deliver(ctx context.Context, cur *cluster.OSDMap, upd *pb.MonMapUpdate, out chan<- MapUpdate) (*cluster.OSDMap, error) {
	if len(upd.GetFullMap()) > 0 {
		m, err := cluster.Unmarshal(upd.GetFullMap())
		if err != nil {
			return cur, err
		}
		if cur != nil && m.Epoch <= cur.Epoch {
			return cur, nil
		}
		return m, send(ctx, out, MapUpdate{Map: m})
	}
	for _, b := range upd.GetIncrementals() {
		inc, err := cluster.UnmarshalIncremental(b)
		if err != nil {
			return cur, err
		}
		if cur == nil || inc.Epoch <= cur.Epoch {
			if cur == nil {
				return nil, errGap
			}
			continue
		}
		next, err := cluster.Apply(cur, inc)
		if err != nil {
			return nil, err
		}
		if err := send(ctx, out, MapUpdate{Map: next, Incremental: inc}); err != nil {
			return next, err
		}
		cur = next
	}
	return cur, nil
}

func send(ctx context.Context, out chan<- MapUpdate, u MapUpdate) error {
	select {
	case out <- u:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
