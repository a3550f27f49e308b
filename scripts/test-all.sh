#!/usr/bin/env bash
# Runs every suite (type-check + build, unit/integration via vitest, e2e when present) and ends with
# one line "N passed, N failed" totalled over all of them. Exit code is non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
mkdir -p .cache/test-results
passed=0; failed=0

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
  read -r vp vf < <(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites||0) + (r.success===false && r.numFailedTests===0 ? 1 : 0))' "$PWD/$vitest_json")
  passed=$((passed+vp)); failed=$((failed+vf))
else
  echo "!! vitest produced no report"; failed=$((failed+1))
fi

if [ -x scripts/test-e2e.sh ]; then
  e2e_json=.cache/test-results/e2e.txt
  bash scripts/test-e2e.sh | tee "$e2e_json"
  read -r ep ef < <(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed' "$e2e_json" | tail -1 | sed -E 's/^e2e: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
  passed=$((passed+${ep:-0})); failed=$((failed+${ef:-1}))
fi

echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
