#!/usr/bin/env bash
# Runs the node:test suites. `unit`: everything but test/e2e; `e2e`: the real-VS Code suites; `all`.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
mapfile -t unit < <(find test -path test/e2e -prune -o -name '*.test.ts' -print | sort)
mapfile -t e2e < <(find test/e2e -path test/e2e/.cache -prune -o -path test/e2e/host -prune -o -name '*.test.ts' -print 2>/dev/null | sort)
case "$which" in
  unit) files=("${unit[@]}") ;;
  e2e) files=("${e2e[@]}") ;;
  all) files=("${unit[@]}" "${e2e[@]}") ;;
  *) echo "usage: run-tests.sh unit|e2e|all" >&2; exit 2 ;;
esac
mkdir -p test-results
# One file at a time: suites start real processes (sshd, bpftrace, code-server) on fixed resources.
# A test that hangs (a child that ignores its signal) fails after 20 minutes instead of the run.
exec node --import tsx --test --test-concurrency=1 --test-timeout=1200000 --test-reporter=spec --test-reporter-destination=stdout "${files[@]}"
