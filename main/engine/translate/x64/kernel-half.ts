/**
 * The kernel half of an x64 Windows address space, defined once: canonical addresses with bits
 * 47..63 set (Intel SDM vol. 3A 4.5.2 / 3.3.7.1), i.e. PML4 indices 0x100..0x1ff; and the one rule
 * for the PML4 self-reference entry Windows maps its page tables through (index 0x1ed before
 * Windows 10 1607, randomised within the kernel half since).
 */
import { X64_MMU } from './mmu.js';

/** Lowest kernel-half virtual address (PML4 index 0x100, sign-extended). */
export const KERNEL_HALF_BASE = 0xffff_8000_0000_0000n;

/** PML4 indices of the kernel half, first and last inclusive. */
export const KERNEL_HALF_PML4 = { first: 0x100, last: 0x1ff } as const;

/** A canonical kernel-half address, 8-byte aligned as every pointer to a kernel structure or LIST_ENTRY is. */
export function isKernelPointer(va: bigint): boolean {
  return va >= KERNEL_HALF_BASE && va <= 0xffff_ffff_ffff_ffffn && (va & 7n) === 0n;
}

const PRESENT = 1n << BigInt(X64_MMU.bits.present);
const WRITABLE = 1n << BigInt(X64_MMU.bits.writable);
const PAGE_SIZE = 1n << BigInt(X64_MMU.bits.pageSize);

/**
 * Is `entry`, read from the PML4 page at `tablePa`, the self-reference? Present and writable (the
 * kernel writes its page tables through it), PS clear (reserved in a PML4E: a set bit is no table
 * pointer), and its frame (bits 12..51) the PML4's own.
 */
export function isSelfReference(entry: bigint, tablePa: number): boolean {
  return (entry & (PRESENT | WRITABLE | PAGE_SIZE)) === (PRESENT | WRITABLE) && Number(entry & X64_MMU.physMask) === tablePa;
}

/** First kernel-half index of the PML4 `table` (at `tablePa`) that is its self-reference, or null. */
export function selfReferenceIndex(table: ArrayLike<bigint>, tablePa: number): number | null {
  for (let i = KERNEL_HALF_PML4.first; i <= KERNEL_HALF_PML4.last; i++) if (isSelfReference(table[i]!, tablePa)) return i;
  return null;
}
