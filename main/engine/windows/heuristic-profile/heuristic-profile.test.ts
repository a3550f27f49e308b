/**
 * The heuristic profile on sample images (sample/ builder, independent of windows/) whose profile is
 * withheld from the derivation, and whose _EPROCESS layout is withheld from the prior table of known
 * layouts as well (`families`): the real ISF tables are loaded only to compare against afterwards.
 * Also a synthetic "future build" whose _EPROCESS layout no known build has, and corrupted images.
 */
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../../errors.js';
import type { FieldDef, ProfileData, StructDef } from '../../profile/model.js';
import { Profile } from '../../profile/profile.js';
import { collectPslist } from '../../plugins/pslist/index.js';
import { hex } from '../../util/hex.js';
import { buildSample, type GroundTruth } from '../../sample/index.js';
import { buildImage } from '../../sample/image.js';
import { loadIsfProfile } from '../../sample/isf-loader.js';
import { sharedIsfDir } from '../../sample/profile-source.js';
import { PAGE_SIZE } from '../../sample/physmem.js';
import { memoryFromPages, writeImage } from '../../acquire/writers/index.js';
import { openSource } from '../../sources/detect.js';
import type { PhysicalSource } from '../../sources/physical-source.js';
import { X64AddressSpace } from '../../translate/x64/address-space.js';
import { discoverKernel } from '../discovery/discover.js';
import type { WindowsKernel } from '../kernel.js';
import { deriveHeuristicProfile, heuristicProfileProvider, type HeuristicResult, kernelReadOf, LAYOUT_FAMILIES } from './index.js';
import type { LayoutFamily } from './priors.js';

const isfDir = sharedIsfDir();
const dir = mkdtempSync(join(tmpdir(), 'memscope-heur-'));
const opened: PhysicalSource[] = [];
afterAll(() => {
  for (const s of opened) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const DERIVED = ['UniqueProcessId', 'ActiveProcessLinks', 'ImageFileName', 'InheritedFromUniqueProcessId', 'CreateTime', 'ExitTime', 'Peb', 'ObjectTable', 'ActiveThreads'];

function open(path: string): PhysicalSource {
  const s = openSource(path);
  opened.push(s);
  return s;
}

async function derive(path: string, truth: Pick<GroundTruth, 'kernelBase' | 'dtb'>, families?: readonly LayoutFamily[]): Promise<HeuristicResult> {
  const source = open(path);
  return deriveHeuristicProfile({
    source, kernelBase: BigInt(truth.kernelBase), readKernel: kernelReadOf(new X64AddressSpace(source, BigInt(truth.dtb))), ...(families ? { families } : {}),
  });
}

/** The prior table without any layout family whose derived _EPROCESS offsets are `real`'s: the build's layout withheld. */
const withholding = (real: Profile): LayoutFamily[] =>
  LAYOUT_FAMILIES.filter((f) => !DERIVED.every((k) => f.eprocess[k as keyof typeof f.eprocess] === real.offsetOf('_EPROCESS', k)));

function kernelWith(path: string, truth: GroundTruth, profile: Profile): WindowsKernel {
  const source = open(path);
  const kernelBase = BigInt(truth.kernelBase);
  return {
    source, kernel: new X64AddressSpace(source, BigInt(truth.dtb)), dtbRaw: BigInt(truth.dtb), dtb: BigInt(truth.pml4),
    dtbMethod: 'truth', kernelBase, buildNumber: null, profile, profileSource: 'heuristic',
    symbolVa: (n) => kernelBase + BigInt(profile.symbol(n)),
  };
}

/** Patch bytes of a copy of a raw image (raw: file offset = physical address). */
function patched(src: string, name: string, edits: [number, Uint8Array][]): string {
  const out = join(dir, name);
  copyFileSync(src, out);
  const fd = openSync(out, 'r+');
  try {
    for (const [pa, bytes] of edits) writeSync(fd, bytes, 0, bytes.length, pa);
  } finally {
    closeSync(fd);
  }
  return out;
}
const qword = (v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); return b; };

describe.skipIf(!isfDir)('heuristic profile on builds whose profile is withheld', () => {
  const builds = ['17763', '19041', '22000', '7601'];
  const images = new Map<string, { path: string; truth: GroundTruth }>();
  beforeAll(async () => {
    for (const b of builds) {
      const path = join(dir, `s${b}.raw`);
      images.set(b, { path, truth: await buildSample({ build: b, format: 'raw', out: path, sizeMiB: 64, seed: 7, processes: 4 }) });
    }
  }, 120_000);

  for (const b of builds) {
    it(`${b}: with its layout withheld from the prior table too, every derived offset equals the real profile, and pslist with it lists the truth`, async () => {
      const { path, truth } = images.get(b)!;
      const real = new Profile(await loadIsfProfile(isfDir!, truth.build));
      const priors = withholding(real);
      expect(priors.length).toBeLessThan(LAYOUT_FAMILIES.length);
      const r = await derive(path, truth, priors);
      for (const f of DERIVED) expect([f, r.profile.types._EPROCESS!.fields[f]!.offset]).toEqual([f, real.offsetOf('_EPROCESS', f)]);
      expect(r.profile.types._KPROCESS!.fields.DirectoryTableBase!.offset).toBe(real.offsetOf('_KPROCESS', 'DirectoryTableBase'));
      expect(r.profile.symbols.PsActiveProcessHead).toBe(real.symbol('PsActiveProcessHead'));
      expect(r.profile.symbols.PsInitialSystemProcess).toBe(real.symbol('PsInitialSystemProcess'));
      for (const f of ['QuotaProcess', 'UniqueProcessId']) expect(r.profile.types._HANDLE_TABLE!.fields[f]!.offset).toBe(real.offsetOf('_HANDLE_TABLE', f));
      expect(r.profile.heuristic!.confidence).toBeGreaterThanOrEqual(0.9);
      expect(r.profile.heuristic!.evidence['_EPROCESS.CreateTime']).toMatch(/FILETIME/);
      expect(r.family).toBeNull(); // no family left with its pid/name offsets: every offset came from memory
      // _EPROCESS size is unknowable: the end of the highest derived field, never beyond the real one
      expect(r.profile.types._EPROCESS!.size).toBeLessThanOrEqual(real.sizeOf('_EPROCESS'));

      const { rows, warnings } = await collectPslist(kernelWith(path, truth, new Profile(r.profile)));
      expect(warnings).toEqual([]);
      const want = truth.processes.filter((p) => p.foundBy.pslist)
        .map((p) => ({ pid: p.pid, ppid: p.ppid, name: p.name, offset: p.offset, createTime: p.createTime, exitTime: p.exitTime, threads: p.threads, dtb: p.dtb }));
      expect(rows.map((p) => ({ pid: p.pid, ppid: p.ppid, name: p.name, offset: hex(p.offset!), createTime: p.createTime, exitTime: p.exitTime, threads: p.threads, dtb: hex(p.dtb!) })))
        .toEqual(want);
    }, 60_000);
  }

  it('discovery uses it only when no other provider has the profile, and says "heuristic"', async () => {
    const { path, truth } = images.get('19041')!;
    const source = open(path);
    const { kernel, report } = await discoverKernel(source, {
      store: { bundled: async () => null, heuristic: heuristicProfileProvider(source) }, noScan: true,
    });
    expect(kernel.profileSource).toBe('heuristic');
    expect(report.accepted!.profileSource).toBe('heuristic');
    expect(kernel.profile.data.heuristic!.confidence).toBeGreaterThanOrEqual(0.9);
    expect(report.methods.find((m) => m.method === 'profile:bundled')!.ok).toBe(false);
    expect(kernel.symbolVa('PsActiveProcessHead')).toBe(BigInt(truth.symbols.PsActiveProcessHead!));
  }, 60_000);

  it('an image with no System process is a clear error, not a guess', async () => {
    const { path, truth } = images.get('19041')!;
    const sys = truth.processes.find((p) => p.pid === 4)!;
    const real = new Profile(await loadIsfProfile(isfDir!, truth.build));
    const bad = patched(path, 'nosystem.raw', [[Number(sys.physicalOffset) + real.offsetOf('_EPROCESS', 'ImageFileName'), new TextEncoder().encode('Systen')]]);
    const e = await derive(bad, truth).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MemScopeError);
    expect((e as Error).message).toMatch(/no System process/);
  });

  it('a System EPROCESS whose PID or links are corrupt is rejected with the reason', async () => {
    const { path, truth } = images.get('17763')!;
    const sys = truth.processes.find((p) => p.pid === 4)!;
    const real = new Profile(await loadIsfProfile(isfDir!, truth.build));
    const pidPa = Number(sys.physicalOffset) + real.offsetOf('_EPROCESS', 'UniqueProcessId');
    const e1 = await derive(patched(path, 'pid0.raw', [[pidPa, qword(0n)]]), truth).catch((x: unknown) => x);
    expect((e1 as Error).message).toMatch(/no System process: \d+ "System" name\(s\) found, none is a live EPROCESS/);
    const e2 = await derive(patched(path, 'blink.raw', [[pidPa + 16, qword(0xffff_8000_0000_1000n)]]), truth).catch((x: unknown) => x);
    expect((e2 as Error).message).toMatch(/none is a live EPROCESS .*(round-trip|does not translate)/);
  });

  it('a corrupt System CreateTime lowers the confidence and says which field is unconfirmed', async () => {
    const { path, truth } = images.get('22000')!;
    const clean = await derive(path, truth);
    const sys = truth.processes.find((p) => p.pid === 4)!;
    const real = new Profile(await loadIsfProfile(isfDir!, truth.build));
    const ctPa = Number(sys.physicalOffset) + real.offsetOf('_EPROCESS', 'CreateTime');
    const bad = patched(path, 'ct.raw', [[ctPa, qword(0xdead_beef_dead_beefn)]]);
    const r = await derive(bad, truth);
    expect(r.confidence).toBeLessThan(clean.confidence);
    expect(r.evidence['_EPROCESS.CreateTime']).toMatch(/UNCONFIRMED/);
    const source = open(bad);
    const provider = heuristicProfileProvider(source, { minConfidence: 0.95 });
    const e = await provider({ pdb: truth.pdb, kernelBase: BigInt(truth.kernelBase), readKernel: kernelReadOf(new X64AddressSpace(source, BigInt(truth.dtb))) }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/confidence 0\.\d+ is below 0\.95; unconfirmed: .*_EPROCESS\.CreateTime/);
  });
});

/** A 19041 profile with every _EPROCESS field from 0x100 on moved 0x40 later: a layout no known build has. */
function shifted(p: ProfileData): ProfileData {
  const e = p.types._EPROCESS!;
  const fields: Record<string, FieldDef> = {};
  for (const [k, f] of Object.entries(e.fields)) fields[k] = f.offset >= 0x100 ? { ...f, offset: f.offset + 0x40 } : f;
  const ep: StructDef = { ...e, size: e.size + 0x40, fields };
  return { ...p, pdb: { ...p.pdb, guid: 'F'.repeat(32) }, types: { ...p.types, _EPROCESS: ep } };
}

describe.skipIf(!isfDir)('heuristic profile on an unseen _EPROCESS layout', () => {
  it('finds every offset from memory alone (none is in the prior table)', async () => {
    const real = shifted(await loadIsfProfile(isfDir!, '19041'));
    const prof = new Profile(real);
    const { mem, truth } = buildImage(prof, 19041, '10.0.19041.999', { sizeMiB: 64, processes: 4, seed: 11, lowStub: true });
    const path = join(dir, 'shifted.raw');
    writeImage(path, 'raw', memoryFromPages(mem.runs, (pa) => mem.storedPage(pa / PAGE_SIZE)));
    const r = await derive(path, truth);
    for (const f of DERIVED) expect([f, r.profile.types._EPROCESS!.fields[f]!.offset]).toEqual([f, prof.offsetOf('_EPROCESS', f)]);
    expect(r.family).toBeNull();
    expect(r.evidence['_EPROCESS.UniqueProcessId']).toMatch(/0x480/);
    expect(r.evidence['_EPROCESS.Peb']).toMatch(/unseen/);
    // no exited process on the list: the unlinked exited ones found by the 'Proc' pool scan confirm ExitTime
    expect(r.evidence['_EPROCESS.ExitTime']).toMatch(/FILETIME ≥ CreateTime on [1-9]\d* exited/);
    expect(r.confidence).toBeLessThan(0.95); // unseen offsets are never scored like known ones
    expect(r.confidence).toBeGreaterThan(0.8);
    const { rows } = await collectPslist(kernelWith(path, { ...truth, format: 'raw' }, new Profile(r.profile)));
    expect(rows.map((x) => [x.pid, x.name, x.ppid, x.threads])).toEqual(
      truth.processes.filter((p) => p.foundBy.pslist).map((p) => [p.pid, p.name, p.ppid, p.threads]));
  }, 60_000);
});
