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
#
# Usage: crush/testdata/formats/gen.sh   (from anywhere)
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")"
dpkg-query -W -f '${Version}' ceph-base 2>/dev/null | grep -q "^16\.2" ||
	{ echo "gen.sh: needs crushtool from Ceph 16.2" >&2; exit 1; }

if [ -f genmaps.go ]; then
	rm -f random/*.txt
	go run genmaps.go -out random
fi

for dir in ok random; do
	[ -d "$dir" ] || continue
	for txt in "$dir"/*.txt; do
		case "$txt" in *.d.txt) continue ;; esac
		base=${txt%.txt}
		crushtool -c "$txt" -o "$base.bin" >/dev/null
		crushtool -d "$base.bin" -o "$base.d.txt"
		crushtool -i "$base.bin" --dump >"$base.json"
		crushtool -i "$base.bin" --tree >"$base.tree"
	done
done

for txt in err/*.txt; do
	base=${txt%.txt}
	set +e
	out=$(crushtool -c "$txt" -o /tmp/gen-crush-err.$$ 2>&1 >/dev/null)
	rc=$?
	set -e
	rm -f /tmp/gen-crush-err.$$
	if [ "$rc" -eq 0 ]; then
		echo "gen.sh: $txt compiled, but err/ maps must be refused" >&2
		exit 1
	fi
	printf 'exit %d\n%s\n' "$rc" "${out//$txt/MAP}" >"$base.err"
done
