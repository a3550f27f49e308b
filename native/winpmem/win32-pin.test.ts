/**
 * pinReaderThread: SetThreadAffinityMask(GetCurrentThread(), 1 << cpu), a zero answer mapped to one
 * line. raiseReaderThreadPriority: SetThreadPriority(GetCurrentThread(), ABOVE_NORMAL), a refusal
 * reported as false (it costs speed only).
 */
import { describe, expect, it } from 'vitest';
import { type Kernel32, pinReaderThread, raiseReaderThreadPriority, THREAD_PRIORITY_ABOVE_NORMAL } from './win32-device.js';

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

  it('raises the calling thread one step above normal; a refusal or a missing binding is false, never a throw', () => {
    const calls: [unknown, number][] = [];
    const api = (answer: number) => ({
      GetCurrentThread: () => -2,
      SetThreadPriority: (h: unknown, p: number) => { calls.push([h, p]); return answer; },
      GetLastError: () => 5,
    }) as unknown as Kernel32;
    expect(raiseReaderThreadPriority(api(1))).toBe(true);
    expect(raiseReaderThreadPriority(api(0))).toBe(false);
    expect(calls).toEqual([[-2, THREAD_PRIORITY_ABOVE_NORMAL], [-2, 1]]);
    expect(raiseReaderThreadPriority({ GetLastError: () => 0 } as unknown as Kernel32)).toBe(false);
  });
});
