/**
 * The two WinPmem drivers the live path must work with (/work/shared/WINPMEM-NOTES.md): the signed
 * 2.0.1 (default of the simulator) and HEAD 4.x. Each test pins one fact of the real driver and
 * what WinPmemSource does with it: PTE mode first with a PHYSICAL fallback (never IOSPACE), a mode
 * a HEAD driver already holds, 16-bit NtBuildNumber, the 20/300-run capacities behind a 64 KiB
 * buffer, PA 0 on HEAD, 2.0.1 PHYSICAL's invisible zero-fill, and WRITE_ENABLE refused.
 */
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../main/engine/sources/memory-source.js';
import { WinPmemSource } from './device.js';
import { INFO_BUFFER_SIZE, INFO_OFFSETS, PMEM_IOCTLS, PMEM_MODES } from './protocol.js';
import { SimulatedPmemDevice, type SimulatedPmemOptions } from './simulated-device.js';

const MiB = 1024 * 1024;

/** 4 MiB of memory whose every page starts with its own address (so zeros stand out). */
function machine(runs = [{ start: 0, length: 4 * MiB }]): MemorySource {
  const m = new MemorySource({ runs, hints: { dtb: 0x1aa002n, kernelBase: 0xfffff80312000000n, buildNumber: 22621 } });
  for (const r of runs) {
    for (let pa = r.start; pa < r.start + r.length; pa += 4096) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(pa) | 0x5a00000000000000n, true);
      m.write(pa, b);
    }
  }
  return m;
}

const dev = (opts: SimulatedPmemOptions = {}, src = machine()) => new SimulatedPmemDevice(src, opts);
const modeSent = (d: SimulatedPmemDevice) => d.calls.filter((c) => c.code === PMEM_IOCTLS.setMode).map((c) => new DataView(c.input.buffer).getUint32(0, true));

describe('acquisition mode', () => {
  it('asks for PTE first and reads in it (2.0.1 starts in PHYSICAL, HEAD in IOSPACE: neither is kept)', () => {
    for (const driver of ['v2.0.1', 'head'] as const) {
      const d = dev({ driver });
      const src = WinPmemSource.open(d);
      expect(modeSent(d)).toEqual([PMEM_MODES.pte]);
      expect(d.mode).toBe(PMEM_MODES.pte);
      expect(src.mode).toBe('pte');
      expect(src.notes).toEqual([]);
      src.close();
    }
  });

  it('falls back to PHYSICAL when PTE is refused (HEAD under LA57), and says so; not when memory integrity forbids it', () => {
    const d = dev({ driver: 'head', la57: true });
    const src = WinPmemSource.open(d);
    expect(modeSent(d)).toEqual([PMEM_MODES.pte, PMEM_MODES.physical]);
    expect(src.mode).toBe('physical');
    expect(src.notes[0]).toMatch(/pte mode refused .*not supported.*using physical mode/);
    src.close();
    const strict = dev({ driver: 'head', la57: true });
    expect(() => WinPmemSource.open(strict, { physicalFallback: false })).toThrow(/refused acquisition mode "pte" \(physical fallback disabled: memory integrity \/ VBS is on\)/);
    expect(modeSent(strict)).toEqual([PMEM_MODES.pte]);
  });

  it('never asks for IOSPACE', () => {
    const d = dev();
    expect(() => WinPmemSource.open(d, { mode: 'iospace' as 'pte' })).toThrow(/"iospace" is not used.*bugchecks/);
    expect(modeSent(d)).toEqual([]);
  });

  it('reads on in the mode an already-loaded HEAD driver holds (SET_MODE access denied is not "run as administrator")', () => {
    const d = dev({ driver: 'head', presetMode: PMEM_MODES.pte });
    const src = WinPmemSource.open(d);
    expect(src.mode).toBeNull();
    expect(src.notes.join('\n')).toMatch(/kept the acquisition mode it already had .* set once per load/);
    expect(src.notes.join('\n')).not.toMatch(/administrator/);
    expect(src.read(0x1000, 8).data[7]).toBe(0x5a);
    src.close();
    // a second opener of the same loaded driver: the first set PTE, the second is refused and reads on
    const first = dev({ driver: 'head' });
    WinPmemSource.open(first).close();
    const second = dev({ driver: 'head', presetMode: first.mode });
    expect(WinPmemSource.open(second).mode).toBeNull();
  });

  it('2.0.1 lets any handle re-set the mode at any time', () => {
    const d = dev();
    d.ioctl(PMEM_IOCTLS.setMode, Uint8Array.of(2, 0, 0, 0), 0);
    d.ioctl(PMEM_IOCTLS.setMode, Uint8Array.of(1, 0, 0, 0), 0);
    expect(d.mode).toBe(PMEM_MODES.physical);
    const head = dev({ driver: 'head' });
    head.ioctl(PMEM_IOCTLS.setMode, Uint8Array.of(2, 0, 0, 0), 0);
    expect(() => head.ioctl(PMEM_IOCTLS.setMode, Uint8Array.of(1, 0, 0, 0), 0)).toThrow(expect.objectContaining({ win32Error: 5 }));
  });
});

describe('GET_INFO', () => {
  it('carries NtBuildNumber as its low 16 bits only', () => {
    const d = dev();
    const reply = d.ioctl(PMEM_IOCTLS.getInfo, new Uint8Array(0), INFO_BUFFER_SIZE);
    expect(new DataView(reply.buffer, reply.byteOffset).getBigUint64(INFO_OFFSETS.NtBuildNumber, true)).toBe(22621n);
    expect(reply.length).toBe(2936); // 2.0.1: sizeof with Run[20]
    const src = WinPmemSource.open(dev());
    expect(src.hints.buildNumber).toBe(22621);
    src.close();
  });

  it('2.0.1 holds 20 runs: 21 is one clear line naming the cause; HEAD holds 300 and MemScope takes them all', () => {
    const runs = Array.from({ length: 21 }, (_, i) => ({ start: i * 0x20000, length: 0x10000 }));
    expect(() => WinPmemSource.open(dev({ runs }))).toThrow(/GET_INFO failed: 21 memory runs, the struct holds 20 — this machine has more physical memory runs than the driver can report/);
    const many = Array.from({ length: 300 }, (_, i) => ({ start: i * 0x4000, length: 0x2000 }));
    const d = dev({ driver: 'head', runs: many }, machine(many));
    const src = WinPmemSource.open(d);
    expect(src.runs()).toHaveLength(300);
    expect(d.calls.find((c) => c.code === PMEM_IOCTLS.getInfo)!.outLength).toBe(64 * 1024);
    src.close();
  });
});

describe('reads', () => {
  it('HEAD fails a read starting at PA 0: page 0 is absent with the reason, the rest is read', () => {
    const src = WinPmemSource.open(dev({ driver: 'head' }));
    const r = src.read(0, 0x3000);
    expect(r.absent).toEqual([expect.objectContaining({ start: 0, length: 0x1000, reason: expect.stringMatching(/physical address 0/) })]);
    expect(r.data[0x1007]).toBe(0x5a);
    expect(src.readFailures().pages).toBe(1);
    src.close();
  });

  it('PTE mode: an unmappable page fails, is retried page by page and counted; 2.0.1 PHYSICAL zero-fills it invisibly (and says so)', () => {
    const bad = 0x203000;
    const pte = WinPmemSource.open(dev({ unreadablePages: [bad] }));
    const r = pte.read(0x200000, 0x10000);
    expect(r.absent).toEqual([expect.objectContaining({ start: bad, length: 0x1000, reason: expect.stringMatching(/cannot map physical page 0x203000/) })]);
    expect(r.data[0x2007]).toBe(0x5a);
    pte.read(0x200000, 0x10000);
    expect(pte.readFailures()).toEqual({ pages: 1, samples: [expect.objectContaining({ start: bad, length: 0x1000 })] });
    pte.close();

    const phys = WinPmemSource.open(dev({ unreadablePages: [bad] }), { mode: 'physical' });
    const z = phys.read(0x200000, 0x10000);
    expect(z.absent).toEqual([]); // the driver reported success
    expect(z.data.subarray(0x3000, 0x4000).every((b) => b === 0)).toBe(true);
    expect(z.data[0x4007]).toBe(0x5a);
    expect(phys.readFailures().pages).toBe(0);
    expect(phys.notes.join('\n')).toMatch(/returns zeros for pages it cannot map, so unreadable pages cannot be counted/);
    phys.close();
  });

  it('pages the image has no data for are unmappable, like device memory on a real machine', () => {
    const runs = [{ start: 0, length: 0x100000 }, { start: 0x200000, length: 0x100000 }];
    // the driver reports one run over both: the gap has no data behind it
    const src = WinPmemSource.open(dev({ runs: [{ start: 0, length: 0x300000 }] }, machine(runs)));
    const r = src.read(0xff000, 0x2000);
    expect(r.absent).toEqual([expect.objectContaining({ start: 0x100000, length: 0x1000 })]);
    src.close();
  });

  it('refuses WRITE_ENABLE as the signed driver does, and WinPmemSource never sends it', () => {
    const d = dev();
    expect(() => d.ioctl(PMEM_IOCTLS.writeEnable, new Uint8Array(0), 0)).toThrow(expect.objectContaining({ win32Error: 87 }));
    const d2 = dev();
    const src = WinPmemSource.open(d2);
    src.read(0, 4 * MiB);
    src.close();
    expect(d2.writeEnableCount).toBe(0);
  });

  it('a device that disappears mid-read costs the pages it no longer serves, named and counted, never an exception', () => {
    const d = dev();
    const src = WinPmemSource.open(d);
    expect(src.read(0, 0x2000).absent).toEqual([]);
    d.close(); // the driver went away (unloaded, handle invalidated)
    const r = src.read(0x10000, 0x3000);
    expect(r.absent).toEqual([expect.objectContaining({ start: 0x10000, length: 0x3000, reason: expect.stringMatching(/handle closed/) })]);
    expect(r.data.every((b) => b === 0)).toBe(true);
    expect(src.readFailures().pages).toBe(3);
    src.close();
  });
});
