/**
 * Discovery on synthetic kernels built with the SDM page-table builder: each DTB strategy on its
 * own, validation, and the failure modes (no kernel, two kernels, corrupt PE, looping tables).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../../errors.js';
import type { Profile } from '../../profile/profile.js';
import { MemorySource } from '../../sources/memory-source.js';
import type { PhysicalSource, SourceHints } from '../../sources/physical-source.js';
import { DiscoveryError, discoverKernel } from './discover.js';
import { lowStub } from './dtb/low-stub.js';
import { selfRefPml4 } from './dtb/selfref-pml4.js';
import { sourceCr3 } from './dtb/source-cr3.js';
import { systemProcess } from './dtb/system-process.js';
import { type MethodCandidate, scanForCandidates } from './dtb/whole-memory.js';
import { checkListHead } from './dtb/validate.js';
import { enumerateMappings, inspectPml4 } from './page-walk.js';
import { guidToSymbolForm, parsePe } from './pe.js';
import { inProcessScan, type PhysicalScanFn } from './scan-runner.js';
import { isfProvider, isfProviders } from './testing/isf-providers.js';
import { buildSyntheticKernel, peHeaderPage, symbolFormToGuidBytes, writeLowStub } from './testing/synthetic-kernel.js';
import type { DtbCandidate } from './types.js';
import { X64_MMU } from '../../translate/x64/mmu.js';

const PDB_19041 = { name: 'ntkrnlmp.pdb', guid: 'BBED7C2955FBE4522AAA23F4B8677AD9', age: 1 };
const MIB = 1024 * 1024;
let profile: Profile;

beforeAll(async () => {
  const p = await isfProvider(PDB_19041);
  if (!p) throw new Error('shared ISF for 19041 missing');
  profile = p;
});

const collect = async (g: AsyncIterable<DtbCandidate>) => { const out: DtbCandidate[] = []; for await (const c of g) out.push(c); return out; };
async function* candidatesOnly(g: AsyncIterable<MethodCandidate>): AsyncGenerator<DtbCandidate> { for await (const c of g) yield c.candidate; }
const withHints = (s: PhysicalSource, hints: SourceHints): PhysicalSource =>
  new Proxy(s, { get: (t, k) => (k === 'hints' ? hints : Reflect.get(t, k, t)) });
const mem = (mib = 32, hints: SourceHints = {}) => new MemorySource({ runs: [{ start: 0, length: mib * MIB }], hints });

describe('pe', () => {
  it('reads the RSDS GUID in symbol-server form and round-trips the mixed-endian layout', () => {
    const page = peHeaderPage(PDB_19041, 0x100000);
    const r = parsePe((rva, len) => page.slice(rva, rva + len));
    expect(r.ok && r.pe.pdb).toEqual(PDB_19041);
    expect(guidToSymbolForm(symbolFormToGuidBytes('641F55C592201DCC4F59FACC72EA54DA'))).toBe('641F55C592201DCC4F59FACC72EA54DA');
  });
  it('reports a corrupt header instead of reading wild offsets', () => {
    const r = parsePe((rva, len) => (rva + len <= 0x1000 ? peHeaderPage(PDB_19041, 0x100000, true).slice(rva, rva + len) : null));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('corrupt PE header') });
  });
});

describe('DTB strategies', () => {
  it('source-cr3 keeps PCID bits in dtbRaw and masks them for the PML4', async () => {
    const [c] = await collect(sourceCr3(mem(1, { dtb: 0x4e312002n })));
    expect(c).toMatchObject({ dtbRaw: 0x4e312002n, pml4: 0x4e312000, method: 'source-cr3' });
  });
  it('low-stub finds PROCESSOR_START_BLOCK and rejects a non-kernel entry', async () => {
    const s = mem(2);
    writeLowStub(s, 0x13000, 0x1ad000n, 0xfffff8034a2b1010n);
    writeLowStub(s, 0x20000, 0x2000n, 0x00007ff000000000n); // entry not in kernel space
    const cands = await collect(lowStub(s));
    expect(cands).toHaveLength(1);
    expect(cands[0]).toMatchObject({ dtbRaw: 0x1ad000n, kernelHintVa: 0xfffff8034a2b1010n });
  });
  it('selfref-pml4 finds a PML4 at a randomised self-map index', async () => {
    const s = mem(32);
    const k = buildSyntheticKernel({ source: s, region: 9 * MIB, base: 0xfffff80412600000n, profile, selfRefIndex: 0x1a7 });
    const cands = await collect(candidatesOnly(scanForCandidates([selfRefPml4(s)], inProcessScan(s))));
    expect(cands.map((c) => c.pml4)).toEqual([k.pml4]);
    expect(cands[0]!.evidence[0]).toContain('entry 0x1a7');
  });
  it('the self-ref PML4 and System EPROCESS methods share one pass over memory', async () => {
    const s = mem(32);
    const k = buildSyntheticKernel({ source: s, region: 9 * MIB, base: 0xfffff80412600000n, profile, selfRefIndex: 0x133 });
    // System's EPROCESS (Windows 10 2004+ layout) in a page the kernel image does not use
    const eproc = 21 * MIB + 0x2c0;
    s.writeU64(eproc + 0x28, BigInt(k.pml4) | 0x2n); // DirectoryTableBase with PCID bits
    s.writeU64(eproc + 0x440, 4n);
    s.write(eproc + 0x5a8, Buffer.from('System\0', 'latin1'));
    const passes: string[] = [];
    const counting: PhysicalScanFn = (spec, o) => { passes.push(spec.kind); return inProcessScan(s)(spec, o); };
    const found: MethodCandidate[] = [];
    for await (const c of scanForCandidates([selfRefPml4(s), systemProcess(s)], counting)) found.push(c);
    expect(passes).toEqual(['any-of']);
    expect(found.map((f) => [f.method, f.candidate.dtbRaw])).toEqual(expect.arrayContaining([
      ['selfref-pml4', BigInt(k.pml4)],
      ['system-process', BigInt(k.pml4) | 0x2n],
    ]));
    expect(found).toHaveLength(2);
    expect(found.find((f) => f.method === 'system-process')!.candidate.evidence[0]).toContain(`EPROCESS at PA 0x${eproc.toString(16)}`);
  });
  it('bounded enumeration survives tables that point back at the PML4', () => {
    const s = mem(8);
    const k = buildSyntheticKernel({ source: s, region: 1 * MIB, base: 0xfffff80000000000n, profile });
    // PDPT/PD entries of the kernel range pointing back at the PML4 (a loop)
    const pdpt = k.builder.entryAddressOf('PDPT', 0xfffff80000000000n);
    for (let i = 1; i < 512; i++) s.writeU64(pdpt - (pdpt % 4096) + i * 8, BigInt(k.pml4) | 3n);
    const t0 = performance.now();
    const r = enumerateMappings(s, k.pml4, 0xfffff80000000000n, 0xfffff8ffffffffffn);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.problems.join()).toMatch(/points back at a table above it \(a loop\)/);
    expect(inspectPml4(s, k.pml4).selfRefIndex).toBe(0x1ed);
  });
});

describe('discoverKernel on synthetic kernels', () => {
  it('accepts the low stub, finds the base by back-scan and reads the build', async () => {
    const s = mem(32);
    const base = 0xfffff80412600000n;
    const k = buildSyntheticKernel({ source: s, region: 4 * MIB, base, profile, buildNumber: 19041 });
    writeLowStub(s, 0x1000, BigInt(k.pml4), base + 0x1234n);
    const { kernel, report } = await discoverKernel(s, { store: isfProviders });
    expect(kernel.kernelBase).toBe(base);
    expect(kernel.dtb).toBe(BigInt(k.pml4));
    expect(kernel.dtbMethod).toBe('low-stub');
    expect(kernel.buildNumber).toBe(19041);
    expect(kernel.profileSource).toBe('bundled');
    expect(kernel.symbolVa('PsActiveProcessHead')).toBe(base + BigInt(profile.symbol('PsActiveProcessHead')));
    expect(kernel.kernel.translate(base).pa).toBe(k.headerPa);
    expect(report.methods.find((m) => m.method === 'kernel-base:back-scan')?.ok).toBe(true);
    expect(report.methods.find((m) => m.method === 'dtb:selfref-pml4')?.detail).toMatch(/not run/);
  });

  it('falls back to the self-ref scan and the kernel VA scan; a PCID CR3 hint keeps its low bits', async () => {
    const s = mem(32);
    const base = 0xfffff8073c000000n;
    const k = buildSyntheticKernel({ source: s, region: 20 * MIB, base, profile, selfRefIndex: 0x133 });
    const a = await discoverKernel(s, { store: isfProviders });
    expect(a.kernel.dtbMethod).toBe('selfref-pml4');
    expect(a.kernel.kernelBase).toBe(base);
    expect(a.report.methods.find((m) => m.method === 'kernel-base:va-scan')?.ok).toBe(true);
    const b = await discoverKernel(withHints(s, { dtb: BigInt(k.pml4) | 0x2n }), { store: isfProviders });
    expect(b.kernel.dtbRaw).toBe(BigInt(k.pml4) | 0x2n);
    expect(b.kernel.dtb).toBe(BigInt(k.pml4));
    expect(b.kernel.dtbMethod).toBe('source-cr3');
  });

  it('a zero-filled image: analysis error naming every method and why it failed', async () => {
    const err = await discoverKernel(mem(16), { store: isfProviders }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscoveryError);
    const e = err as DiscoveryError;
    expect(e.kind).toBe('analysis');
    for (const m of ['source-cr3', 'low-stub', 'selfref-pml4', 'system-process']) expect(e.message).toContain(m);
    expect(e.message).toContain('no Windows x64 kernel found');
    expect(e.report.candidates).toEqual([]);
  });

  it('random bytes: clear error, no hang', async () => {
    let x = 0x12345678;
    const bytes = new Uint8Array(8 * MIB);
    for (let i = 0; i < bytes.length; i += 4) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; bytes[i] = x & 0xff; bytes[i + 1] = (x >>> 8) & 0xff; bytes[i + 2] = (x >>> 16) & 0xff; bytes[i + 3] = x >>> 24; }
    const err = await discoverKernel(MemorySource.fromBytes(bytes, 'random.raw'), { store: isfProviders }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemScopeError);
    expect((err as MemScopeError).message).toMatch(/^random\.raw: no Windows x64 kernel found; tried source-cr3/);
  });

  it('a corrupt PE header: the candidate is rejected with that reason', async () => {
    const s = mem(32);
    const base = 0xfffff80412600000n;
    const k = buildSyntheticKernel({ source: s, region: 4 * MIB, base, profile, corruptPe: true });
    writeLowStub(s, 0x1000, BigInt(k.pml4), base + 0x1234n);
    const err = (await discoverKernel(s, { store: isfProviders }).catch((e: unknown) => e)) as DiscoveryError;
    expect(err).toBeInstanceOf(DiscoveryError);
    expect(err.message).toContain('corrupt PE header');
    expect(err.report.candidates.find((c) => c.method === 'low-stub')?.status).toBe('rejected');
  });

  it('two kernels (CR3 hint and low stub disagree): error listing both', async () => {
    const s = mem(48);
    const a = buildSyntheticKernel({ source: s, region: 4 * MIB, base: 0xfffff80412600000n, profile, selfRefIndex: 0x1ed });
    const b = buildSyntheticKernel({ source: s, region: 24 * MIB, base: 0xfffff80555400000n, profile, selfRefIndex: 0x1c2 });
    writeLowStub(s, 0x1000, BigInt(b.pml4), 0xfffff80555401000n);
    const err = (await discoverKernel(withHints(s, { dtb: BigInt(a.pml4) }), { store: isfProviders }).catch((e: unknown) => e)) as DiscoveryError;
    expect(err).toBeInstanceOf(DiscoveryError);
    expect(err.message).toMatch(/2 different kernels found/);
    expect(err.message).toContain('0xfffff80412600000');
    expect(err.message).toContain('0xfffff80555400000');
  });

  it('two kernels found only by the scan are reported in exhaustive mode', async () => {
    const s = mem(48);
    buildSyntheticKernel({ source: s, region: 4 * MIB, base: 0xfffff80412600000n, profile, selfRefIndex: 0x1ed });
    buildSyntheticKernel({ source: s, region: 24 * MIB, base: 0xfffff80555400000n, profile, selfRefIndex: 0x1c2 });
    const err = await discoverKernel(s, { store: isfProviders, exhaustive: true }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/2 different kernels found/);
  });

  it('looping page tables under a candidate do not hang discovery', async () => {
    const s = mem(16);
    const k = buildSyntheticKernel({ source: s, region: 2 * MIB, base: 0xfffff80412600000n, profile });
    // every PML4 kernel entry in the kernel image range points at the PML4 itself
    s.writeU64(k.pml4 + 0x1f0 * 8, BigInt(k.pml4) | 3n);
    s.writeU64(k.pml4 + 0x1f1 * 8, BigInt(k.pml4) | 3n);
    writeLowStub(s, 0x1000, BigInt(k.pml4), 0xfffff80412601000n);
    const t0 = performance.now();
    const err = (await discoverKernel(s, { store: isfProviders }).catch((e: unknown) => e)) as DiscoveryError;
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(DiscoveryError);
    expect(err.message).toMatch(/no ntoskrnl image found/);
  });

  it('is cancellable', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await discoverKernel(mem(4), { store: isfProviders, signal: ac.signal }).catch((e: unknown) => e);
    expect((err as MemScopeError).kind).toBe('cancelled');
  });

  it('checkListHead rejects a list whose Flink does not point back', () => {
    const s = mem(16);
    const base = 0xfffff80412600000n;
    const k = buildSyntheticKernel({ source: s, region: 2 * MIB, base, profile });
    const head = base + BigInt(profile.symbol('PsActiveProcessHead'));
    expect(checkListHead(s, k.pml4, head).ok).toBe(true);
    const pa = k.builder.entryAddressOf('PT', head);
    const page = Number(k.builder.readU64(pa) & X64_MMU.physMask) + Number(head & 0xfffn);
    s.writeU64(page, base); // Flink → the PE header, whose +8 is not the head
    expect(checkListHead(s, k.pml4, head)).toMatchObject({ ok: false, reason: expect.stringMatching(/Flink->Blink/) });
  });
});
