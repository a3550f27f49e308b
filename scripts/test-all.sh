#!/usr/bin/env bash
# Runs every suite (build, type-check incl. tests, vitest: unit, integration, fuzz, bench smoke) and ends with
# one line "N passed, N failed[, N skipped]" totalled over all of them; the exit status follows that line.
# Build and type-check are one test step each. Another runner is one more `run_vitest <label> <args…>` line;
# scripts/test-all.test.ts runs a scratch copy of this file, so give a new line's config to its fixture too.
set -u
cd "$(dirname "$0")/.."
source scripts/test-steps.sh

step "build" npm run --silent build
step "typecheck (sources and tests)" npm run --silent typecheck
run_vitest "vitest"
run_vitest "e2e (renderer in Chromium over memscope serve)" --config vitest.e2e.config.ts
finish
