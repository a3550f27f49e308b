// scripts/test-all.sh on a scratch project with planted failures of every kind the totals once missed:
// the closing line must count each of them and the exit status must follow it.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scriptFiles = ['scripts/test-all.sh', 'scripts/test-steps.sh', 'scripts/vitest-totals-reporter.ts'];

const planted: Record<string, string> = {
  'planted/a-one-fails.test.ts': `import { it, expect } from 'vitest';
it('passes', () => expect(1).toBe(1));
it('fails', () => expect(1).toBe(2));
`,
  'planted/b-import-throws.test.ts': `import { it, expect } from 'vitest';
it('is never collected', () => expect(1).toBe(1));
throw new Error('planted: import throws');
`,
  'planted/c-before-all-throws.test.ts': `import { beforeAll, describe, it, expect } from 'vitest';
describe('hooked', () => {
  beforeAll(() => { throw new Error('planted: beforeAll throws'); });
  it('one', () => expect(1).toBe(1));
  it('two', () => expect(1).toBe(1));
  it('three', () => expect(1).toBe(1));
});
`,
  'planted/d-unhandled-rejection.test.ts': `import { it, expect } from 'vitest';
it('passes but leaks a rejection', () => { void Promise.reject(new Error('planted: unhandled rejection')); expect(1).toBe(1); });
it('passes too', () => expect(1).toBe(1));
`,
  'planted/e-passes.test.ts': `import { it, expect } from 'vitest';
it('passes', () => expect(1).toBe(1));
it.skip('is skipped on purpose', () => expect(1).toBe(1));
`,
};

let scratch = '';

function write(path: string, text: string): void {
  mkdirSync(dirname(join(scratch, path)), { recursive: true });
  writeFileSync(join(scratch, path), text);
}

/** Runs a bash script in the scratch project with none of the outer vitest's environment. */
function runBash(script: string): { status: number | null; lastLine: string; output: string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(VITEST|TEST$|NODE_ENV$|NODE_OPTIONS$|MEMSCOPE_)/.test(key)) env[key] = value;
  }
  env['NO_COLOR'] = '1';
  const run = spawnSync('bash', [script], { cwd: scratch, env, encoding: 'utf8', timeout: 120_000 });
  const lines = run.stdout.trimEnd().split('\n');
  return { status: run.status, lastLine: lines[lines.length - 1] ?? '', output: `${run.stdout}\n${run.stderr}` };
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'memscope-test-all-'));
  mkdirSync(join(scratch, 'scripts'));
  for (const file of scriptFiles) cpSync(join(repo, file), join(scratch, file));
  symlinkSync(realpathSync(join(repo, 'node_modules')), join(scratch, 'node_modules'));
  // Build passes and type-check fails: each is one step of the total.
  write('package.json', JSON.stringify({
    name: 'scratch', private: true, type: 'module',
    scripts: { build: 'node -e "process.exit(0)"', typecheck: 'node -e "process.exit(2)"' },
  }));
  // Its own config, so the inner vitest neither sees the outer one nor finds this test again.
  write('vitest.config.ts', `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['planted/**/*.test.ts'], pool: 'forks' } });
`);
  // test-all.sh's e2e runner line: its config here holds one passing spec.
  write('vitest.e2e.config.ts', `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['planted-e2e/**/*.e2e.ts'], pool: 'forks' } });
`);
  write('planted-e2e/f-passes.e2e.ts', `import { it, expect } from 'vitest';
it('e2e passes', () => { expect(2 + 2).toBe(4); });
`);
  for (const [path, text] of Object.entries(planted)) write(path, text);
});

afterAll(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

describe('scripts/test-all.sh', () => {
  it('counts every planted failure and exits non-zero', () => {
    const run = runBash('scripts/test-all.sh');
    // passed: build, a:1, d:2, e:1, e2e f:1. failed: type-check, a:1, b (load):1, c (beforeAll):3, d (unhandled):1.
    expect(run.lastLine, run.output).toBe('6 passed, 7 failed, 1 skipped');
    expect(run.status, run.output).toBe(1);
    expect(run.output).toContain('!! typecheck (sources and tests) failed');
    expect(run.output).toContain('planted/b-import-throws.test.ts: planted: import throws');
    expect(run.output).toContain('planted/c-before-all-throws.test.ts > hooked > three: did not run');
    expect(run.output).toContain('unhandled error: ');
  });

  it('exits 0 when everything passes', () => {
    write('green.sh', `source scripts/test-steps.sh
step "build" true
run_vitest "green" planted/e-passes.test.ts
finish
`);
    const run = runBash('green.sh');
    expect(run.lastLine, run.output).toBe('2 passed, 0 failed, 1 skipped');
    expect(run.status, run.output).toBe(0);
  });

  it('counts a runner that crashes without a report, or exits non-zero having counted nothing, as failed', () => {
    write('broken.sh', `source scripts/test-steps.sh
run_vitest "crashes" --config does-not-exist.config.ts
run_vitest "finds nothing" planted/no-such-file
finish
`);
    const run = runBash('broken.sh');
    expect(run.lastLine, run.output).toBe('0 passed, 2 failed');
    expect(run.status, run.output).toBe(1);
    expect(run.output).toContain('!! crashes: vitest exited 1 without a readable report');
    expect(run.output).toContain('!! finds nothing: vitest exited 1 but counted no failure');
  });
});
