// The fault injector itself: deterministic for a seed, changes land after their trigger and stay,
// torn and failed pages and I/O errors as planned, and restore() gives the inner source's bytes back.
import { describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { FaultInjectingSource } from './fault-injecting.js';
import { MemorySource } from './memory-source.js';
import { PageCachedSource } from './page-cache.js';

const PAGE = 4096;

function patterned(pages = 64): MemorySource {
  const bytes = new Uint8Array(pages * PAGE);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 12)) & 0xff;
  return MemorySource.fromBytes(bytes, 'patterned.raw');
}

describe('FaultInjectingSource', () => {
  it('passes reads through unchanged when no fault is planned, under a page cache like the engine stacks it', () => {
    const inner = patterned();
    const faults = new FaultInjectingSource(inner);
    const cached = new PageCachedSource(faults);
    for (const [a, n] of [[0, 16], [PAGE - 3, 10], [5 * PAGE, 3 * PAGE]] as const) {
      expect(cached.read(a, n).data).toEqual(inner.read(a, n).data);
    }
    expect(faults.counts).toMatchObject({ changesLanded: 0, tornPages: 0, failedPages: 0, ioErrors: 0 });
  });

  it('lands a change after the read that covers its trigger, and it stays (the memory changed)', () => {
    const faults = new FaultInjectingSource(patterned(), {
      seed: 1,
      changes: [{ pa: 3 * PAGE + 8, bytes: Uint8Array.of(0xaa, 0xbb), after: { pa: 2 * PAGE, reads: 2 } }],
    });
    const before = faults.read(3 * PAGE + 8, 2).data;
    faults.read(2 * PAGE, 8); // trigger read 1
    expect(faults.read(3 * PAGE + 8, 2).data).toEqual(before);
    faults.read(2 * PAGE - 4, 8); // trigger read 2 (covers it): lands after this read
    expect([...faults.read(3 * PAGE, 16).data.subarray(8, 10)]).toEqual([0xaa, 0xbb]);
    expect(faults.counts.changesLanded).toBe(1);
    faults.restore();
    expect(faults.read(3 * PAGE + 8, 2).data).toEqual(before);
  });

  it('tears and fails pages and throws I/O errors at the planned rates, the same ones for the same seed', () => {
    const run = (seed: number) => {
      const inner = patterned(256);
      const faults = new FaultInjectingSource(inner, { seed, tornPageRate: 0.2, failedPageRate: 0.1, ioErrorRate: 0.05 });
      const outcome: string[] = [];
      for (let i = 0; i < 200; i++) {
        const a = (i * 37 % 250) * PAGE;
        try {
          const r = faults.read(a, 2 * PAGE);
          const clean = inner.read(a, 2 * PAGE).data;
          for (const gap of r.absent) expect(r.data.subarray(gap.start - a, gap.start - a + gap.length).every((b) => b === 0)).toBe(true);
          outcome.push(`${r.absent.map((g) => g.start).join(',')}|${r.data.every((b, j) => b === clean[j]) ? 'same' : 'differs'}`);
        } catch (e) {
          expect(e).toBeInstanceOf(MemScopeError);
          expect((e as MemScopeError).message).toMatch(/^patterned\.raw: read of 8192 bytes at 0x[0-9a-f]+ failed \(injected I\/O error\)$/);
          outcome.push('io');
        }
      }
      return { outcome, counts: { ...faults.counts } };
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(run(8).outcome).not.toEqual(a.outcome);
    // 200 reads of 2 pages: about 20 % torn, 10 % failed, 5 % I/O errors.
    expect(a.counts.ioErrors).toBeGreaterThan(2);
    expect(a.counts.ioErrors).toBeLessThan(25);
    expect(a.counts.failedPages).toBeGreaterThan(15);
    expect(a.counts.tornPages).toBeGreaterThan(30);
    expect(a.outcome.filter((o) => o === 'io').length).toBe(a.counts.ioErrors);
  });

  it('tears a planned page on the planned read covering it: other bytes from that address to the page end, then the memory again', () => {
    const inner = patterned();
    const pa = 5 * PAGE + 0x123; // rounded down to 0x120
    const faults = new FaultInjectingSource(inner, { seed: 4, tears: [{ pa, read: 2 }] });
    const clean = inner.read(5 * PAGE, 2 * PAGE).data;
    expect(faults.read(4 * PAGE, 8 * PAGE).data).toEqual(inner.read(4 * PAGE, 8 * PAGE).data); // read 1 covering pa
    expect(faults.read(6 * PAGE, 8).data).toEqual(inner.read(6 * PAGE, 8).data); // not covering pa: not counted
    const torn = faults.read(5 * PAGE, 2 * PAGE).data; // read 2 covering pa: torn
    expect(torn.subarray(0, 0x120)).toEqual(clean.subarray(0, 0x120));
    expect(torn.subarray(0x120, PAGE).filter((b, i) => b !== clean[0x120 + i]).length).toBeGreaterThan(PAGE - 0x120 - 64);
    expect(torn.subarray(PAGE)).toEqual(clean.subarray(PAGE)); // the next page is untouched
    expect(faults.read(5 * PAGE, 2 * PAGE).data).toEqual(clean);
    expect(faults.counts.tornPages).toBe(1);
  });

  it('wraps a live source as it is: its kind, its notes and its device read failures pass through', () => {
    const inner = patterned();
    const live = Object.assign(Object.create(inner) as MemorySource, { kind: 'winpmem' as const, notes: ['physical mode'], readFailures: () => ({ pages: 3 }) });
    const faults = new FaultInjectingSource(live, { seed: 5, failedPageRate: 1 });
    expect(faults.kind).toBe('winpmem');
    expect(faults.notes).toEqual(['physical mode']);
    expect(faults.readFailures?.()).toEqual({ pages: 3 });
    expect(new FaultInjectingSource(inner).readFailures).toBeUndefined(); // an image has none
  });

  it('stopFaults() ends the random faults; reads then match the inner source', () => {
    const inner = patterned();
    const faults = new FaultInjectingSource(inner, { seed: 3, tornPageRate: 1, failedPageRate: 0.5 });
    expect(faults.read(0, PAGE).data).not.toEqual(inner.read(0, PAGE).data);
    faults.stopFaults();
    expect(faults.read(0, 8 * PAGE)).toEqual(inner.read(0, 8 * PAGE));
  });
});
