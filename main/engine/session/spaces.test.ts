/**
 * The session's memory spaces on sample images of two builds and two formats (checked against the
 * builder's ground truth): the same EPROCESS bytes through kernel, process and physical spaces with
 * ImageFileName at the profile's offset, per-page status of the builder's software PTEs, the
 * ActiveProcessLinks walk through the structure overlay, symbols, mapped ranges, cancel, and a
 * typed usage error for every bad request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { buildSample, type GroundTruth } from '../sample/index.js';
import { openSession, type AnalysisSession } from './session.js';
import { MAX_SPACE_READ } from './spaces.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-spaces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const usage = async (p: Promise<unknown> | (() => unknown), pattern: RegExp): Promise<void> => {
  let err: unknown = null;
  try { await (typeof p === 'function' ? p() : p); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(MemScopeError);
  expect((err as MemScopeError).kind).toBe('usage');
  expect((err as MemScopeError).message).toMatch(pattern);
};

describe.each([['19041', 'raw', 31], ['22000', 'crashdump', 32]] as const)('memory spaces: build %s, %s', (build, format, seed) => {
  let s: AnalysisSession;
  let truth: GroundTruth;
  beforeAll(async () => {
    const path = join(dir, `s${build}.${format}`);
    truth = await buildSample({ build, format, out: path, sizeMiB: 64, seed, processes: 5 });
    s = await openSession(path, { workers: 1 });
  });
  afterAll(async () => { await s?.close(); });

  const listed = () => truth.processes.filter((p) => p.foundBy.pslist && p.mapped !== false);

  it('an EPROCESS reads the same through kernel, its own process space and physical memory; ImageFileName at the profile offset', async () => {
    const nameOff = s.kernel.profile.offsetOf('_EPROCESS', 'ImageFileName');
    for (const p of listed()) {
      const va = BigInt(p.offset);
      const k = await s.space({ kind: 'kernel' }).read(va, 0x100 + nameOff);
      const own = await s.space({ kind: 'process', dtb: BigInt(p.dtb) }).read(va, 0x100 + nameOff);
      const phys = await s.space({ kind: 'physical' }).read(BigInt(p.physicalOffset), 16);
      expect(k.spans.every((x) => x.readable), p.name).toBe(true);
      expect(own.data).toEqual(k.data);
      if (!p.straddles) expect(phys.data).toEqual(k.data.subarray(0, 16));
      const name = Buffer.from(k.data.subarray(nameOff, nameOff + 15)).toString('latin1').replace(/\0.*$/s, '');
      expect(name).toBe(p.name);
    }
  });

  it('each page says whether it is readable or why not (the builder\'s software PTEs)', async () => {
    const want = { transition: 'transition', pagefile: 'paged-out', prototype: 'paged-out', 'demand-zero': 'not-present' } as const;
    const ptes = truth.kernelSoftwarePtes ?? [];
    expect(ptes.length).toBeGreaterThan(0);
    for (const pte of ptes) {
      const r = await s.space({ kind: 'kernel' }).read(BigInt(pte.va), 0x1000);
      expect(r.spans, pte.kind).toHaveLength(1);
      expect(r.spans[0]).toMatchObject({ offset: 0, length: 0x1000, status: want[pte.kind], readable: pte.kind === 'transition' });
      expect(r.spans[0]!.reason.length).toBeGreaterThan(3);
    }
    // the image's last page is all there
    const phys = await s.space({ kind: 'physical' }).read(BigInt(truth.sizeBytes - 0x1000), 0x1000);
    expect(phys.spans.every((x) => x.readable)).toBe(true);
  });

  it('following ActiveProcessLinks.Flink (Flink − field offset) lands on the next process of the active list', () => {
    const off = BigInt(s.kernel.profile.offsetOf('_EPROCESS', 'ActiveProcessLinks'));
    const head = s.symbol('nt!PsActiveProcessHead').address;
    const order: string[] = [];
    let link = s.structIn({ kind: 'kernel' }, '_LIST_ENTRY', head).dump.fields.find((f) => f.name === 'Flink')!;
    for (let i = 0; i < 64 && link.value.kind === 'pointer' && BigInt(link.value.value) !== head; i++) {
      const ep = BigInt(link.value.value) - off;
      const dump = s.structIn({ kind: 'kernel' }, '_EPROCESS', ep).dump;
      const apl = dump.fields.find((f) => f.name === 'ActiveProcessLinks')!;
      expect(apl.value.kind).toBe('list-entry');
      order.push(`0x${ep.toString(16)}`);
      link = s.structIn({ kind: 'kernel' }, '_LIST_ENTRY', ep + off).dump.fields.find((f) => f.name === 'Flink')!;
    }
    expect(new Set(order)).toEqual(new Set(listed().map((p) => p.offset)));
  });

  it('resolves kernel symbols with or without nt!, and names an unknown one', async () => {
    const want = BigInt(truth.symbols['PsActiveProcessHead']!);
    expect(s.symbol('PsActiveProcessHead').address).toBe(want);
    expect(s.symbol('nt!PsActiveProcessHead').address).toBe(want);
    await usage(() => s.symbol('PsNoSuchSymbol'), /has no symbol PsNoSuchSymbol/);
    await usage(() => s.symbol('hal!HalDispatchTable'), /only kernel symbols/);
    expect(s.typeNames()).toContain('_EPROCESS');
  });

  it('lists mapped ranges from the page tables: the kernel image is mapped', () => {
    const base = BigInt(truth.kernelBase);
    const r = s.space({ kind: 'kernel' }).mappedRanges(base, base + 0x100000n, 16);
    expect(r.ranges.length).toBeGreaterThan(0);
    expect(r.ranges[0]!.start <= base && r.ranges[0]!.end > base).toBe(true);
  });

  it('translates a kernel address through the kernel DTB to the physical address the truth says; unmapped ones say why', () => {
    const k = s.space({ kind: 'kernel' });
    for (const p of listed().slice(0, 5)) {
      const t = k.translate(BigInt(p.offset) + 0x10n);
      expect(t).toMatchObject({ status: 'resident' });
      expect(t.pa).toBe(BigInt(p.physicalOffset) + 0x10n);
    }
    // the empty low half of the kernel's own space maps nothing
    expect(k.translate(0x1000n)).toMatchObject({ pa: null, status: 'not-present' });
    expect(s.space({ kind: 'physical' }).translate(0x2000n)).toMatchObject({ pa: 0x2000n, status: 'resident' });
    expect(() => k.translate(0x0000_8000_0000_0000n)).toThrow(/non-canonical/);
  });

  it('every bad request is a typed usage error naming the value, before anything is allocated', async () => {
    const k = s.space({ kind: 'kernel' });
    await usage(k.read(0x0000_8000_0000_0000n, 16), /non-canonical/);
    await usage(k.read(0x0001_0000_0000_0000n, 16), /non-canonical/);
    await usage(k.read(-16n, 16), /negative/);
    await usage(k.read(0x7fff_ffff_fff0n, 32), /runs out of the canonical half/);
    await usage(k.read(BigInt(truth.kernelBase), MAX_SPACE_READ + 1), /exceeds the 1 MiB read cap/);
    await usage(k.read(BigInt(truth.kernelBase), 0), /not a positive integer/);
    await usage(s.space({ kind: 'physical' }).read(BigInt(truth.sizeBytes - 8), 16), /past the end of the image/);
    // a data page (an EPROCESS's) is not a page table; a DTB beyond the image is outside it
    const dataPage = BigInt(listed()[0]!.physicalOffset) & ~0xfffn;
    await usage(() => s.space({ kind: 'process', dtb: dataPage }), /is not a page table/);
    await usage(() => s.space({ kind: 'process', dtb: BigInt(truth.sizeBytes) + 0x2000n }), /outside the image/);
    await usage(() => s.structIn({ kind: 'kernel' }, '_NO_SUCH', BigInt(truth.kernelBase)), /has no type _NO_SUCH/);
  });

  it('a cancelled read ends cancelled', async () => {
    const c = new AbortController();
    c.abort();
    const err = await s.space({ kind: 'kernel' }).read(BigInt(truth.kernelBase), MAX_SPACE_READ, c.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemScopeError);
    expect((err as MemScopeError).kind).toBe('cancelled');
  });
});
