package osd

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gorados/gorados/cluster"
)

// SuperblockFile is the name of the superblock inside an OSD data directory.
const SuperblockFile = "superblock.json"

// Superblock identifies an OSD data directory: which cluster and which OSD
// it belongs to. `osd mkfs` writes it; every start checks it.
type Superblock struct {
	// FSID is the cluster's id; an OSD refuses maps, peers and clients of
	// any other cluster.
	FSID string `json:"fsid"`
	// ID is the OSD id the monitors allocated, UUID the OSD's own id.
	ID   int32  `json:"osd_id"`
	UUID string `json:"osd_uuid"`
	// Monitors are the monitor addresses given to mkfs, used at start
	// unless overridden.
	Monitors []string `json:"monitors"`
	// Host and DeviceClass are announced at boot (CRUSH location and class).
	Host        string    `json:"host"`
	DeviceClass string    `json:"device_class"`
	Created     time.Time `json:"created"`
}

// ReadSuperblock reads the superblock of data directory dir.
func ReadSuperblock(dir string) (*Superblock, error) {
	b, err := os.ReadFile(filepath.Join(dir, SuperblockFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoSuperblock)
	}
	if err != nil {
		return nil, fmt.Errorf("read superblock: %w", err)
	}
	sb, err := parseSuperblock(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return sb, nil
}

// parseSuperblock decodes and checks a superblock file's contents.
func parseSuperblock(b []byte) (*Superblock, error) {
	var sb Superblock
	if err := json.Unmarshal(b, &sb); err != nil {
		return nil, fmt.Errorf("%w: %v (restore it from a backup or run osd mkfs on an empty directory)", ErrBadSuperblock, err)
	}
	if _, err := cluster.ParseUUID(sb.FSID); err != nil || sb.ID < 0 {
		return nil, fmt.Errorf("%w: fsid %q, id %d", ErrBadSuperblock, sb.FSID, sb.ID)
	}
	if _, err := cluster.ParseUUID(sb.UUID); err != nil {
		return nil, fmt.Errorf("%w: osd uuid %q", ErrBadSuperblock, sb.UUID)
	}
	return &sb, nil
}

// writeSuperblock writes sb atomically (temporary file, fsync, rename,
// fsync of the directory).
func writeSuperblock(dir string, sb *Superblock) error {
	b, err := json.MarshalIndent(sb, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, SuperblockFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write superblock: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write superblock: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync superblock: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, SuperblockFile)); err != nil {
		return fmt.Errorf("install superblock: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var u cluster.UUID
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}
