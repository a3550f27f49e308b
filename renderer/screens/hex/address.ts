/**
 * Addresses in the hex view: rows of 16 bytes over the whole space (2^48 of x64 virtual memory,
 * canonical halves joined: row 2^43 is 0xffff800000000000; or the image's physical size), the WinDbg
 * forms a responder types or pastes, and why a pointer cannot be followed.
 */
import type { SpaceRef } from '../../../common/contract.js';

export const BYTES_PER_ROW = 16;
/** 2^48 bytes of virtual memory / 16 bytes a row: 2^44 rows, exact as a JS number. */
export const VIRTUAL_ROWS = 2 ** 44;
const HALF_ROWS = 2 ** 43;
const HIGH_BASE = 0xffff_0000_0000_0000n;
const HIGH_START = 0xffff_8000_0000_0000n;
const LOW_END = 1n << 47n;

export const isVirtual = (s: SpaceRef): boolean => s.kind !== 'physical';

export function rowCount(space: SpaceRef, physicalSize: number): number {
  return isVirtual(space) ? VIRTUAL_ROWS : Math.ceil(physicalSize / BYTES_PER_ROW);
}

export function rowToAddress(space: SpaceRef, row: number): bigint {
  const a = BigInt(row) * 16n;
  return isVirtual(space) && row >= HALF_ROWS ? HIGH_BASE + a : a;
}

export function addressToRow(space: SpaceRef, address: bigint): number {
  if (isVirtual(space) && address >= HIGH_START) return Number((address - HIGH_BASE) / 16n);
  return Number(address / 16n);
}

export const isCanonical = (a: bigint): boolean => (a >= 0n && a < LOW_END) || (a >= HIGH_START && a < 1n << 64n);

export const toHex = (a: bigint): string => `0x${a.toString(16)}`;

/** The offset column: 16 digits, WinDbg's backtick between the halves for virtual addresses. */
export function formatRowAddress(a: bigint, virtual: boolean): string {
  const s = a.toString(16).padStart(virtual ? 16 : 12, '0');
  return virtual ? `${s.slice(0, 8)}\`${s.slice(8)}` : s;
}

export type GoTo =
  | { readonly kind: 'address'; readonly address: bigint }
  | { readonly kind: 'symbol'; readonly name: string }
  | { readonly kind: 'pid'; readonly pid: number }
  | { readonly kind: 'error'; readonly message: string };

/**
 * What a Go to text means: `0xfffff8020a600000`, WinDbg's `fffff802`0a600000`, bare hex of 8+ digits
 * (an address); `pid 4812` / `#4812` / a short decimal (a process); `PsActiveProcessHead` or
 * `nt!PsActiveProcessHead` (a kernel symbol).
 */
export function parseGoTo(text: string): GoTo {
  const t = text.trim();
  if (!t) return { kind: 'error', message: 'Type an address (0x… or fffff802`0a600000), a symbol (nt!PsActiveProcessHead) or a PID (pid 4).' };
  const pid = /^(?:pid[:\s]*|#)(\d{1,8})$/i.exec(t) ?? /^(\d{1,6})$/.exec(t);
  if (pid) return { kind: 'pid', pid: Number(pid[1]) };
  if (t.startsWith('-')) return { kind: 'error', message: `${t} is negative: addresses start at 0` };
  const hexText = t.replace(/`/g, '');
  const isHex = /^0x[0-9a-f]+$/i.test(hexText) || (/^[0-9a-f]+$/i.test(hexText) && (hexText.length >= 8 || t.includes('`')));
  if (isHex) {
    const digits = hexText.replace(/^0x/i, '');
    if (digits.replace(/^0+/, '').length > 16) return { kind: 'error', message: `${t} is wider than 64 bits` };
    return { kind: 'address', address: BigInt(`0x${digits}`) };
  }
  if (/^([A-Za-z_][\w]*!)?[A-Za-z_?@$][\w?@$]*$/.test(t)) return { kind: 'symbol', name: t };
  return { kind: 'error', message: `"${t}" is not an address, a symbol or a PID` };
}

/** Why an address cannot be shown in a space, or null when it can. */
export function addressProblem(space: SpaceRef, a: bigint, physicalSize: number): string | null {
  if (a < 0n) return `${toHex(a)} is negative`;
  if (isVirtual(space)) {
    if (!isCanonical(a)) return `${toHex(a)} is non-canonical: x64 virtual addresses are below 0x800000000000 or from 0xffff800000000000 up`;
    return null;
  }
  if (a >= BigInt(physicalSize)) return `${toHex(a)} is past the end of the image (${toHex(BigInt(physicalSize))} bytes of physical memory)`;
  return null;
}

/** Why a pointer value cannot be followed, or null when it can be. */
export function pointerProblem(value: bigint): string | null {
  if (value === 0n) return 'it is null (0x0): it points nowhere';
  if (!isCanonical(value)) return `${toHex(value)} is non-canonical: no x64 address space maps it`;
  return null;
}
