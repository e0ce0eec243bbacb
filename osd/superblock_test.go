package osd

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSuperblockRoundTripAndDamage(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadSuperblock(dir); !errors.Is(err, ErrNoSuperblock) {
		t.Fatalf("empty dir: %v, want ErrNoSuperblock", err)
	}
	sb := &Superblock{FSID: "6c2b3f0e-8f4a-4b7e-9a51-2f0c3d4e5f60", ID: 3, UUID: newUUID(),
		Monitors: []string{"127.0.0.1:6789"}, Host: "h1", DeviceClass: "ssd", Created: time.Unix(1, 0).UTC()}
	if err := writeSuperblock(dir, sb); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSuperblock(dir)
	if err != nil || got.FSID != sb.FSID || got.ID != 3 || got.Host != "h1" || got.UUID != sb.UUID {
		t.Fatalf("read back %+v, %v", got, err)
	}
	for _, bad := range []string{"", "{", `{"fsid":"nope","osd_id":1}`, `{"fsid":"6c2b3f0e-8f4a-4b7e-9a51-2f0c3d4e5f60","osd_id":-1}`} {
		if err := os.WriteFile(filepath.Join(dir, SuperblockFile), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSuperblock(dir); !errors.Is(err, ErrBadSuperblock) {
			t.Errorf("superblock %q: %v, want ErrBadSuperblock", bad, err)
		}
	}
}

func FuzzParseSuperblock(f *testing.F) {
	f.Add([]byte(`{"fsid":"6c2b3f0e-8f4a-4b7e-9a51-2f0c3d4e5f60","osd_id":1,"osd_uuid":"6c2b3f0e-8f4a-4b7e-9a51-2f0c3d4e5f61"}`))
	f.Add([]byte(`{"osd_id":-5}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sb, err := parseSuperblock(b)
		if err == nil && (sb.ID < 0 || sb.FSID == "") {
			t.Fatalf("accepted a superblock with id %d fsid %q", sb.ID, sb.FSID)
		}
	})
}
