#!/usr/bin/env bash
# Passes `go test -v` output through, keeping it readable in CI, and fails
# when the tests failed (the pipeline's status is this script's). Counts
# each test once, top-level and subtests alike (a failed subtest fails its
# parent too, and both count); a package that fails without a failed test
# (a panic, a timeout, a build error) counts as one failure. Skips are
# counted and named.
set -o pipefail
label=$1
pass=0; fail=0; skip=0; pkgfail=0
skipped=()
while IFS= read -r line; do
	printf '%s\n' "$line"
	trimmed="${line#"${line%%[![:space:]]*}"}"
	case "$trimmed" in
	"--- PASS"*) pass=$((pass+1)) ;;
	"--- FAIL"*) fail=$((fail+1)) ;;
	"--- SKIP"*) skip=$((skip+1)); skipped+=("${trimmed#--- SKIP: }") ;;
	esac
	case "$line" in
	"FAIL"*) pkgfail=1 ;;
	esac
done
if [ "$fail" -eq 0 ] && [ "$pkgfail" -eq 1 ]; then fail=1; fi
for s in "${skipped[@]}"; do echo "$label: skipped $s"; done
echo "$label: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pkgfail" -eq 0 ] && [ "$pass" -gt 0 ]
