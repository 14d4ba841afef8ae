#!/usr/bin/env bash
# Runs go test with the given arguments, keeps its verbose log, and closes with one summary
# line, "tests: N passed, N failed, N skipped", counting every test and subtest.
set -uo pipefail

log=$(mktemp "${TMPDIR:-/tmp}/kiln-test.XXXXXX")
trap 'rm -f "$log"' EXIT

go test -count=1 -timeout 60m -v "$@" 2>&1 | tee "$log" | grep -E '^(ok|FAIL|---|\s+---|panic:|\s+\S+_test\.go:[0-9]+:)' 
rc=${PIPESTATUS[0]}

passed=$(grep -cE '^\s*--- PASS' "$log")
failed=$(grep -cE '^\s*--- FAIL' "$log")
skipped=$(grep -cE '^\s*--- SKIP' "$log")
if [[ $rc -ne 0 && $failed -eq 0 ]]; then
  # A build failure or a panic fails no single test: show it, and count it.
  grep -E 'FAIL|cannot|undefined|panic' "$log" | head -40
  failed=1
fi
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$rc"
