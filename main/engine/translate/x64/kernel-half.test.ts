/**
 * The PML4 self-reference, one rule for its three users: discovery's PML4 check
 * (windows/discovery/page-walk.ts), the self-reference scanner (scan/scanners/pml4-selfref.ts) and
 * the DirBase inspector (plugins/dtb-inspect). They used to test it three ways (present + writable
 * + not a large page; present + writable; present only) and answered differently on the synthetic
 * tables below; on real tables of sample images all three name the index the builder wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySource } from '../../sources/memory-source.js';
import { createScanner, type Pml4SelfRefHit } from '../../scan/scanners/pml4-selfref.js';
import { inspectPml4 } from '../../windows/discovery/page-walk.js';
import { inspectDtbs } from '../../plugins/dtb-inspect/index.js';
import type { ProcessRow } from '../../windows/eprocess.js';
import type { WindowsKernel } from '../../windows/kernel.js';
import { SampleSet, type SampleKernel } from '../../plugins/testing/sample-kernel.js';
import { isKernelPointer, isSelfReference, KERNEL_HALF_PML4, selfReferenceIndex } from './kernel-half.js';

const PML4 = 0x10000;
const P = 1n, RW = 2n, PS = 0x80n, A = 0x20n, D = 0x40n;

/** A 1 MiB source holding one PML4 at 0x10000 with `entries` (index → entry) and a few kernel tables. */
function tableWith(entries: Record<number, bigint>): MemorySource {
  const src = new MemorySource({ runs: [{ start: 0, length: 0x100000 }] });
  const page = new Uint8Array(0x1000);
  const dv = new DataView(page.buffer);
  // four ordinary kernel-half tables, so every check's "maps something besides itself" holds
  for (const [i, frame] of [[0x1f8, 0x20000], [0x1f9, 0x21000], [0x1fa, 0x22000], [0x1fb, 0x23000]] as const) dv.setBigUint64(i * 8, BigInt(frame) | P | RW | A | D, true);
  for (const [i, e] of Object.entries(entries)) dv.setBigUint64(Number(i) * 8, e, true);
  src.write(PML4, page);
  return src;
}

/** What each user answers for the PML4 at 0x10000 of `src`: the self-reference index, or null. */
function answers(src: MemorySource): { discovery: number | null; scanner: number | null; inspector: number | null } {
  const hits: Pml4SelfRefHit[] = [];
  const chunk = new Uint8Array(0x1000);
  chunk.set(src.read(PML4, 0x1000).data);
  createScanner({ minKernelEntries: 1 }).scan(chunk, PML4, (h) => hits.push(h));
  const kernel = { source: src, dtb: BigInt(PML4) } as unknown as WindowsKernel; // the inspector reads only these
  const row = { pid: 4, name: 'System', offset: null, dtb: BigInt(PML4), userDtb: null } as unknown as ProcessRow;
  return {
    discovery: inspectPml4(src, PML4).selfRefIndex,
    scanner: hits[0]?.index ?? null,
    inspector: inspectDtbs(kernel, [row]).rows[0]!.selfRefIndex,
  };
}

describe('the PML4 self-reference rule', () => {
  it('a present, writable entry naming its own frame in the kernel half: all three agree', () => {
    expect(answers(tableWith({ 0x1ed: BigInt(PML4) | P | RW | A | D }))).toEqual({ discovery: 0x1ed, scanner: 0x1ed, inspector: 0x1ed });
  });

  it('read-only: no self-reference (the inspector used to say 0x1ed: it tested only Present)', () => {
    expect(answers(tableWith({ 0x1ed: BigInt(PML4) | P | A }))).toEqual({ discovery: null, scanner: null, inspector: null });
  });

  it('PS set is no table pointer: the next true self-reference counts (the scanner and inspector used to stop at the PS entry)', () => {
    const src = tableWith({ 0x1ed: BigInt(PML4) | P | RW | PS, 0x1f0: BigInt(PML4) | P | RW | A | D });
    const a = answers(src);
    expect(a.discovery).toBe(0x1f0);
    expect(a.inspector).toBe(0x1f0);
    // the scanner's own page sanity (a present PML4E with PS set is reserved) still rejects the page
    expect(a.scanner).toBeNull();
    expect(answers(tableWith({ 0x1f0: BigInt(PML4) | P | RW | A | D, 0x1f1: BigInt(PML4) | P | RW | PS }))).toMatchObject({ discovery: 0x1f0, inspector: 0x1f0 });
  });

  it('only the kernel half: a user-half entry naming its own frame is no self-reference', () => {
    expect(answers(tableWith({ [KERNEL_HALF_PML4.first - 1]: BigInt(PML4) | P | RW }))).toEqual({ discovery: null, scanner: null, inspector: null });
    expect(selfReferenceIndex(Array.from({ length: 512 }, (_, i) => (i === 0x1ff ? BigInt(PML4) | P | RW : 0n)), PML4)).toBe(0x1ff);
  });

  it('the predicate alone: flags and frame', () => {
    expect(isSelfReference(0x8000_0000_0001_0063n, 0x10000)).toBe(true); // NX and A/D set, as Windows writes it
    expect(isSelfReference(0x0000_0000_0001_1063n, 0x10000)).toBe(false); // another frame
    expect(isSelfReference(0x0000_0000_0001_0062n, 0x10000)).toBe(false); // not present
  });

  it('kernel pointers: the canonical kernel half, 8-byte aligned', () => {
    expect(isKernelPointer(0xffff_8000_0000_0000n)).toBe(true);
    expect(isKernelPointer(0xffff_7fff_ffff_fff8n)).toBe(false);
    expect(isKernelPointer(0xffff_f802_0a60_0004n)).toBe(false);
    expect(isKernelPointer(0x0000_7fff_0000_0000n)).toBe(false);
  });
});

describe('on real tables', () => {
  const set = new SampleSet();
  const samples: SampleKernel[] = [];
  beforeAll(async () => {
    samples.push(await set.build('19041', 'raw', 11), await set.build('17763', 'raw', 12));
  }, 120_000);
  afterAll(() => set.cleanup());

  it('the three users name the self-reference index the builder wrote, for System', () => {
    for (const s of samples) {
      const pml4 = Number(s.truth.pml4);
      const chunk = new Uint8Array(0x1000);
      chunk.set(s.source.read(pml4, 0x1000).data);
      const hits: Pml4SelfRefHit[] = [];
      createScanner({ maxPhysicalAddress: s.source.size }).scan(chunk, pml4, (h) => hits.push(h));
      const system = { pid: 4, name: 'System', offset: null, dtb: BigInt(s.truth.dtb), userDtb: null } as unknown as ProcessRow;
      expect({
        discovery: inspectPml4(s.source, pml4).selfRefIndex,
        scanner: hits[0]?.index ?? null,
        inspector: inspectDtbs(s.kernel, [system]).rows[0]!.selfRefIndex,
      }, s.truth.build).toEqual({ discovery: s.truth.selfRefIndex, scanner: s.truth.selfRefIndex, inspector: s.truth.selfRefIndex });
    }
  });
});
