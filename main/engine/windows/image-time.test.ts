/**
 * Image time on real sample images: the capture time read from KUSER_SHARED_DATA.SystemTime and the
 * boot time (KeBootTime, or SystemTime − InterruptTime without it) equal the builder's truth; a crash
 * dump whose header time disagrees, and a sidecar whose span does not bracket it, are warned about; a
 * torn _KSYSTEM_TIME and an unmapped KUSER_SHARED_DATA are said, never passed off as a time.
 */
import { copyFileSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Profile } from '../profile/profile.js';
import { buildSample, type GroundTruth } from '../sample/index.js';
import { openSession } from '../session/session.js';
import type { VirtualMemory } from '../translate/types.js';
import { KUSER_SHARED_DATA_VA, readImageTime } from './image-time.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-time-'));
let raw = '';
let dump = '';
let truth: GroundTruth;
let dumpTruth: GroundTruth;
beforeAll(async () => {
  raw = join(dir, 'a.raw');
  dump = join(dir, 'a.dmp');
  truth = await buildSample({ build: '19041', format: 'raw', out: raw, sizeMiB: 64, seed: 5, processes: 2 });
  dumpTruth = await buildSample({ build: '17763', format: 'crashdump', out: dump, sizeMiB: 64, seed: 6, processes: 2 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILETIME_UNIX_MS = 11_644_473_600_000n;
const filetime = (iso: string): bigint => (BigInt(Date.parse(iso)) + FILETIME_UNIX_MS) * 10_000n;

/** A copy of the crash dump whose header SystemTime (offset 0xfa8 of DUMP_HEADER64) is `ft`. */
function dumpWithHeaderTime(name: string, ft: bigint): string {
  const p = join(dir, name);
  copyFileSync(dump, p);
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(ft);
  const fd = openSync(p, 'r+');
  try { writeSync(fd, b, 0, 8, 0xfa8); } finally { closeSync(fd); }
  return p;
}

async function timeOf(path: string) {
  const s = await openSession(path);
  try { return { time: s.info.time, warnings: s.info.warnings, kernel: s.kernel }; } finally { await s.close(); }
}

describe('image time', () => {
  it('the sample writes KUSER_SHARED_DATA: capture and boot time equal the truth (KeBootTime rule)', async () => {
    expect(truth.captureTime).toBeDefined();
    const { time, warnings } = await timeOf(raw);
    expect(time).toEqual({
      captureTime: truth.captureTime, captureSource: 'KUSER_SHARED_DATA.SystemTime',
      bootTime: truth.bootTime, bootRule: 'KeBootTime', crossCheck: null,
    });
    expect(warnings.filter((w) => /time/i.test(w))).toEqual([]);
    // every process was created after boot and exited before capture
    for (const p of truth.processes) {
      expect(Date.parse(p.createTime)).toBeGreaterThanOrEqual(Date.parse(truth.bootTime!));
      if (p.exitTime) expect(Date.parse(p.exitTime)).toBeLessThanOrEqual(Date.parse(truth.captureTime!));
    }
  });

  it('without KeBootTime in the profile, boot = SystemTime − InterruptTime', async () => {
    const s = await openSession(raw);
    try {
      const { KeBootTime: _drop, ...symbols } = s.kernel.profile.data.symbols;
      const profile = new Profile({ ...s.kernel.profile.data, symbols });
      const t = readImageTime({ kernel: s.kernel.kernel, profile, kernelBase: s.kernel.kernelBase });
      expect(t.bootRule).toBe('SystemTime - InterruptTime');
      expect(t.bootTime).toBe(truth.bootTime);
      expect(t.captureTime).toBe(truth.captureTime);
    } finally {
      await s.close();
    }
  });

  it('a crash dump header time that agrees is recorded; one that disagrees is a warning naming both', async () => {
    const same = dumpWithHeaderTime('same.dmp', filetime(dumpTruth.captureTime!));
    let r = await timeOf(same);
    expect(r.time?.captureTime).toBe(dumpTruth.captureTime);
    expect(r.time?.crossCheck).toEqual({ source: 'crash dump header SystemTime', time: dumpTruth.captureTime, agrees: true });

    const off = new Date(Date.parse(dumpTruth.captureTime!) + 3_600_000).toISOString();
    r = await timeOf(dumpWithHeaderTime('off.dmp', filetime(off)));
    expect(r.time?.crossCheck).toEqual({ source: 'crash dump header SystemTime', time: off, agrees: false });
    expect(r.warnings.some((w) => w.includes(dumpTruth.captureTime!) && w.includes(off) && /disagrees/.test(w))).toBe(true);
  });

  it("an acquisition sidecar's span is checked against the capture time", async () => {
    const cap = Date.parse(truth.captureTime!);
    const copy = join(dir, 'side.raw');
    copyFileSync(raw, copy);
    writeFileSync(`${copy}.json`, JSON.stringify({ startTime: new Date(cap - 30_000).toISOString(), endTime: new Date(cap + 30_000).toISOString() }));
    let r = await timeOf(copy);
    expect(r.time?.crossCheck).toMatchObject({ source: 'acquisition sidecar', agrees: true });
    writeFileSync(`${copy}.json`, JSON.stringify({ startTime: new Date(cap + 86_400_000).toISOString(), endTime: null }));
    r = await timeOf(copy);
    expect(r.time?.crossCheck).toMatchObject({ source: 'acquisition sidecar', agrees: false });
    expect(r.warnings.some((w) => /outside the acquisition sidecar/.test(w))).toBe(true);
    writeFileSync(`${copy}.json`, '{not json');
    r = await timeOf(copy);
    expect(r.warnings.some((w) => w.startsWith('side.raw.json: not JSON'))).toBe(true);
  });

  it('a torn _KSYSTEM_TIME and an unreadable page are said, not passed off', async () => {
    const s = await openSession(raw);
    try {
      const real = s.kernel.kernel;
      const torn: VirtualMemory = {
        dtbRaw: real.dtbRaw, pml4: real.pml4, translate: (va) => real.translate(va),
        read: (va, len) => {
          const r = real.read(va, len);
          if (va === KUSER_SHARED_DATA_VA + 0x14n) { const d = r.data.slice(); d[8] = (d[8] ?? 0) ^ 1; return { data: d, missing: r.missing }; }
          return r;
        },
      };
      let t = readImageTime({ kernel: torn, profile: s.kernel.profile, kernelBase: s.kernel.kernelBase });
      expect(t.warnings.some((w) => /mid-update/.test(w))).toBe(true);
      const gone: VirtualMemory = {
        ...torn,
        read: (va, len) => (va >= KUSER_SHARED_DATA_VA && va < KUSER_SHARED_DATA_VA + 0x1000n
          ? { data: new Uint8Array(len), missing: [{ va, length: len, reason: 'not present' }] } : real.read(va, len)),
      };
      t = readImageTime({ kernel: gone, profile: s.kernel.profile, kernelBase: s.kernel.kernelBase });
      expect(t.captureTime).toBeNull();
      expect(t.bootRule).toBe('KeBootTime'); // boot time still known from the kernel's own variable
      expect(t.warnings[0]).toMatch(/capture time unknown: KUSER_SHARED_DATA/);
    } finally {
      await s.close();
    }
  });
});
