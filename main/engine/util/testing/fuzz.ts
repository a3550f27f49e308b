/**
 * Test support for the deterministic mutation-fuzz suites (`*.fuzz.test.ts`). The rule they prove
 * (helpers brief, "Bad input"): corrupt or truncated input ends in a MemScopeError naming what is
 * wrong, never in another exception type, a hang or an unbounded allocation. Every iteration is
 * reproducible from (seed, iteration), and every failure message carries both.
 */
import { MemScopeError } from '../../errors.js';
import { Prng } from '../../sample/prng.js';

export { Prng };

/** Collects non-MemScopeError outcomes so one run reports all of them, each with its seed/iteration. */
export class FuzzFailures {
  readonly list: string[] = [];
  constructor(readonly suite: string, readonly seed: number) {}

  /** Record `err` unless it is a single-line MemScopeError. */
  check(iteration: number, mutation: string, err: unknown): void {
    if (err instanceof MemScopeError && !err.message.includes('\n') && err.message.length > 0) return;
    const what = err instanceof Error ? `${err.name}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(err);
    this.list.push(`${this.suite} seed ${this.seed} iteration ${iteration} (${mutation}): ${what}`);
  }

  /** Record a property violation found on the success path (e.g. a short read). */
  fail(iteration: number, mutation: string, problem: string): void {
    this.list.push(`${this.suite} seed ${this.seed} iteration ${iteration} (${mutation}): ${problem}`);
  }
}

/** Run `fn`; a thrown error goes to `failures.check`. Returns true when fn completed. */
export function attempt(failures: FuzzFailures, iteration: number, mutation: string, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    failures.check(iteration, mutation, err);
    return false;
  }
}

export async function attemptAsync(failures: FuzzFailures, iteration: number, mutation: string, fn: () => Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  try {
    const r = await Promise.race([fn().then(() => 'done' as const), timeout]);
    if (r === 'timeout') {
      failures.fail(iteration, mutation, `did not finish within ${timeoutMs} ms (hang?)`);
      return false;
    }
    return true;
  } catch (err) {
    failures.check(iteration, mutation, err);
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Values that break size/count fields: zero, one, all-ones, sign bits, "huge". */
export const NASTY_U32 = [0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x10000, 0x1000, 0xfff] as const;
export const NASTY_U64 = [0n, 1n, 0xffffffffn, 0x1_0000_0000n, 0x7fffffffffffffffn, 0xffffffffffffffffn, 0x20000000000000n, 0x1fffffffffffffn, 0x10000000000000n] as const;

/**
 * One random mutation of `b` in place (whole-buffer copy is the caller's): byte flip, random byte,
 * u32/u64 overwritten with a nasty value, or a span of random bytes. `lo..hi` bounds the position.
 * Returns a short description for failure messages.
 */
export function mutate(rng: Prng, b: Uint8Array, lo: number, hi: number): string {
  const end = Math.min(hi, b.length);
  if (end - lo < 8) return 'none (range too small)';
  const at = rng.int(lo, end - 8);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (rng.int(0, 4)) {
    case 0: {
      const bit = rng.int(0, 7);
      b[at] = b[at]! ^ (1 << bit);
      return `flip bit ${bit} at 0x${at.toString(16)}`;
    }
    case 1: {
      const v = rng.int(0, 255);
      b[at] = v;
      return `byte 0x${v.toString(16)} at 0x${at.toString(16)}`;
    }
    case 2: {
      const v = rng.pick(NASTY_U32);
      dv.setUint32(at, v, true);
      return `u32 0x${v.toString(16)} at 0x${at.toString(16)}`;
    }
    case 3: {
      const v = rng.pick(NASTY_U64);
      dv.setBigUint64(at, v, true);
      return `u64 0x${v.toString(16)} at 0x${at.toString(16)}`;
    }
    default: {
      const n = Math.min(rng.int(1, 64), end - at);
      for (let i = 0; i < n; i++) b[at + i] = rng.int(0, 255);
      return `${n} random bytes at 0x${at.toString(16)}`;
    }
  }
}
