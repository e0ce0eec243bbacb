package mon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openStore opens (creating if needed) the bbolt store of a data directory
// and makes sure every bucket of schema.go exists and the format matches.
func openStore(dir string) (*bolt.DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("%w: create data dir %s: %w", ErrBadConfig, dir, err)
	}
	path := filepath.Join(dir, storeFileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s is locked by another process: is a monitor already running on this data dir?", ErrBadConfig, path)
		}
		return nil, fmt.Errorf("%w: open %s: %w (restore the data dir from a backup or re-create this monitor)", ErrCorruptStore, path, err)
	}
	if err := initBuckets(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptStore, path, err)
	}
	return db, nil
}

// initBuckets creates missing buckets and checks (or writes) the format.
func initBuckets(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keyFormat)
		if v == nil {
			return meta.Put(keyFormat, u64key(storeFormatVersion))
		}
		if got := keyU64(v); got != storeFormatVersion {
			return fmt.Errorf("store format %d, this monitor reads format %d", got, storeFormatVersion)
		}
		return nil
	})
}
