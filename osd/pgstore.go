package osd

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
)

// loadPG rebuilds a PG's core from the store: its info, its log and its
// persisted dups. A collection without info is a PG that was created but
// never persisted anything else; it starts empty.
func loadPG(ctx context.Context, st *store.Store, cfg pg.Config) (*pg.PG, error) {
	c := collOf(cfg.PG)
	var info pg.Info
	raw, err := st.PGInfo(ctx, c)
	switch {
	case err == nil:
		if info, err = pg.DecodeInfo(raw); err != nil {
			return nil, fmt.Errorf("pg %s: %w", cfg.PG, err)
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("pg %s: read info: %w", cfg.PG, err)
	}
	entries, err := loadLog(ctx, st, c)
	if err != nil {
		return nil, fmt.Errorf("pg %s: %w", cfg.PG, err)
	}
	dups, err := loadDups(ctx, st, c)
	if err != nil {
		return nil, fmt.Errorf("pg %s: %w", cfg.PG, err)
	}
	log, err := pg.RestoreLog(info.LogTail, entries, dups)
	if err != nil {
		return nil, fmt.Errorf("pg %s: %w", cfg.PG, err)
	}
	p, err := pg.New(cfg, info, log)
	if err != nil {
		return nil, err
	}
	raw, err = st.PGMeta(ctx, c, intervalKey)
	switch {
	case err == nil:
		m, err := pg.DecodeMapping(raw)
		if err != nil {
			return nil, fmt.Errorf("pg %s: %w", cfg.PG, err)
		}
		p.RestoreMapping(m)
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("pg %s: read interval: %w", cfg.PG, err)
	}
	return p, nil
}

// intervalKey is the per-PG store key of the current interval's mapping.
const intervalKey = "interval"

func loadLog(ctx context.Context, st *store.Store, c store.CollID) ([]pg.LogEntry, error) {
	var out []pg.LogEntry
	from := store.EVersion{}
	for {
		page, err := st.ReadLog(ctx, c, from, 0)
		if err != nil {
			return nil, fmt.Errorf("read log: %w", err)
		}
		for _, raw := range page {
			e, err := pg.DecodeEntry(raw.Data)
			if err != nil {
				return nil, fmt.Errorf("log entry %s: %w", raw.Version, err)
			}
			out = append(out, e)
		}
		if len(page) < store.DefaultListLimit {
			return out, nil
		}
		last := page[len(page)-1].Version
		from = store.EVersion{Epoch: last.Epoch, Version: last.Version + 1}
	}
}

func loadDups(ctx context.Context, st *store.Store, c store.CollID) ([]pg.Dup, error) {
	m, err := st.PGMetaList(ctx, c, dupKeyPrefix)
	if err != nil {
		return nil, fmt.Errorf("read dups: %w", err)
	}
	dups := make([]pg.Dup, 0, len(m))
	for k, v := range m {
		d, err := pg.DecodeDup(v)
		if err != nil {
			return nil, fmt.Errorf("dup %s: %w", k, err)
		}
		dups = append(dups, d)
	}
	sortDups(dups)
	return dups, nil
}

func sortDups(dups []pg.Dup) {
	sort.Slice(dups, func(i, j int) bool { return dups[i].Version.Less(dups[j].Version) })
}

// addReady records the persistent part of a PG's Ready in t: the info, the
// trimmed log range and the dup list changes.
func addReady(t *store.Txn, c store.CollID, r pg.Ready) {
	if r.Info != nil {
		t.SetPGInfo(c, pg.EncodeInfo(*r.Info))
	}
	if r.Interval != nil {
		t.SetPGMeta(c, intervalKey, pg.EncodeMapping(*r.Interval))
	}
	if len(r.Trimmed) == 0 {
		return
	}
	t.TrimLog(c, toStoreVersion(r.Trimmed[len(r.Trimmed)-1].Version))
	forgotten := map[pg.Eversion]bool{}
	for _, d := range r.ForgottenDups {
		forgotten[d.Version] = true
		t.RmPGMeta(c, dupKey(d.Version))
	}
	for _, e := range r.Trimmed {
		if !e.ReqID.IsZero() && !forgotten[e.Version] {
			t.SetPGMeta(c, dupKey(e.Version), pg.EncodeDup(pg.Dup{
				ReqID: e.ReqID, Version: e.Version, UserVersion: e.UserVersion, ReturnCode: e.ReturnCode}))
		}
	}
}
