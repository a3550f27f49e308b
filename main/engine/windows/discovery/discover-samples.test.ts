/**
 * Discovery on sample images from the independent image builder (main/engine/sample), for four
 * real builds (1809, 1903, 2004, Windows 11 21H2) in each format (raw, ELF core, crash dump), with
 * and without a low stub, varying self-reference index and KASLR base, plus a CR3 hint with PCID
 * bits; every finding is compared with the builder's ground truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSample, type GroundTruth, type SampleFormat } from '../../sample/index.js';
import { openSource } from '../../sources/detect.js';
import type { PhysicalSource } from '../../sources/physical-source.js';
import { discoverKernel } from './discover.js';
import { isfProviders } from './testing/isf-providers.js';

interface Case {
  readonly build: string;
  readonly format: SampleFormat;
  readonly lowStub: boolean;
  readonly selfRefIndex: number;
  readonly kernelBase: bigint;
  readonly seed: number;
}

const CASES: Case[] = [];
const BUILDS = ['17763', '18362', '19041', '22000'];
BUILDS.forEach((build, i) => {
  CASES.push({ build, format: 'raw', lowStub: true, selfRefIndex: 0x100 + i * 0x31, kernelBase: 0xfffff80012400000n + BigInt(i) * 0x9e0_0000n, seed: 10 + i });
  CASES.push({ build, format: 'elf', lowStub: false, selfRefIndex: 0x1fe - i * 0x17, kernelBase: 0xfffff80240000000n + BigInt(i) * 0x4020_0000n, seed: 20 + i });
  CASES.push({ build, format: 'crashdump', lowStub: false, selfRefIndex: 0x1ed, kernelBase: 0xfffff8016a200000n + BigInt(i) * 0x20_0000n, seed: 30 + i });
  CASES.push({ build, format: 'crashdump-bitmap', lowStub: i % 2 === 0, selfRefIndex: 0x1c4 - i * 0x0d, kernelBase: 0xfffff80333c00000n + BigInt(i) * 0x1e0_0000n, seed: 50 + i });
});
// self-ref scan path: raw, no low stub, no CR3 hint
CASES.push({ build: '19041', format: 'raw', lowStub: false, selfRefIndex: 0x17b, kernelBase: 0xfffff8025c600000n, seed: 41 });
CASES.push({ build: '22000', format: 'raw', lowStub: false, selfRefIndex: 0x1a3, kernelBase: 0xfffff8023be00000n, seed: 42 });

let dir: string;
const built = new Map<Case, { path: string; truth: GroundTruth }>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memscope-discovery-'));
  for (const c of CASES) {
    const path = join(dir, `${c.build}-${c.format}-${c.seed}.img`);
    const truth = await buildSample({ build: c.build, format: c.format, out: path, sizeMiB: 64, seed: c.seed, lowStub: c.lowStub, selfRefIndex: c.selfRefIndex, kernelBase: c.kernelBase });
    built.set(c, { path, truth });
  }
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const withHints = (s: PhysicalSource, dtb: bigint): PhysicalSource =>
  new Proxy(s, { get: (t, k) => (k === 'hints' ? { ...t.hints, dtb } : Reflect.get(t, k, t)) });

describe.each(CASES)('build $build $format lowStub=$lowStub seed=$seed', (c) => {
  it('finds the DTB, kernel base, build and PDB the truth records', async () => {
    const { path, truth } = built.get(c)!;
    expect(truth.lowStub).toBe(c.lowStub);
    expect(truth.selfRefIndex).toBe(c.selfRefIndex);
    const source = openSource(path);
    try {
      const { kernel, report } = await discoverKernel(source, { store: isfProviders });
      expect(kernel.kernelBase).toBe(BigInt(truth.kernelBase));
      expect(kernel.dtb).toBe(BigInt(truth.pml4));
      expect(kernel.dtbRaw).toBe(BigInt(truth.dtb));
      expect(kernel.buildNumber).toBe(truth.buildNumber);
      expect(report.accepted?.pdb).toEqual(truth.pdb);
      expect(kernel.symbolVa('PsActiveProcessHead')).toBe(BigInt(truth.symbols['PsActiveProcessHead']!));
      const cheap = report.candidates.filter((x) => x.status === 'accepted').map((x) => x.method);
      if (c.lowStub) expect(cheap).toContain('low-stub');
      if (c.format !== 'raw') expect(cheap).toContain('source-cr3');
      if (c.format === 'raw' && !c.lowStub) expect(cheap).toContain('selfref-pml4');
      expect(report.timings.total).toBeGreaterThan(0);
    } finally {
      source.close();
    }
  });
});

describe('PCID bits', () => {
  it('a CR3 hint carrying PCID bits is accepted with its low bits kept', async () => {
    const { path, truth } = built.get(CASES[0]!)!;
    const source = openSource(path);
    try {
      const raw = BigInt(truth.pml4) | 0x2n;
      const { kernel, report } = await discoverKernel(withHints(source, raw), { store: isfProviders });
      // System's own DirBase (from PsInitialSystemProcess) is preferred over the hint
      expect(kernel.dtb).toBe(BigInt(truth.pml4));
      const hint = report.candidates.find((x) => x.method === 'source-cr3')!;
      expect(hint).toMatchObject({ dtbRaw: raw, pml4: Number(BigInt(truth.pml4)), status: 'accepted' });
    } finally {
      source.close();
    }
  });
});
