#!/usr/bin/env bash
# Passes `go test -v` output through, keeping it readable in CI, and fails
# when the tests failed (the pipeline's status is this script's). Counts
# each test once, top-level tests and subtests alike, by the result line
# `--- PASS|FAIL|SKIP: NAME (Ns)` (its last one, if a name comes twice). A
# failure counts once: a test that failed only because a subtest of it did
# is not counted again. A package that fails without a failed test (a
# panic, a timeout, a build error) counts as one failure. Skipped and
# failed tests are named.
set -o pipefail
label=$1
declare -A status=()
names=()
pkgfail=0
result='^( *)--- (PASS|FAIL|SKIP): ([^ ]+) \([0-9.]+s\)$'
while IFS= read -r line; do
	printf '%s\n' "$line"
	if [[ $line =~ $result ]]; then
		level=$(( ${#BASH_REMATCH[1]} / 4 ))
		name=${BASH_REMATCH[3]}
		slashes=${name//[^\/]/}
		# A result line nested N levels names a subtest with N slashes or
		# more; anything else is a test's log quoting a transcript.
		if (( ${#slashes} >= level )); then
			[[ -n ${status["$name"]+set} ]] || names+=("$name")
			status["$name"]=${BASH_REMATCH[2]}
		fi
		continue
	fi
	if [[ $line == FAIL || $line == FAIL$'\t'* ]]; then
		pkgfail=1
	fi
done
pass=0; fail=0; skip=0
for n in "${names[@]}"; do
	case ${status["$n"]} in
	PASS) pass=$((pass+1)) ;;
	SKIP) skip=$((skip+1)); echo "$label: skipped $n" ;;
	FAIL)
		# A failed subtest of n accounts for n's failure.
		sub=0
		for m in "${names[@]}"; do
			if [[ ${status["$m"]} == FAIL && $m == "$n"/* ]]; then sub=1; break; fi
		done
		if (( sub == 0 )); then fail=$((fail+1)); echo "$label: failed $n"; fi
		;;
	esac
done
if [ "$fail" -eq 0 ] && [ "$pkgfail" -eq 1 ]; then
	fail=1
	echo "$label: failed a package, without a failed test (a panic, a timeout or a build error: see above)"
fi
echo "$label: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pkgfail" -eq 0 ] && [ "$pass" -gt 0 ]
