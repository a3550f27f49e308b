/**
 * structBytes: the struct view's bytes as hex pairs, `??` exactly over the unreadable runs a read
 * reports (one in the middle, one running past the end, one starting before the address).
 */
import { describe, expect, it } from 'vitest';
import type { VirtualMemory } from '../translate/types.js';
import { structBytes } from './wire.js';

const BASE = 0xffff_8000_0000_1000n;

function memoryWith(missing: { va: bigint; length: number }[]): VirtualMemory {
  return {
    dtbRaw: 0n, pml4: 0,
    translate: () => { throw new Error('not used'); },
    read: (va, length) => ({
      data: Uint8Array.from({ length }, (_, i) => (Number(va & 0xffn) + i) & 0xff),
      missing: missing.map((m) => ({ ...m, reason: 'page file PTE (not resident)' })),
    }),
  };
}

/** The same rule, byte by byte: what the view must show. */
function expected(size: number, missing: { va: bigint; length: number }[]): string {
  let out = '';
  for (let i = 0; i < size; i++) {
    const a = BASE + BigInt(i);
    out += missing.some((m) => a >= m.va && a < m.va + BigInt(m.length)) ? '??' : (i & 0xff).toString(16).padStart(2, '0');
  }
  return out;
}

describe('structBytes', () => {
  it('hex pairs, ?? over each unreadable run and nowhere else', () => {
    const cases = [
      [],
      [{ va: BASE + 5n, length: 3 }],
      [{ va: BASE + 5n, length: 3 }, { va: BASE + 30n, length: 100 }],
      [{ va: BASE - 8n, length: 10 }],
    ];
    for (const missing of cases) expect(structBytes(memoryWith(missing), BASE, 40)).toBe(expected(40, missing));
  });
});
