#!/usr/bin/env bash
# Regenerates the placement golden vectors of package cluster from the real
# Ceph tools (16.2.x: crushtool, osdmaptool). The tests replay the committed
# output without Ceph; run this only to refresh it:
#
#   cd cluster/testdata && ./gen.sh
#
# Layout written:
#   names.hex                 one object name per line, hex-encoded (awkward bytes)
#   maps/NAME.txt             our CRUSH maps (hand-written, committed)
#   maps/NAME.bin             crushtool -c output
#   hash/objects.txt          HEXNAME PG for a pool of pg_num 2^31: 31 bits of each name's hash
#   vectors/CASE/crush.txt   the case's CRUSH map: maps/NAME.txt with the wanted rule as rule 0
#   vectors/CASE/crush.bin   crushtool -c of it
#   vectors/CASE/params       key value lines: map, pool, pg_num, pgp_num, size, rule, max_osd, out
#   vectors/CASE/objects.txt  HEXNAME <osdmaptool test-map-object result after the name>
#   vectors/CASE/pgs.txt      osdmaptool --test-map-pgs-dump-all output
#   vectors/CASE/upmap.txt    (upmap cases) the pg-upmap-items commands osdmaptool chose
#   pools/MAP-poolP-sizeS.txt crushtool --test --pool-id P mappings: PG placements of pools other than 1
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- object names -----------------------------------------------------------
# Short and long names, unicode, invalid UTF-8, control bytes, quotes, spaces.
# Names never start with '-' (osdmaptool would read them as options).
hexof() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
pattern() { # pattern N: N bytes of a repeating, position-dependent text
	local n=$1 s="" i=0
	while ((${#s} < n)); do s+="o$((i++))_"; done
	printf '%s' "${s:0:n}"
}
{
	for n in issue ceph-file Closer.mp3 object.1 10000000001.00000000 test test-object-1 \
		rbd_data.1234abcd.0000000000000007 "with space" "it's" 'back\slash' "a=b" \
		"x'y -> z"; do
		hexof "$n"; echo
	done
	# Unicode (valid UTF-8), invalid UTF-8, control bytes, DEL, 0x1f (the namespace separator).
	for h in c3a9 e697a5e69cace8aa9e f09f9880f09f8e89 ff fffe c328 e282 c0af 80 \
		01 090a0d 6f626a0a6e6c 7f 6e731f6b6579 616263ff00; do
		# a NUL byte cannot be passed on a command line: drop names containing one
		[[ $h == *00 ]] && continue
		echo "$h"
	done
	for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 23 24 25 36 100 255 256 1000 1023 4095 4096; do
		hexof "$(pattern "$n")"; echo
	done
} >names.hex

# name_arg HEX: the raw bytes of a name in a shell variable (keeps trailing newlines).
name_arg() { local v; v=$(printf '%s' "$1" | xxd -r -p; printf x); printf '%s' "${v%x}"; }

# map_objects MAPFILE POOL OUT [osdmaptool marks...]: one line per name:
# HEXNAME <what osdmaptool prints after "object 'NAME' -> ">
map_objects() {
	local map=$1 pool=$2 out=$3
	shift 3
	: >"$out"
	while read -r hex; do
		local name res
		name=$(name_arg "$hex"; printf x)
		name=${name%x}
		res=$(osdmaptool "$map" "$@" --test-map-object "$name" --pool "$pool" 2>/dev/null)
		printf '%s %s\n' "$hex" "${res##*"' -> "}" >>"$out"
	done <names.hex
}

# --- CRUSH maps --------------------------------------------------------------
for m in maps/*.txt; do
	crushtool -c "$m" -o "${m%.txt}.bin"
done

# --- 31 bits of every name hash ---------------------------------------------------
mkdir -p hash
osdmaptool --createsimple 1 --pg-bits 31 --with-default-pool --clobber "$work/hash.om" >/dev/null 2>&1
map_objects "$work/hash.om" 1 hash/objects.txt --mark-up-in

# --- placement cases ---------------------------------------------------------------
# case NAME MAP NUMOSD PGBITS PGPBITS SIZE RULE OUT(-1 none) UPMAP(0/1)
gen_case() {
	local name=$1 map=$2 numosd=$3 pgbits=$4 pgpbits=$5 size=$6 rule=$7 out=$8 upmap=$9
	local dir=vectors/$name om=$work/$name.om
	mkdir -p "$dir"
	# osdmaptool's pools always use rule 0 (the simple map it starts from has
	# only that one), so swap the wanted rule's id with 0 in a copy of the map.
	sed -e "s/^\tid 0\$/\tid 999/" -e "s/^\tid $rule\$/\tid 0/" -e "s/^\tid 999\$/\tid $rule/" \
		"maps/$map.txt" >"$dir/crush.txt"
	crushtool -c "$dir/crush.txt" -o "$dir/crush.bin"
	osdmaptool --createsimple "$numosd" --pg-bits "$pgbits" --pgp-bits "$pgpbits" \
		--with-default-pool --clobber --osd_pool_default_size "$size" "$om" >/dev/null 2>&1
	osdmaptool "$om" --import-crush "$dir/crush.bin" >/dev/null 2>&1
	local marks=(--mark-up-in)
	((out >= 0)) && marks+=(--mark-out "$out")
	if ((upmap)); then
		osdmaptool "$om" --mark-up-in --upmap "$dir/upmap.txt" --upmap-deviation 1 \
			--upmap-max 40 --save >/dev/null 2>&1
	fi
	local pool_line
	pool_line=$(osdmaptool "$om" --print 2>/dev/null | grep "^pool 1 ")
	{
		echo "map $map (rule $rule as rule 0)"
		echo "pool 1"
		echo "pg_num $(sed 's/.* pg_num \([0-9]*\).*/\1/' <<<"$pool_line")"
		echo "pgp_num $(sed 's/.* pgp_num \([0-9]*\).*/\1/' <<<"$pool_line")"
		echo "size $(sed 's/.* size \([0-9]*\).*/\1/' <<<"$pool_line")"
		echo "rule $(sed 's/.* crush_rule \([0-9]*\).*/\1/' <<<"$pool_line")"
		echo "max_osd $numosd"
		echo "out $out"
	} >"$dir/params"
	osdmaptool "$om" "${marks[@]}" --test-map-pgs-dump-all --pool 1 2>/dev/null >"$dir/pgs.txt"
	map_objects "$om" 1 "$dir/objects.txt" "${marks[@]}"
}

rm -rf vectors
gen_case hosts-s3 hosts 12 3 2 3 0 -1 0
gen_case hosts-out-byosd hosts 12 4 4 2 1 4 0
gen_case hosts-ssd hosts 12 1 0 3 2 5 0
gen_case racks-s3 racks 14 3 3 3 0 -1 0
gen_case racks-r2 racks 14 2 1 4 2 9 0
gen_case racks-host racks 14 4 4 5 1 13 0
gen_case hosts-upmap hosts 12 3 3 3 0 -1 1
# The same balanced map with one upmap target marked out: every exception
# pointing at it must be ignored.
target=$(awk '/pg-upmap-items/ {print $NF; exit}' vectors/hosts-upmap/upmap.txt)
gen_case hosts-upmap-out hosts 12 3 3 3 0 "$target" 1
# --- other pool ids ------------------------------------------------------------------
# osdmaptool only creates pool 1. With every OSD up and in, a PG's up set is
# the raw CRUSH result for pps = hash2(seed, pool), which is exactly what
# crushtool --test --pool-id prints for x = seed (crushtool's --weight 0 is an
# out OSD). One file per case: a "# key value..." header, then crushtool lines.
rm -rf pools
mkdir -p pools
pool_case() { # MAP POOL SIZE PGNUM OUT(-1 none)
	local map=$1 pool=$2 size=$3 pgnum=$4 out=$5 f=pools/$1-pool$2-size$3.txt
	local w=()
	((out >= 0)) && w=(--weight "$out" 0)
	echo "# map $map pool $pool size $size pg_num $pgnum out $out" >"$f"
	crushtool -i "maps/$map.bin" --test --rule 0 --num-rep "$size" --min-x 0 --max-x $((pgnum - 1)) \
		--pool-id "$pool" "${w[@]}" --show-mappings >>"$f"
}
pool_case hosts 0 3 48 -1
pool_case hosts 7 2 64 3
pool_case racks 2 4 37 -1
pool_case racks 123456 3 100 6
pool_case racks 4294967 5 61 -1

echo "done: $(wc -l <names.hex) names, $(ls vectors | wc -l) cases"
