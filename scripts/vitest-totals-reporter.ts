// A vitest reporter that counts what really happened, for scripts/test-all.sh.
//
// vitest's own JSON report undercounts: a `beforeAll` that throws leaves its tests "skipped", a file that
// fails to import holds no tests at all, and unhandled errors are not in it (it can read `success: true`).
// Here every test that was meant to run and did not pass is a failure, a hook or load error that left no
// failed test behind is one failure, and each unhandled error is one failure.
//
// Usage: vitest run --reporter=default --reporter=./scripts/vitest-totals-reporter.ts
// with MEMSCOPE_VITEST_TOTALS=<file>; the file receives one JSON `VitestTotals`.
import { writeFileSync } from 'node:fs';
import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, TestSuite } from 'vitest/node';

export interface VitestTotals {
  passed: number;
  failed: number;
  skipped: number;
  /** One line per counted failure: where it is and why it counts. */
  failures: string[];
}

type Container = TestModule | TestSuite;

/** A test skipped on purpose (`it.skip`, `it.todo`, filtered by `.only`), as opposed to one a failed hook kept from running. */
function skippedOnPurpose(test: TestCase): boolean {
  const result = test.result();
  return result.state === 'skipped' && test.options.mode !== 'run';
}

function where(entity: Container | TestCase): string {
  if (entity.type === 'module') return entity.relativeModuleId;
  return `${entity.module.relativeModuleId} > ${entity.fullName}`;
}

function firstMessage(errors: ReadonlyArray<{ message?: string }>): string {
  return errors[0]?.message?.split('\n')[0] ?? 'no error message';
}

/** A suite or module that did not finish cleanly: its own errors (hook, collection), or it never ended. */
function containerFault(container: Container): string | undefined {
  const errors = container.errors();
  if (errors.length > 0) return firstMessage(errors);
  const state = container.state();
  if (state === 'pending' || state === 'queued') return `never finished (${state})`;
  return undefined;
}

export function countTotals(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): VitestTotals {
  const totals: VitestTotals = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const failedIds = new Set<string>();
  const fail = (id: string, line: string): void => {
    if (failedIds.has(id)) return;
    failedIds.add(id);
    totals.failed += 1;
    totals.failures.push(line);
  };

  const tests: TestCase[] = [];
  const faulted: Container[] = [];
  for (const module of modules) {
    if (containerFault(module) !== undefined) faulted.push(module);
    for (const suite of module.children.allSuites()) if (containerFault(suite) !== undefined) faulted.push(suite);
    tests.push(...module.children.allTests());
  }

  for (const test of tests) {
    const result = test.result();
    if (result.state === 'failed') fail(test.id, `${where(test)}: ${firstMessage(result.errors)}`);
    else if (result.state === 'pending') fail(test.id, `${where(test)}: never finished`);
  }
  // Deepest first, so a failing beforeAll in a nested describe is named, not its file.
  faulted.sort((a, b) => depth(b) - depth(a));
  for (const container of faulted) {
    const fault = containerFault(container) ?? '';
    const held = [...container.children.allTests()];
    let counted = held.some((test) => failedIds.has(test.id));
    for (const test of held) {
      if (test.result().state === 'passed' || skippedOnPurpose(test) || failedIds.has(test.id)) continue;
      fail(test.id, `${where(test)}: did not run: ${where(container)}: ${fault}`);
      counted = true;
    }
    // A file that fails to load holds no tests to blame; an afterAll that throws follows passed tests.
    if (!counted) fail(container.id, `${where(container)}: ${fault}`);
  }

  for (const test of tests) {
    if (failedIds.has(test.id)) continue;
    if (test.result().state === 'passed') totals.passed += 1;
    else totals.skipped += 1;
  }
  unhandledErrors.forEach((error, index) => {
    const path = typeof error['VITEST_TEST_PATH'] === 'string' ? `${error['VITEST_TEST_PATH']}: ` : '';
    fail(`unhandled:${index}`, `unhandled error: ${path}${firstMessage([error])}`);
  });
  return totals;
}

function depth(container: Container): number {
  let d = 0;
  for (let at: Container = container; at.type === 'suite'; at = at.parent) d += 1;
  return d;
}

export default class VitestTotalsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    const out = process.env['MEMSCOPE_VITEST_TOTALS'];
    if (out === undefined || out === '') throw new Error('vitest-totals-reporter: set MEMSCOPE_VITEST_TOTALS to the file for the totals');
    const totals = countTotals(modules, unhandledErrors);
    // An interrupted run (bail, signal) may leave tests uncollected; it must not read as clean.
    if (reason === 'interrupted' && totals.failed === 0) {
      totals.failed = 1;
      totals.failures.push('the run was interrupted');
    }
    writeFileSync(out, `${JSON.stringify(totals)}\n`);
  }
}
