/**
 * Small readers the derivation shares: little-endian integers from byte windows, kernel-pointer and
 * FILETIME plausibility, and a kernel-VA window read that keeps what is readable (an EPROCESS near
 * the end of a mapped page run is still useful up to the hole).
 */
import type { VirtualMemory } from '../../translate/types.js';

/** Reads `length` bytes of kernel VA; null when any of it is unreadable (discovery's readKernel). */
export type KernelRead = (va: bigint, length: number) => Uint8Array | null;

/** Adapt a VirtualMemory (e.g. an X64AddressSpace over System's DTB) to a KernelRead. */
export function kernelReadOf(vm: VirtualMemory): KernelRead {
  return (va, length) => {
    const r = vm.read(va, length);
    return r.missing.length ? null : r.data;
  };
}

export const u64 = (b: Uint8Array, off: number): bigint =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
export const u32 = (b: Uint8Array, off: number): number =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);

export function readU64(read: KernelRead, va: bigint): bigint | null {
  const b = read(va, 8);
  return b ? u64(b, 0) : null;
}

/** The one kernel-pointer rule (translate/x64/kernel-half.ts): what a LIST_ENTRY link or pool pointer is. */
export { isKernelPointer } from '../../translate/x64/kernel-half.js';

/** Highest user-mode address on x64 Windows (MmHighestUserAddress, 128 TiB − 64 KiB). */
export const USER_MAX = 0x7fff_ffff_0000n;

/** FILETIME (100 ns since 1601) of 2000-01-01 and 2100-01-01: a process creation time lies between. */
export const FT_2000 = 125_911_584_000_000_000n;
export const FT_2100 = 157_469_184_000_000_000n;
export const plausibleFiletime = (v: bigint): boolean => v >= FT_2000 && v < FT_2100;

/** Read up to `length` bytes at `va`, in 256-byte steps, stopping at the first unreadable step. */
export function readWindow(read: KernelRead, va: bigint, length: number): Uint8Array {
  const whole = read(va, length);
  if (whole) return whole;
  const out = new Uint8Array(length);
  let n = 0;
  while (n < length) {
    const step = Math.min(0x100, length - n);
    const b = read(va + BigInt(n), step);
    if (!b) break;
    out.set(b, n);
    n += step;
  }
  return out.subarray(0, n);
}

export function printableName(b: Uint8Array, off: number, max = 15): string | null {
  if (off + max > b.length) return null;
  let s = '';
  for (let i = 0; i < max; i++) {
    const c = b[off + i]!;
    if (c === 0) return s.length > 0 ? s : null;
    if (c < 0x20 || c > 0x7e) return null;
    s += String.fromCharCode(c);
  }
  return s; // 15 chars, no NUL: the kernel truncates long names this way
}
