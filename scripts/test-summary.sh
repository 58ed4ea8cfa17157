#!/usr/bin/env bash
# Passes `go test -v` output through, keeping it readable in CI, and fails
# when the tests failed (the pipeline's status is this script's). Counts
# tests, not lines: a package that fails without a failed test (a panic, a
# timeout, a build error) counts as one failure.
set -o pipefail
label=$1
pass=0; fail=0; skip=0; pkgfail=0
while IFS= read -r line; do
	printf '%s\n' "$line"
	case "$line" in
	"--- PASS"*) pass=$((pass+1)) ;;
	"--- FAIL"*) fail=$((fail+1)) ;;
	"--- SKIP"*) skip=$((skip+1)) ;;
	"FAIL"*) pkgfail=1 ;;
	esac
done
if [ "$fail" -eq 0 ] && [ "$pkgfail" -eq 1 ]; then fail=1; fi
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pkgfail" -eq 0 ] && [ "$pass" -gt 0 ]
