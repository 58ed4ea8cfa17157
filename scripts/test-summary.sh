#!/usr/bin/env bash
# Passes `go test -v` output through, keeping it readable in CI, and fails
# when the tests failed (the pipeline's status is this script's).
set -o pipefail
label=$1
pass=0; fail=0; skip=0
while IFS= read -r line; do
	printf '%s\n' "$line"
	case "$line" in
	"--- PASS"*) pass=$((pass+1)) ;;
	"--- FAIL"*) fail=$((fail+1)) ;;
	"--- SKIP"*) skip=$((skip+1)) ;;
	"FAIL"*) fail=$((fail+1)) ;;
	esac
done
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
