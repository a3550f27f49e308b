/**
 * WinPmemSource over the simulated device serving a sample image (64 MiB raw, build 19041, runs
 * with holes as the builder's truth records them): reads match openSource byte for byte inside the
 * runs, holes and injected bad pages are absent with reasons, malformed GET_INFO replies are clear
 * errors, and kernel discovery + pslist work end to end from the GET_INFO CR3 hint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileProviders } from '../../main/engine/session/profile-providers.js';
import { collectPslist } from '../../main/engine/plugins/pslist/index.js';
import { buildSample, type GroundTruth } from '../../main/engine/sample/index.js';
import { openSource } from '../../main/engine/sources/detect.js';
import type { PhysicalRun, PhysicalSource } from '../../main/engine/sources/physical-source.js';
import { hex } from '../../main/engine/util/hex.js';
import { discoverKernel } from '../../main/engine/windows/discovery/discover.js';
import { HOLE_REASON, type AbsentWithReason, type PmemDevice, WinPmemSource } from './device.js';
import { INFO_OFFSETS, PMEM_IOCTLS, PMEM_IOCTLS_LEGACY, RUN_SIZE } from './protocol.js';
import { SimulatedPmemDevice, type SimulatedPmemOptions } from './simulated-device.js';

let dir: string;
let image: string;
let truth: GroundTruth;
let truthRuns: PhysicalRun[];
let direct: PhysicalSource;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memscope-winpmem-'));
  image = join(dir, 'sample.raw');
  // No low stub: the only cheap way to the DTB is the CR3 the driver reports.
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, lowStub: false });
  truthRuns = truth.runs.map((r) => ({ start: Number(r.start), length: Number(r.length) }));
  direct = openSource(image);
}, 120_000);

afterAll(() => {
  direct?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The device a live machine would present: the truth's runs, CR3 and kernel base as the driver reports them. */
const device = (extra: SimulatedPmemOptions = {}): SimulatedPmemDevice =>
  SimulatedPmemDevice.open(image, { runs: truthRuns, cr3: BigInt(truth.dtb), kernBase: BigInt(truth.kernelBase), ntBuildNumber: BigInt(truth.buildNumber), ...extra });

/** Wrap a device to see every read it is asked for. */
function counting(dev: PmemDevice): { dev: PmemDevice; reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    reads,
    dev: { name: dev.name, ioctl: (c, i, o) => dev.ioctl(c, i, o), readAt: (pa, len) => { reads.push([pa, len]); return dev.readAt(pa, len); }, close: () => dev.close() },
  };
}

const inRuns = (pa: number): boolean => truthRuns.some((r) => pa >= r.start && pa < r.start + r.length);

/** Expected absent ranges for [a, a+len) given the truth's runs (holes only). */
function holes(a: number, len: number): { start: number; length: number }[] {
  const out: { start: number; length: number }[] = [];
  let cursor = a;
  const end = a + len;
  for (const r of truthRuns) {
    const s = Math.max(cursor, a);
    if (r.start > s && s < end) out.push({ start: s, length: Math.min(r.start, end) - s });
    cursor = Math.max(cursor, r.start + r.length);
  }
  if (cursor < end) out.push({ start: Math.max(cursor, a), length: end - Math.max(cursor, a) });
  return out.filter((h) => h.length > 0);
}

describe('WinPmemSource over the simulated device', () => {
  it('takes runs and hints from GET_INFO, after setting the mode, and never sends WRITE_ENABLE', () => {
    const dev = device({ psActiveProcessHead: BigInt(truth.symbols['PsActiveProcessHead']!), kpcr: [0xfffff8031a5c1000n, 0xffffa00100e26000n] });
    const src = WinPmemSource.open(dev, { mode: 'pte' });
    try {
      expect(src.kind).toBe('winpmem');
      expect(src.runs()).toEqual(truthRuns);
      expect(src.size).toBe(truthRuns.at(-1)!.start + truthRuns.at(-1)!.length);
      expect(src.hints).toEqual({
        dtb: BigInt(truth.dtb),
        kernelBase: BigInt(truth.kernelBase),
        psActiveProcessHead: BigInt(truth.symbols['PsActiveProcessHead']!),
        buildNumber: 19041,
        numberOfProcessors: 2,
      });
      expect(dev.mode).toBe(2);
      src.read(0, 0x400000);
      expect(dev.calls.map((c) => c.code)).toEqual([PMEM_IOCTLS.setMode, PMEM_IOCTLS.getInfo]);
      expect(dev.writeEnableCount).toBe(0);
    } finally {
      src.close();
    }
  });

  it('reads exactly what openSource reads inside the runs; holes are absent and zero', () => {
    const src = WinPmemSource.open(device());
    try {
      // every byte of the image, in 8 MiB pieces that straddle run boundaries
      const piece = 8 * 1024 * 1024 + 0x800;
      for (let a = 0; a < src.size; a += piece) {
        const len = Math.min(piece, src.size - a);
        const live = src.read(a, len);
        const want = direct.read(a, len);
        expect(live.absent.map(({ start, length }) => ({ start, length }))).toEqual(holes(a, len));
        for (const h of live.absent as AbsentWithReason[]) {
          expect(h.reason).toBe(HOLE_REASON);
          expect(live.data.subarray(h.start - a, h.start - a + h.length).every((b) => b === 0)).toBe(true);
        }
        // present bytes equal the image; zero the holes in the image's copy and compare whole buffers
        const expected = Uint8Array.from(want.data);
        for (const h of live.absent) expected.fill(0, h.start - a, h.start - a + h.length);
        expect(Buffer.compare(Buffer.from(live.data), Buffer.from(expected))).toBe(0);
      }
      // odd, unaligned reads across a hole and past the end
      for (const [a, len] of [[0x9e123, 0x70000], [0x1ffff00, 0x300000], [src.size - 10, 30], [0, 1]] as const) {
        const live = src.read(a, len);
        expect(live.absent.map(({ start, length }) => ({ start, length }))).toEqual(holes(a, len));
        for (let i = 0; i < len; i += 997) if (inRuns(a + i)) expect(live.data[i]).toBe(direct.read(a + i, 1).data[0]);
      }
      // readInto into a dirty, reused buffer zeroes the holes
      const buf = new Uint8Array(0x10000).fill(0xcc);
      const absent = src.readInto(0x90000, buf);
      expect(absent.map(({ start, length }) => ({ start, length }))).toEqual([{ start: 0x9f000, length: 0x1000 }]);
      expect(buf.subarray(0xf000).every((b) => b === 0)).toBe(true);
      expect(Buffer.compare(Buffer.from(buf.subarray(0, 0xf000)), Buffer.from(direct.read(0x90000, 0xf000).data))).toBe(0);
    } finally {
      src.close();
    }
  });

  it('reads in page-aligned chunks no bigger than the chunk size, never outside the runs', () => {
    const { dev, reads } = counting(device());
    const src = WinPmemSource.open(dev, { chunkSize: 0x40000 });
    try {
      src.read(0x80000, 0x300000);
      expect(reads.length).toBeGreaterThan(0);
      for (const [pa, len] of reads) {
        expect(len).toBeLessThanOrEqual(0x40000);
        expect(inRuns(pa) && inRuns(pa + len - 1)).toBe(true);
        // a read never crosses a chunk boundary
        expect(Math.floor(pa / 0x40000)).toBe(Math.floor((pa + len - 1) / 0x40000));
      }
    } finally {
      src.close();
    }
  });

  it('marks unreadable pages absent with the device error and reads the rest', () => {
    // pages that hold data in the image (so "absent" is not just the image's zeros): two adjacent, one far
    const nonZero = (pa: number) => direct.read(pa, 0x1000).data.some((b) => b !== 0);
    let p1 = 0x100000;
    while (!(nonZero(p1) && nonZero(p1 + 0x1000))) p1 += 0x1000;
    let p2 = 0x2200000;
    while (!nonZero(p2)) p2 += 0x1000;
    const dev = device({ unreadablePages: [p1, p1 + 0x1000, p2 + 0x800] });
    const src = WinPmemSource.open(dev);
    try {
      const a = 0x100000;
      const len = 0x3000000;
      const live = src.read(a, len) as { data: Uint8Array; absent: AbsentWithReason[] };
      const deviceFaults = live.absent.filter((r) => r.reason !== HOLE_REASON);
      expect(deviceFaults.map(({ start, length }) => ({ start, length }))).toEqual([
        { start: p1, length: 0x2000 }, // two adjacent bad pages, one range
        { start: p2, length: 0x1000 },
      ]);
      expect(deviceFaults[0]!.reason).toBe(`device read failed at ${hex(p1)}: cannot map physical page ${hex(p1)}`);
      expect(deviceFaults[1]!.reason).toBe(`device read failed at ${hex(p2)}: cannot map physical page ${hex(p2)}`);
      const expected = Uint8Array.from(direct.read(a, len).data);
      for (const h of live.absent) {
        expect(live.data.subarray(h.start - a, h.start - a + h.length).every((b) => b === 0)).toBe(true);
        expected.fill(0, h.start - a, h.start - a + h.length);
      }
      expect(Buffer.compare(Buffer.from(live.data), Buffer.from(expected))).toBe(0);
    } finally {
      src.close();
    }
  });

  it('turns malformed or refused GET_INFO replies into one clear error, and closes the device', () => {
    const setRuns = (n: bigint) => (r: Uint8Array) => {
      const c = Uint8Array.from(r);
      new DataView(c.buffer).setBigInt64(INFO_OFFSETS.NumberOfRuns, n, true);
      return c;
    };
    const setRunStart = (i: number, start: bigint) => (r: Uint8Array) => {
      const c = Uint8Array.from(r);
      new DataView(c.buffer).setBigInt64(INFO_OFFSETS.Run + i * RUN_SIZE, start, true);
      return c;
    };
    const cases: [SimulatedPmemOptions, RegExp][] = [
      [{ tamperInfo: setRuns(5000n) }, /GET_INFO reply: NumberOfRuns 5000 exceeds the 300 runs the reply layout holds/],
      [{ tamperInfo: (r) => r.subarray(0, 1000) }, /GET_INFO reply: truncated: 1000 bytes/],
      [{ tamperInfo: setRuns(0n) }, /no physical memory runs \(NumberOfRuns 0\)/],
      // a driver reply whose Run[1] starts inside Run[0] (0x1000+0x9e000): only WinPmemSource.open's own check can refuse it
      [{ tamperInfo: setRunStart(1, 0x2000n) }, /GET_INFO reply: Run\[1\]\.start 0x2000 is below the end of Run\[0\] \(0x9f000\): runs overlap or are unsorted/],
      [{ runCapacity: 2 }, /GET_INFO failed: 3 memory runs, the struct holds 2/],
      [{ ioctls: PMEM_IOCTLS_LEGACY }, /the driver refused acquisition mode "physical": invalid IOCTL 0x22c407/],
    ];
    expect(truthRuns.slice(0, 2)).toEqual([{ start: 0x1000, length: 0x9e000 }, { start: 0x100000, length: truthRuns[1]!.length }]);
    for (const [opts, re] of cases) {
      const dev = device(opts); // the simulated driver sends every reply as given: the source must judge it
      expect(() => WinPmemSource.open(dev)).toThrow(re);
      // the fault names the device that sent it (here the simulated one, not `\\.\pmem`)
      if (re.source.startsWith('GET_INFO reply')) expect(() => WinPmemSource.open(device(opts))).toThrow(`${dev.name} GET_INFO reply:`);
      expect(() => dev.readAt(0x1000, 16)).toThrow(/handle closed/);
    }
  });

  it('lets discovery find the truth kernel from the GET_INFO CR3 hint, and pslist list its processes', async () => {
    const src = WinPmemSource.open(device());
    try {
      const { kernel } = await discoverKernel(src, { store: profileProviders(), noScan: true });
      expect(kernel.dtbMethod).toBe('source-cr3');
      expect(kernel.dtb).toBe(BigInt(truth.pml4));
      expect(kernel.dtbRaw).toBe(BigInt(truth.dtb));
      expect(kernel.kernelBase).toBe(BigInt(truth.kernelBase));
      expect(kernel.buildNumber).toBe(19041);
      const { rows } = await collectPslist(kernel);
      const want = truth.processes.filter((p) => p.foundBy.pslist).map((p) => [p.pid, p.name, p.offset]).sort();
      expect(rows.map((r) => [r.pid, r.name, r.offset === null ? null : hex(r.offset)]).sort()).toEqual(want);
      expect(want.length).toBeGreaterThan(10);
    } finally {
      src.close();
    }
  });

  it('without the CR3 hint the fast path finds nothing (the hint is what did it)', async () => {
    const src = WinPmemSource.open(device({ cr3: 0n, kernBase: 0n }));
    try {
      expect(src.hints.dtb).toBeUndefined();
      await expect(discoverKernel(src, { store: profileProviders(), noScan: true })).rejects.toThrow();
    } finally {
      src.close();
    }
  });
});
