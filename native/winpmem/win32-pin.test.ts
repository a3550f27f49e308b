/** pinReaderThread: SetThreadAffinityMask(GetCurrentThread(), 1 << cpu), a zero answer mapped to one line. */
import { describe, expect, it } from 'vitest';
import { type Kernel32, pinReaderThread } from './win32-device.js';

function fake(previous: bigint): { api: Kernel32; calls: [unknown, bigint][] } {
  const calls: [unknown, bigint][] = [];
  const api = {
    GetCurrentThread: () => -2, // the pseudo-handle
    SetThreadAffinityMask: (h: unknown, mask: bigint) => { calls.push([h, mask]); return previous; },
    GetLastError: () => 87,
  } as unknown as Kernel32;
  return { api, calls };
}

describe('pinReaderThread', () => {
  it('pins the calling thread to the given CPU and returns the previous mask', () => {
    const { api, calls } = fake(0xffn);
    expect(pinReaderThread(0, api)).toBe(0xffn);
    expect(pinReaderThread(3, api)).toBe(0xffn);
    expect(calls).toEqual([[-2, 1n], [-2, 8n]]);
  });

  it('a refusal is one line with the Windows reason', () => {
    expect(() => pinReaderThread(0, fake(0n).api)).toThrow(/reader thread: the driver rejected the request .*SetThreadAffinityMask, Windows error 87/);
  });
});
