# Test-step bookkeeping for scripts/test-all.sh (sourced, not run). Every step adds to one running total;
# `finish` prints the closing line "N passed, N failed[, N skipped]" and exits non-zero when anything failed.
# A runner that crashes, writes no report, or exits non-zero with nothing counted is one failure, never zero.
passed=0; failed=0; skipped=0
totals_dir=.cache/test-results
mkdir -p "$totals_dir"

step() { # label, command... : one test step that passes when the command exits 0
  local label=$1; shift
  echo "== $label"
  if "$@"; then passed=$((passed+1)); else echo "!! $label failed"; failed=$((failed+1)); fi
}

run_vitest() { # label, vitest arguments... : one `vitest run`, counted by scripts/vitest-totals-reporter.ts
  local label=$1; shift
  local totals="$PWD/$totals_dir/vitest-${label//[^A-Za-z0-9]/_}.json"
  echo "== $label"
  rm -f "$totals"
  MEMSCOPE_VITEST_TOTALS="$totals" npx vitest run --reporter=default \
    --reporter="$PWD/scripts/vitest-totals-reporter.ts" "$@"
  local status=$? p= f= s=
  # Counts on stdout; one "!! label: why" line per counted failure on stderr.
  [ -s "$totals" ] && read -r p f s < <(node -e '
    const t = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const line of t.failures) console.error(`!! ${process.argv[2]}: ${line}`);
    console.log(t.passed, t.failed, t.skipped);' "$totals" "$label")
  if ! [[ "$p" =~ ^[0-9]+$ && "$f" =~ ^[0-9]+$ && "$s" =~ ^[0-9]+$ ]]; then
    echo "!! $label: vitest exited $status without a readable report"
    failed=$((failed+1)); return
  fi
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "!! $label: vitest exited $status but counted no failure"
    f=1
  fi
  passed=$((passed+p)); failed=$((failed+f)); skipped=$((skipped+s))
}

finish() { # the closing line; the exit status follows it
  if [ "$skipped" -gt 0 ]; then echo "${passed} passed, ${failed} failed, ${skipped} skipped"
  else echo "${passed} passed, ${failed} failed"; fi
  if [ "$failed" -eq 0 ]; then exit 0; else exit 1; fi
}
