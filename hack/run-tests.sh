#!/usr/bin/env bash
# Runs go test with the given arguments, keeps its verbose log, and closes with one summary
# line, "tests: N passed, N failed, N skipped", counting every test and subtest. While the
# tests run it shows the result lines and the first line of each log message; when a test
# fails it then shows that test's whole output (a VM's console tail, say), its last
# FAILED_OUTPUT_LINES lines, and the same before a package's timeout panic, and keeps the log
# and the tests' artifacts (the VMs' console logs, from t.ArtifactDir).
set -uo pipefail
FAILED_OUTPUT_LINES=${FAILED_OUTPUT_LINES:-300}

log=$(mktemp "${TMPDIR:-/tmp}/kiln-test.XXXXXX")
artifacts=$(mktemp -d "${TMPDIR:-/tmp}/kiln-test-artifacts.XXXXXX")

go test -count=1 -timeout 80m -artifacts -outputdir "$artifacts" -v "$@" 2>&1 | tee "$log" | grep -E '^(ok|FAIL|---|\s+---|panic:|\s+\S+_test\.go:[0-9]+:)' 
rc=${PIPESTATUS[0]}

passed=$(grep -cE '^\s*--- PASS' "$log")
failed=$(grep -cE '^\s*--- FAIL' "$log")
skipped=$(grep -cE '^\s*--- SKIP' "$log")
if [[ $rc -ne 0 && $failed -eq 0 ]]; then
  # A build failure or a panic fails no single test: show it, and count it.
  grep -E 'FAIL|cannot|undefined|panic' "$log" | head -40
  failed=1
fi
# The whole output of each failed top-level test: from its "=== RUN" to its "--- FAIL".
failed_output() {
  grep -oE '^--- FAIL: [^ ]+' "$log" | cut -d' ' -f3 | sort -u | while read -r name; do
    echo
    echo "=== output of $name (its last ${FAILED_OUTPUT_LINES} lines)"
    awk -v name="$name" '
      $0 == "=== RUN   " name { buf = ""; on = 1 }
      on { buf = buf $0 "\n" }
      on && index($0, "--- FAIL: " name " ") == 1 { printf "%s", buf; on = 0 }
    ' "$log" | tail -n "$FAILED_OUTPUT_LINES"
  done
  if grep -q '^panic: test timed out' "$log"; then
    echo
    echo "=== before the timeout (its last ${FAILED_OUTPUT_LINES} lines)"
    grep -B "$FAILED_OUTPUT_LINES" '^panic: test timed out' "$log"
  fi
}
if [[ $failed -gt 0 ]]; then
  failed_output
  echo
  echo "the whole log: $log"
  echo "the tests' artifacts (console logs): $artifacts"
else
  rm -rf "$log" "$artifacts"
fi

echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$rc"
