#!/usr/bin/env bash
# Compares `radosctl crush test` with `crushtool --test --show-mappings` on
# random maps (randmap.py), through both the text map and crushtool's binary.
# Needs crushtool and python3; not part of CI. Usage: random_compare.sh FIRST LAST
# Maps crushtool rejects, or on which crushtool crashes (it does when a rule
# emits buckets), are skipped. A mismatch keeps its files in the work dir.
set -uo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
(cd "$here/../../.." && go build -o "$work/radosctl" ./cmd/radosctl) || exit 1
ok=0 fail=0 skip=0
for s in $(seq "$1" "$2"); do
	m="$work/m$s"
	python3 "$here/randmap.py" "$s" > "$m.txt" 2> "$m.args" || { skip=$((skip + 1)); continue; }
	args=$(cat "$m.args")
	if ! crushtool -c "$m.txt" -o "$m.bin" > /dev/null 2>&1 ||
		! crushtool -i "$m.bin" --test --show-mappings $args > "$m.want" 2> /dev/null; then
		skip=$((skip + 1)); rm -f "$m".*; continue
	fi
	rargs=$(sed -E 's/--weight ([0-9]+) ([0-9.]+)/--weight \1:\2/g' <<< "$args")
	for f in "$m.txt" "$m.bin"; do
		if ! "$work/radosctl" crush test "$f" $rargs > "$m.got" 2>&1 || ! cmp -s "$m.got" "$m.want"; then
			echo "MISMATCH seed $s ($f) $args"; fail=$((fail + 1)); continue 2
		fi
	done
	ok=$((ok + 1)); rm -f "$m".*
done
if [ "$fail" -eq 0 ]; then
	rm -rf "$work"
	echo "$ok passed, $fail failed, $skip skipped"
else
	echo "$ok passed, $fail failed, $skip skipped (mismatching maps kept in $work)"
	exit 1
fi
