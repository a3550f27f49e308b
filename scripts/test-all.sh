#!/usr/bin/env bash
# Runs every suite (build, type-check incl. tests, vitest: unit, integration, fuzz, bench smoke) and ends with
# one line "N passed, N failed" totalled over all of them. Exit code is non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
mkdir -p .cache/test-results
passed=0; failed=0; skipped=0

step() { # name, command...
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed+1)); else echo "!! $name failed"; failed=$((failed+1)); fi
}

step "build" npm run --silent build
step "typecheck (sources and tests)" npm run --silent typecheck

vitest_json=.cache/test-results/vitest.json
rm -f "$vitest_json"
npx vitest run --reporter=default --reporter=json --outputFile.json="$vitest_json"
if [ -f "$vitest_json" ]; then
  read -r vp vf vs < <(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites||0) + (r.success===false && r.numFailedTests===0 ? 1 : 0), (r.numPendingTests||0) + (r.numTodoTests||0))' "$PWD/$vitest_json")
  passed=$((passed+vp)); failed=$((failed+vf)); skipped=$((skipped+vs))
else
  echo "!! vitest produced no report"; failed=$((failed+1))
fi


if [ "$skipped" -gt 0 ]; then echo "${passed} passed, ${failed} failed, ${skipped} skipped"; else echo "${passed} passed, ${failed} failed"; fi
[ "$failed" -eq 0 ]
