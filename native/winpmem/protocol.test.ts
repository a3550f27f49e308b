import { describe, expect, it } from 'vitest';
import {
  ctlCode, decodeInfo, encodeInfo, encodeMode, INFO_BUFFER_SIZE, INFO_HEADER_SIZE, INFO_OFFSETS, MAX_RUNS, PMEM_IOCTLS, PMEM_IOCTLS_LEGACY,
  type PmemInfo,
} from './protocol.js';

const baseInfo = (runs: PmemInfo['runs']): PmemInfo => ({
  cr3: 0x1ad002n,
  ntBuildNumber: 0xf0004a61n,
  kernBase: 0xfffff80312400000n,
  kdbg: 0n,
  kpcr: [0xfffff8031a5c1000n, 0xffffa00100e26000n],
  pfnDataBase: 0n,
  psLoadedModuleList: 0xfffff80312e2a1d0n,
  psActiveProcessHead: 0xfffff80312e1e0c0n,
  ntBuildNumberAddr: 0xfffff80312e0f3a8n,
  runs,
});

const RUNS = [{ start: 0x1000, length: 0x9e000 }, { start: 0x100000, length: 0x3ff00000 }, { start: 0x100000000, length: 0x40000000 }];

describe('IOCTL codes', () => {
  it('match CTL_CODE(0x22, fn, method, 3) as WinPmem defines them', () => {
    // ctl_codes.h / go-winpmem api.go: CTL_CODE(0x22, 0x101..0x103, 3, 3)
    expect(PMEM_IOCTLS).toEqual({ setMode: 0x22c407, writeEnable: 0x22c40b, getInfo: 0x22c40f });
    // kernel/winpmem.h v1.7: METHOD_BUFFERED
    expect(PMEM_IOCTLS_LEGACY).toEqual({ setMode: 0x22c404, writeEnable: 0x22c408, getInfo: 0x22c40c });
    // winioctl.h example: IOCTL_DISK_GET_DRIVE_GEOMETRY = CTL_CODE(7, 0, 0, 0) = 0x70000
    expect(ctlCode(7, 0, 0, 0)).toBe(0x70000);
    expect(() => ctlCode(0x22, 0x1000, 0, 0)).toThrow(/function 4096 out of range/);
  });

  it('encodes the mode as a little-endian u32', () => {
    expect([...encodeMode('physical')]).toEqual([1, 0, 0, 0]);
    expect([...encodeMode('pte')]).toEqual([2, 0, 0, 0]);
    expect([...encodeMode('iospace')]).toEqual([0, 0, 0, 0]);
  });
});

describe('GET_INFO struct', () => {
  it('has the WinPmem layout: NumberOfRuns at 0xa30 after Padding[0xfe]; the buffer holds HEAD\'s Run[300] (7416 bytes) and 2.0.1\'s Run[20] (2936)', () => {
    expect(INFO_OFFSETS.PfnDataBase).toBe(0x20 + 64 * 8);
    expect(INFO_OFFSETS.NumberOfRuns).toBe(INFO_OFFSETS.Padding + 0xfe * 8);
    expect(INFO_HEADER_SIZE).toBe(2616);
    expect(INFO_HEADER_SIZE + 20 * 16).toBe(2936);
    expect(INFO_HEADER_SIZE + MAX_RUNS * 16).toBe(7416);
    expect(INFO_BUFFER_SIZE).toBe(64 * 1024);
  });

  it('encodes fields at their offsets and round-trips', () => {
    const info = baseInfo(RUNS);
    const b = encodeInfo(info, 20);
    expect(b.length).toBe(2616 + 20 * 16);
    const v = new DataView(b.buffer);
    expect(v.getBigUint64(0, true)).toBe(0x1ad002n);
    expect(v.getBigUint64(8, true)).toBe(0xf0004a61n);
    expect(v.getBigUint64(0x10, true)).toBe(0xfffff80312400000n);
    expect(v.getBigUint64(0x28, true)).toBe(0xffffa00100e26000n); // KPCR[1]
    expect(v.getBigUint64(0x230, true)).toBe(0xfffff80312e1e0c0n);
    expect(v.getBigUint64(0xa30, true)).toBe(3n);
    expect(v.getBigUint64(0xa38 + 2 * 16, true)).toBe(0x100000000n);
    expect(v.getBigUint64(0xa38 + 2 * 16 + 8, true)).toBe(0x40000000n);
    const back = decodeInfo(b);
    expect(back.runs).toEqual(RUNS);
    expect(back.cr3).toBe(info.cr3);
    expect(back.kpcr.slice(0, 2)).toEqual(info.kpcr);
    expect(back.kpcr.length).toBe(64);
    expect(back.ntBuildNumberAddr).toBe(info.ntBuildNumberAddr);
    // a v1.7-style reply cut right after the last run is enough
    expect(decodeInfo(b.subarray(0, 2616 + 3 * 16)).runs).toEqual(RUNS);
  });

  const withRuns = (n: bigint, runs: [bigint, bigint][] = []): Uint8Array => {
    const b = new Uint8Array(INFO_BUFFER_SIZE);
    const v = new DataView(b.buffer);
    v.setBigInt64(INFO_OFFSETS.NumberOfRuns, n, true);
    runs.forEach(([s, l], i) => {
      v.setBigInt64(INFO_OFFSETS.Run + i * 16, s, true);
      v.setBigInt64(INFO_OFFSETS.Run + i * 16 + 8, l, true);
    });
    return b;
  };

  it('rejects malformed replies with one line naming the field', () => {
    expect(() => decodeInfo(withRuns(5000n))).toThrow(/GET_INFO reply: NumberOfRuns 5000 exceeds the 300 runs/);
    expect(() => decodeInfo(withRuns(-1n))).toThrow(/NumberOfRuns -1/);
    expect(() => decodeInfo(new Uint8Array(100))).toThrow(/truncated: 100 bytes, the header alone .* is 2616/);
    expect(() => decodeInfo(withRuns(3n, [[0x1000n, 0x1000n], [0x2000n, 0x1000n], [0x3000n, 0x1000n]]).subarray(0, 2616 + 20))).toThrow(/truncated: NumberOfRuns 3 needs 2664 bytes, got 2636/);
    expect(() => decodeInfo(withRuns(2n, [[0x1000n, 0x1000n], [0x5000n, 0n]]))).toThrow(/Run\[1\]\.length is zero \(run at 0x5000\)/);
    expect(() => decodeInfo(withRuns(2n, [[0x1000n, 0x4000n], [0x3000n, 0x1000n]]))).toThrow(/Run\[1\]\.start 0x3000 is below the end of Run\[0\] \(0x5000\): runs overlap or are unsorted/);
    expect(() => decodeInfo(withRuns(2n, [[0x9000n, 0x1000n], [0x1000n, 0x1000n]]))).toThrow(/Run\[1\]\.start 0x1000 .* unsorted/);
    expect(() => decodeInfo(withRuns(1n, [[-4096n, 0x1000n]]))).toThrow(/Run\[0\]\.start 0xfffffffffffff000 is not a physical address/);
    expect(() => decodeInfo(withRuns(1n, [[0xfffffffff000n, 1n << 52n]]))).toThrow(/Run\[0\] .* ends above 2\^52/);
    expect(() => decodeInfo(withRuns(1n, [[0n, -1n]]))).toThrow(/Run\[0\]\.length 0xffffffffffffffff is negative/);
    // and a well-formed one passes
    expect(decodeInfo(withRuns(1n, [[0x1000n, 0x2000n]])).runs).toEqual([{ start: 0x1000, length: 0x2000 }]);
  });

  it('refuses to encode what the driver could not send', () => {
    expect(() => encodeInfo(baseInfo(Array.from({ length: MAX_RUNS + 1 }, (_, i) => ({ start: i * 0x2000, length: 0x1000 }))))).toThrow(/NumberOfRuns 301/);
    expect(() => encodeInfo(baseInfo(RUNS), 2)).toThrow(/capacity 2/);
  });
});
