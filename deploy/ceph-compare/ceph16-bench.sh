#!/bin/sh
# Runs the Ceph side of docs/BENCHMARKS.md ("Client, cluster and bench"): a throwaway
# Ceph 16 cluster on this machine (1 monitor, 3 BlueStore OSDs on 3 CRUSH hosts, each on a
# sparse 20 GiB file, no cephx, no mgr), a pool of 64 PGs with size 3 / min_size 2, and
# `rados bench` rows for 4 MiB and 4 KiB objects, write then seq then rand, 16 in flight.
# Needs the Debian packages ceph-mon, ceph-osd and ceph-common (16.2). Everything lives
# under $DIR (default /tmp/ceph-bench) and is removed at the end unless KEEP=1.
#
#   deploy/ceph-compare/ceph16-bench.sh [SECONDS]
set -eu
SECS=${1:-15}
DIR=${DIR:-/tmp/ceph-bench}
if [ -e "$DIR" ]; then echo "$DIR exists: remove it or set DIR" >&2; exit 1; fi
mkdir -p "$DIR/log" "$DIR/run"
cd "$DIR"
FSID=$(uuidgen)
cat > ceph.conf <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:3300
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
osd pool default size = 3
osd pool default min size = 2
osd crush chooseleaf type = 1
mon allow pool delete = true
log file = $DIR/log/\$name.log
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
ms bind ipv6 = false
ms bind msgr1 = false
[mon]
mon data = $DIR/mon.\$id
[osd]
osd data = $DIR/osd\$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 21474836480
bluestore fsck on mkfs = false
osd crush update on start = true
CONF
C="-c $DIR/ceph.conf"
stop() {
	for p in "$DIR"/run/*.pid; do [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
	sleep 8
	[ "${KEEP:-0}" = 1 ] || rm -rf "$DIR"
}
trap stop EXIT
ceph-authtool --create-keyring keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --addv a '[v2:127.0.0.1:3300]' --fsid "$FSID" monmap >/dev/null
ceph-mon $C --mkfs -i a --monmap monmap --keyring keyring
ceph-mon $C -i a
for h in 1 2 3; do
	U=$(uuidgen)
	ID=$(ceph $C osd new "$U")
	mkdir -p "osd$ID"
	ceph-osd $C -i "$ID" --mkfs --osd-uuid "$U" > "log/mkfs.$ID.out" 2>&1
	ceph-osd $C -i "$ID" --crush-location "root=default host=chost$h" 2>/dev/null
done
sleep 8
ceph $C osd pool create bench 64 64 replicated
ceph $C osd pool set bench size 3
ceph $C osd pool application enable bench rados
sleep 5
uptime
for B in 4194304 4096; do
	echo "== $B-byte objects: write, seq, rand for $SECS s each, 16 in flight"
	rados $C -p bench bench "$SECS" write -t 16 -b "$B" --no-cleanup
	rados $C -p bench bench "$SECS" seq -t 16
	rados $C -p bench bench "$SECS" rand -t 16
	rados $C -p bench cleanup >/dev/null
done
uptime
for p in "$DIR"/run/osd.*.pid; do
	echo "$(basename "$p" .pid): $(grep -E 'VmRSS|RssAnon|RssFile' /proc/"$(cat "$p")"/status | tr -s ' \t\n' ' ')"
done
