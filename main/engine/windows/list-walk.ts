/**
 * Loop-safe walk of a kernel doubly linked list (LIST_ENTRY). The walk ends at the head, at an
 * entry already visited (a cycle: a corrupt or hostile Flink), at an unreadable or non-canonical
 * Flink, or after `maxEntries`; each abnormal end is a warning, never an exception or a spin.
 */
import type { VirtualMemory } from '../translate/types.js';
import { hex } from '../util/hex.js';

export interface ListWalkResult {
  /** Addresses of the LIST_ENTRY of each member, in list order (head excluded). */
  readonly entries: bigint[];
  readonly warnings: string[];
}

/** Canonical kernel-half address (bits 47..63 all set), 8-byte aligned as every LIST_ENTRY is. */
export function isKernelPointer(va: bigint): boolean {
  return va >= 0xffff_8000_0000_0000n && va <= 0xffff_ffff_ffff_ffffn && (va & 7n) === 0n;
}

/**
 * `member` names the LIST_ENTRY field in warnings (e.g. `_EPROCESS.ActiveProcessLinks`). An entry whose
 * Blink does not lead back to the entry the walk came from is a warning and the walk goes on: live
 * memory changed between two reads (a process exited mid-walk), or a Flink was patched alone.
 */
export function* walkList(vm: VirtualMemory, head: bigint, what: string, maxEntries = 65536, member = 'LIST_ENTRY'): Generator<bigint, ListWalkResult['warnings'], undefined> {
  const warnings: string[] = [];
  const visited = new Set<bigint>([head]);
  let cur = head;
  for (let n = 0; ; n++) {
    if (n >= maxEntries) {
      warnings.push(`${what}: stopped after ${maxEntries} entries (list too long or corrupt)`);
      break;
    }
    const r = vm.read(cur, 8);
    if (r.missing.length) {
      warnings.push(`${what}: Flink at ${hex(cur)} is not readable (${r.missing[0]!.reason}); walk ended`);
      break;
    }
    const flink = new DataView(r.data.buffer, r.data.byteOffset, 8).getBigUint64(0, true);
    if (flink === head) break;
    if (!isKernelPointer(flink)) {
      warnings.push(`${what}: Flink at ${hex(cur)} is ${hex(flink)}, not a kernel address; walk ended`);
      break;
    }
    if (visited.has(flink)) {
      warnings.push(`${what}: Flink at ${hex(cur)} points back to ${hex(flink)} (a cycle that skips the head); walk ended`);
      break;
    }
    visited.add(flink);
    const back = vm.read(flink + 8n, 8);
    const blink = back.missing.length ? null : new DataView(back.data.buffer, back.data.byteOffset, 8).getBigUint64(0, true);
    if (blink !== null && blink !== cur) {
      warnings.push(`${what}: ${member} at ${hex(flink)} no longer points back to ${hex(cur)} (its Blink is ${hex(blink)}): the list changed during the walk`);
    }
    yield flink;
    cur = flink;
  }
  return warnings;
}

/** Collect a whole list walk (entries + warnings). */
export function collectList(vm: VirtualMemory, head: bigint, what: string, maxEntries?: number, member?: string): ListWalkResult {
  const it = walkList(vm, head, what, maxEntries, member);
  const entries: bigint[] = [];
  for (;;) {
    const n = it.next();
    if (n.done) return { entries, warnings: n.value };
    entries.push(n.value);
  }
}
