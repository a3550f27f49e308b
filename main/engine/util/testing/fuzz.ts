/**
 * Test support for the deterministic mutation-fuzz suites (`*.fuzz.test.ts`). The rule they prove
 * (helpers brief, "Bad input"): corrupt or truncated input ends in a MemScopeError naming what is
 * wrong, never in another exception type, a hang or an unbounded allocation. Every iteration is
 * reproducible from (seed, iteration), and every failure message carries both.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { MemScopeError } from '../../errors.js';
import { Prng } from '../../sample/prng.js';
import type { CaseError, CaseReply, CaseRequest } from './fuzz-child.js';

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

  /**
   * The value of a case run in a FuzzChild, or undefined when it did not complete; records every
   * outcome but a completed case or a one-line MemScopeError (a hang, a crash, another exception).
   */
  outcome<O>(iteration: number, mutation: string, o: CaseOutcome<O>): O | undefined {
    switch (o.kind) {
      case 'done': return o.value;
      case 'threw':
        if (!(o.error.memScope && o.error.message.length > 0 && !o.error.message.includes('\n'))) {
          this.fail(iteration, mutation, `${o.error.name}: ${o.error.message}\n${o.error.stack.split('\n').slice(1, 6).join('\n')}`);
        }
        return undefined;
      case 'timeout':
        this.fail(iteration, mutation, `did not finish within ${o.ms} ms: a hang (the case ran in a child process that was killed, so a synchronous loop is caught too)`);
        return undefined;
      case 'crashed':
        this.fail(iteration, mutation, `the child process running the case died: ${o.detail}`);
        return undefined;
    }
  }
}

/** How a case run in a FuzzChild ended. */
export type CaseOutcome<O> =
  | { readonly kind: 'done'; readonly value: O }
  | { readonly kind: 'threw'; readonly error: CaseError }
  | { readonly kind: 'timeout'; readonly ms: number }
  | { readonly kind: 'crashed'; readonly detail: string };

const childEntry = new URL(/\.ts$/.test(new URL(import.meta.url).pathname) ? './fuzz-child.ts' : './fuzz-child.js', import.meta.url);

/**
 * Fuzz cases in a child process, one at a time, each with a deadline. A case is `runCase(input)`
 * exported by `caseModule` (a file URL); inputs and values cross by structured clone (bigint and
 * Uint8Array included). A case that overruns is a hang: the child is killed (which stops even a
 * synchronous loop, unlike a timer in the same thread) and the next case gets a fresh child, whose
 * start-up is paid before its deadline starts.
 */
export class FuzzChild {
  private child: ChildProcess | null = null;
  private nextId = 0;
  private stderrTail = '';

  constructor(private readonly caseModule: string, private readonly startupMs = 120_000) {}

  private start(): ChildProcess {
    const child = fork(childEntry, [], {
      execArgv: childEntry.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.stderrTail = '';
    child.stderr?.on('data', (d: Buffer) => { this.stderrTail = (this.stderrTail + d.toString()).slice(-2000); });
    child.once('exit', () => { if (this.child === child) this.child = null; });
    this.child = child;
    return child;
  }

  private request<O>(child: ChildProcess, req: Omit<CaseRequest, 'id'>, deadlineMs: number): Promise<CaseOutcome<O>> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const finish = (o: CaseOutcome<O>) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(o);
      };
      const onMessage = (m: CaseReply) => {
        if (m.id !== id) return;
        finish(m.ok ? { kind: 'done', value: m.value as O } : { kind: 'threw', error: m.error });
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        finish({ kind: 'crashed', detail: `exit ${code ?? signal}${this.stderrTail ? `; stderr: ${this.stderrTail.trim()}` : ''}` });
      const timer = setTimeout(() => {
        finish({ kind: 'timeout', ms: deadlineMs });
        this.kill();
      }, deadlineMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ ...req, id } satisfies CaseRequest);
    });
  }

  /** Run one case; `deadlineMs` bounds the case itself (a fresh child loads the module first). */
  async run<I, O>(input: I, deadlineMs: number): Promise<CaseOutcome<O>> {
    let child = this.child;
    if (!child) {
      child = this.start();
      const warm = await this.request<null>(child, { module: this.caseModule, warm: true }, this.startupMs);
      if (warm.kind !== 'done') return warm.kind === 'threw' ? { kind: 'crashed', detail: `case module failed to load: ${warm.error.message}` } : warm;
    }
    return this.request<O>(child, { module: this.caseModule, input }, deadlineMs);
  }

  private kill(): void {
    const c = this.child;
    this.child = null;
    c?.kill('SIGKILL');
  }

  close(): void {
    this.kill();
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
