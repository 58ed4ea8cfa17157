#!/usr/bin/env bash
# bench-compare.sh OLD_REV [NEW_REV]
#
# Runs the ingest, query, export and scatter-gather benchmarks of two
# revisions of lakenode alternately on this machine — old, new, old, new,
# old, new (ROUNDS=3; BENCHES=ingest,query,... picks some), one after the other — and prints every run's figures
# and, per figure, each side's median, new/old and the spread (min–max).
# Each side runs its own tree: its binary and its own benchmark code.
#
# Sizes are smaller than `make bench`'s so that the six rounds fit in about
# half an hour: LAKENODE_BENCH_MESSAGES (ingest, kfake, default 1000000),
# LAKENODE_BENCH_ROWS (query and scatter-gather, default 2000000),
# LAKENODE_BENCH_EXPORT_ROWS (default 1000000).
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: scripts/bench-compare.sh OLD_REV [NEW_REV]" >&2
	exit 2
fi
# Resolved now: a commit made while the comparison runs changes neither side.
old_rev=$(git rev-parse --short "$1^{commit}")
new_rev=$(git rev-parse --short "${2:-HEAD}^{commit}")
rounds=${ROUNDS:-3}
# BENCHES picks some of: ingest query export scatter (default all).
benches=${BENCHES:-ingest query export scatter}
benches=${benches//,/ }
export LAKENODE_BENCH_MESSAGES=${LAKENODE_BENCH_MESSAGES:-1000000}
export LAKENODE_BENCH_ROWS=${LAKENODE_BENCH_ROWS:-2000000}
export LAKENODE_BENCH_EXPORT_ROWS=${LAKENODE_BENCH_EXPORT_ROWS:-1000000}
go=${GO:-go}

repo=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
cleanup() {
	for side in old new; do
		git -C "$repo" worktree remove --force "$work/$side-src" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

for side in old new; do
	rev=$old_rev
	[ "$side" = new ] && rev=$new_rev
	src="$work/$side-src"
	git -C "$repo" worktree add --detach "$src" "$rev" >/dev/null
	echo "building $side ($(git -C "$src" log --oneline -1))" >&2
	(cd "$src" && $go build -o "$work/$side/lakenode" ./cmd/lakenode &&
		$go test -c -o "$work/$side/integration.test" ./integration/ &&
		$go test -c -o "$work/$side/sql.test" ./tables/sql/)
done

results="$work/results.tsv"
: >"$results"
# run SIDE DIR TESTBIN BENCH: one benchmark of one side; its metrics go to
# the results as "bench<TAB>unit<TAB>side<TAB>value".
run() {
	local side=$1 dir=$2 bin=$3 bench=$4
	echo "== $side $bench" >&2
	(cd "$work/$side-src/$dir" && LAKENODE_BIN="$work/$side/lakenode" "$work/$side/$bin" \
		-test.run '^$' -test.bench "$bench" -test.benchtime 1x -test.timeout 60m) |
		tee /dev/stderr |
		awk -v side="$side" '/^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name); for (i = 3; i < NF; i += 2) printf "%s\t%s\t%s\t%s\n", name, $(i+1), side, $i }' >>"$results"
}

for r in $(seq 1 "$rounds"); do
	for side in old new; do
		echo "### round $r, $side" >&2
		for b in $benches; do
			case $b in
			query) run "$side" tables/sql sql.test 'BenchmarkQuery' ;;
			ingest) run "$side" integration integration.test 'BenchmarkIngest/kfake' ;;
			export) run "$side" integration integration.test 'BenchmarkExport' ;;
			scatter) run "$side" integration integration.test 'BenchmarkScatterGather' ;;
			*) echo "unknown benchmark $b (ingest, query, export, scatter)" >&2; exit 2 ;;
			esac
		done
	done
done

echo
echo "old: $(git -C "$repo" log --oneline -1 "$old_rev")"
echo "new: $(git -C "$repo" log --oneline -1 "$new_rev")"
echo "$rounds rounds, alternating; median (min–max) per side"
printf '%-40s %-28s %24s %24s %8s\n' benchmark figure old new new/old
sort -t$'\t' -k1,1 -k2,2 -k3,3 -k4,4g "$results" |
	awk -F'\t' '
	function flush() {
		if (key == "") return
		line[key] = line[key] sprintf("%s %s %s %s\n", side, vals[int((n+1)/2)], vals[1], vals[n])
	}
	{
		k = $1 "\t" $2
		if (k != key || $3 != side) { flush(); n = 0 }
		key = k; side = $3; vals[++n] = $4
		if (!(k in seen)) { seen[k] = 1; order[++m] = k }
	}
	END {
		flush()
		for (i = 1; i <= m; i++) {
			k = order[i]; split(k, kk, "\t")
			split(line[k], ls, "\n")
			om = on = ""; for (j in ls) { split(ls[j], f, " "); if (f[1] == "old") { om = f[2]; olo = f[3]; ohi = f[4] } else if (f[1] == "new") { nm = f[2]; nlo = f[3]; nhi = f[4] } }
			ratio = (om != 0 && om != "") ? sprintf("%.3f", nm / om) : "-"
			printf "%-40s %-28s %24s %24s %8s\n", kk[1], kk[2], sprintf("%g (%g–%g)", om, olo, ohi), sprintf("%g (%g–%g)", nm, nlo, nhi), ratio
		}
	}'
