/**
 * The fuzz harness itself: a case run in a FuzzChild that loops synchronously is caught by its
 * deadline and reported with seed and iteration, and the next case runs in a fresh child; values
 * (bigint included) come back, a one-line MemScopeError is accepted, other exceptions and a dead
 * child are failures.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FuzzChild, FuzzFailures } from './fuzz.js';
import type { ProbeInput } from './fuzz-probe-case.js';

const child = new FuzzChild(new URL('./fuzz-probe-case.ts', import.meta.url).href);
afterAll(() => child.close());
const run = (input: ProbeInput, deadline = 10_000) => child.run<ProbeInput, { pid: number; n: bigint | null }>(input, deadline);

describe('FuzzChild', () => {
  it('returns values by structured clone and keeps one child across cases', async () => {
    const a = await run({ end: 'value', n: 0xffff_f800_0000_0000n });
    const b = await run({ end: 'value' });
    expect(a).toMatchObject({ kind: 'done', value: { n: 0xffff_f800_0000_0000n } });
    if (a.kind !== 'done' || b.kind !== 'done') return;
    expect(a.value.pid).not.toBe(process.pid);
    expect(b.value.pid).toBe(a.value.pid);
  });

  it('catches a synchronous infinite loop by its deadline, reports it with seed and iteration, and goes on in a fresh child', async () => {
    const before = await run({ end: 'value' });
    const failures = new FuzzFailures('probe', 0x5eed);
    const t0 = performance.now();
    const spun = await run({ end: 'spin' }, 300);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(spun).toEqual({ kind: 'timeout', ms: 300 });
    expect(failures.outcome(7, 'spin', spun)).toBeUndefined();
    expect(failures.list).toEqual(['probe seed 24301 iteration 7 (spin): did not finish within 300 ms: a hang (the case ran in a child process that was killed, so a synchronous loop is caught too)']);
    const after = await run({ end: 'value' });
    expect(after.kind).toBe('done');
    if (before.kind === 'done' && after.kind === 'done') expect(after.value.pid).not.toBe(before.value.pid);
  });

  it('accepts a one-line MemScopeError, records another exception and a child that died', async () => {
    const failures = new FuzzFailures('probe', 1);
    expect(failures.outcome(0, 'memscope', await run({ end: 'memscope' }))).toBeUndefined();
    expect(failures.list).toEqual([]);
    failures.outcome(1, 'type-error', await run({ end: 'type-error' }));
    failures.outcome(2, 'exit', await run({ end: 'exit' }));
    expect(failures.list).toHaveLength(2);
    expect(failures.list[0]).toMatch(/^probe seed 1 iteration 1 \(type-error\): TypeError: probe: x is undefined/);
    expect(failures.list[1]).toMatch(/^probe seed 1 iteration 2 \(exit\): the child process running the case died: exit 3/);
    expect((await run({ end: 'value' })).kind).toBe('done');
  });
});
