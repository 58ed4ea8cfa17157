#!/usr/bin/env bash
# Runs fuzz targets one after another (fuzzing uses every core), each for
# TIME: scripts/fuzz.sh TIME PKG:FuzzX... Prints one line per target (its
# execs and corpus), the whole output of a target that fails, and fails
# when any did. A crasher is written to PKG/testdata/fuzz/FuzzX/: commit it
# with the fix, as the regression test.
set -u
time=$1; shift
go=${GO:-go}
failed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	pkg=${t%%:*}; fn=${t##*:}
	start=$(date +%s)
	ok=0
	for try in 1 2; do
		if "$go" test -run '^$' -fuzz "^${fn}\$" -fuzztime "$time" -fuzzminimizetime 5s "./$pkg/" >"$log" 2>&1; then
			ok=1
			break
		fi
		# Go 1.26's fuzz coordinator can fail a target at the -fuzztime
		# boundary with a bare "context deadline exceeded" and no input
		# (go.dev/issue/75804, fixed in Go 1.27). Only that exact failure,
		# with no failing input written, is run once more; anything else
		# fails at once.
		if [ "$try" = 1 ] && grep -A1 -- '^--- FAIL: ' "$log" | grep -qx '    context deadline exceeded' && ! grep -q 'Failing input written' "$log"; then
			echo "fuzz $fn ($pkg): the fuzz coordinator's deadline race (no failing input), running it once more"
			continue
		fi
		break
	done
	if [ "$ok" = 1 ]; then
		last=$(grep -E '^fuzz: elapsed' "$log" | tail -1 | sed -E 's/^fuzz: elapsed: [^,]*, //; s/ \([0-9]+\/sec\)//')
		echo "fuzz $fn ($pkg): ok in $(( $(date +%s) - start )) s: $last"
	else
		cat "$log"
		echo "fuzz $fn ($pkg): FAILED"
		failed+=("$fn")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
	exit 1
fi
