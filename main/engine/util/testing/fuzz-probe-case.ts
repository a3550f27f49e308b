/**
 * A fuzz case module for fuzz.test.ts: each input is one way a case can end (a value, a
 * MemScopeError, another exception, a synchronous infinite loop, a dead process).
 */
import { MemScopeError } from '../../errors.js';

export type ProbeInput = { readonly end: 'value' | 'memscope' | 'type-error' | 'spin' | 'exit'; readonly n?: bigint };

export function runCase(input: ProbeInput): { pid: number; n: bigint | null } {
  switch (input.end) {
    case 'value': return { pid: process.pid, n: input.n ?? null };
    case 'memscope': throw new MemScopeError('format', 'probe.raw: truncated header');
    case 'type-error': throw new TypeError('probe: x is undefined');
    case 'spin': for (;;) { /* a synchronous loop no timer in this thread can interrupt */ }
    case 'exit': process.exit(3);
  }
}
