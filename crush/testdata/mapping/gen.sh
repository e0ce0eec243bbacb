#!/usr/bin/env bash
# Regenerates the golden CRUSH mapping vectors with Ceph's own crushtool
# (Debian ceph-base, Ceph 16.2.x). Needs python3 and crushtool; the Go tests
# only read the committed results and need neither.
#
#   maps/*.txt   hand-designed text maps (written by mkmaps.py)
#   maps/*.bin   crushtool -c of each text map
#   maps/*.json  crushtool --dump of each binary map
#   out/*.txt.gz crushtool --test --show-mappings for every line of cases.txt
#                (gzip -n: deterministic, and a tenth of the size)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")"
command -v crushtool >/dev/null || { echo "gen.sh: crushtool not found; apt-get install ceph-base" >&2; exit 1; }
dpkg-query -W ceph-base 2>/dev/null || true
python3 mkmaps.py
for t in maps/*.txt; do
	n=${t%.txt}
	crushtool -c "$t" -o "$n.bin"
	crushtool -i "$n.bin" --dump > "$n.json"
done
# The README's sample map is the decompiled example map.
crushtool -d maps/example240.bin -o ../../../deploy/examples/crushmap.txt
rm -f out/*.txt out/*.txt.gz
grep -v '^#' cases.txt | while read -r map id args; do
	# shellcheck disable=SC2086 # args is a word list on purpose
	crushtool -i "maps/$map.bin" --test --show-mappings $args | gzip -n -9 > "out/$map.$id.txt.gz"
done
echo "wrote $(ls out | wc -l) vector files"
