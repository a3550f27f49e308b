/**
 * Accepting a DTB candidate: the kernel base must translate to an MZ/PE kernel image through it
 * (kernel-base.ts checkKernelPe), and PsActiveProcessHead must translate to a LIST_ENTRY that is
 * consistent: Flink->Blink == head and Blink->Flink == head (a circular doubly linked list, as
 * every Windows list head is). Every step is a bounded number of reads: a looping or out-of-source
 * table yields a reason, never a hang.
 */
import type { PhysicalSource } from '../../../sources/physical-source.js';
import { hex } from '../../../util/hex.js';
import { inspectPml4, readVa } from '../page-walk.js';

function u64(b: Uint8Array | null, off = 0): bigint | null {
  if (!b) return null;
  return new DataView(b.buffer, b.byteOffset, b.length).getBigUint64(off, true);
}

/** Structural check of the PML4 page a candidate names (self-reference, sane kernel half). */
export function checkPml4(source: PhysicalSource, pml4: number): { ok: true; detail: string } | { ok: false; reason: string } {
  const look = inspectPml4(source, pml4);
  if (look.reason !== null) return { ok: false, reason: `PML4 ${hex(pml4)}: ${look.reason}` };
  return { ok: true, detail: `PML4 ${hex(pml4)} self-references at 0x${look.selfRefIndex!.toString(16)}, ${look.kernelEntries} kernel-half entries` };
}

/** PsActiveProcessHead (or any LIST_ENTRY head) is a consistent circular list node. */
export function checkListHead(source: PhysicalSource, pml4: number, head: bigint, name = 'PsActiveProcessHead'): { ok: true; detail: string } | { ok: false; reason: string } {
  const node = readVa(source, pml4, head, 16);
  if (!node) return { ok: false, reason: `${name} ${hex(head)} does not translate` };
  const flink = u64(node, 0)!;
  const blink = u64(node, 8)!;
  if (flink === head && blink === head) return { ok: true, detail: `${name} ${hex(head)} is an empty list` };
  const back = u64(readVa(source, pml4, flink + 8n, 8));
  if (back === null) return { ok: false, reason: `${name}.Flink ${hex(flink)} does not translate` };
  if (back !== head) return { ok: false, reason: `${name}.Flink->Blink is ${hex(back)}, not the head ${hex(head)}` };
  const fwd = u64(readVa(source, pml4, blink, 8));
  if (fwd === null) return { ok: false, reason: `${name}.Blink ${hex(blink)} does not translate` };
  if (fwd !== head) return { ok: false, reason: `${name}.Blink->Flink is ${hex(fwd)}, not the head ${hex(head)}` };
  return { ok: true, detail: `${name} ${hex(head)}: Flink ${hex(flink)} and Blink ${hex(blink)} point back` };
}
