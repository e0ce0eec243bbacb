#!/usr/bin/env bash
# Regenerates the golden vectors of crush/testdata/formats from the maps we
# wrote, with the real Ceph tools (crushtool 16.2, Debian's ceph-base). The
# tests read only the committed outputs, so they run without Ceph.
#
#   ok/NAME.txt      input text map (hand-written, or random/ from genmaps.go)
#   ok/NAME.bin      crushtool -c NAME.txt
#   ok/NAME.d.txt    crushtool -d NAME.bin
#   ok/NAME.json     crushtool -i NAME.bin --dump
#   ok/NAME.tree     crushtool -i NAME.bin --tree
#   err/NAME.txt     a map crushtool refuses; err/NAME.err holds its stderr
#                    (file name replaced by MAP) and exit status
#   random/          maps written by genmaps.go (seeded): the same outputs as
#                    ok/ for maps crushtool accepts, NAME.err for the others
#
# Usage: crush/testdata/formats/gen.sh   (from anywhere)
#
# Maps whose tree buckets get class shadows (ok/shadow_algs and some random
# maps) come out with different .bin bytes on every run: crushtool writes
# uninitialised memory into those shadows' node weights (spec 4.5). Their
# other outputs do not change; restore the old .bin files or commit the new.
#
# ok/builder_*.txt are written by the builder's tests
# (go test ./crush -run 'NewDefaultMap|BuilderScenario' -args -update-builder).
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")"
dpkg-query -W -f '${Version}' ceph-base 2>/dev/null | grep -q "^16\.2" ||
	{ echo "gen.sh: needs crushtool from Ceph 16.2" >&2; exit 1; }

# A larger differential run outside the repository:
#   RANDOM_DIR=/tmp/crushdiff RANDOM_SEED=7 RANDOM_N=2000 crush/testdata/formats/gen.sh
#   CRUSH_FORMATS_EXTRA=/tmp/crushdiff go test ./crush -run 'Golden|Errors|RoundTrip'
random_dir=${RANDOM_DIR:-random}
mkdir -p "$random_dir"
rm -f "$random_dir"/*.txt
go run genmaps.go -out "$random_dir" -seed "${RANDOM_SEED:-20261123}" -n "${RANDOM_N:-150}"
dirs="ok $random_dir"
[ "$random_dir" = random ] || dirs=$random_dir

# refused TXT: writes TXT's .err file and succeeds if crushtool refuses TXT.
refused() {
	local txt=$1 base=${1%.txt} out rc
	set +e
	out=$(crushtool -c "$txt" -o "$base.bin" 2>&1 >/dev/null)
	rc=$?
	set -e
	[ "$rc" -ne 0 ] || return 1
	rm -f "$base.bin"
	if [ "$rc" -gt 1 ]; then
		# A crash (abort) prints thread ids and times; keep only the fact.
		out="(crushtool crashed)"
	fi
	printf 'exit %d\n%s\n' "$rc" "${out//$txt/MAP}" >"$base.err"
}

for dir in $dirs; do
	[ -d "$dir" ] || continue
	rm -f "$dir"/*.bin "$dir"/*.d.txt "$dir"/*.json "$dir"/*.tree "$dir"/*.err
	for txt in "$dir"/*.txt; do
		case "$txt" in *.d.txt) continue ;; esac
		base=${txt%.txt}
		if refused "$txt"; then
			[ "$dir" = "$random_dir" ] && continue
			echo "gen.sh: crushtool refuses $txt: $(cat "$base.err")" >&2
			exit 1
		fi
		crushtool -d "$base.bin" -o "$base.d.txt"
		crushtool -i "$base.bin" --dump >"$base.json"
		crushtool -i "$base.bin" --tree >"$base.tree"
	done
done

[ "$random_dir" = random ] || exit 0
for txt in err/*.txt; do
	if ! refused "$txt"; then
		echo "gen.sh: $txt compiled, but err/ maps must be refused" >&2
		exit 1
	fi
done
rm -f err/*.bin
