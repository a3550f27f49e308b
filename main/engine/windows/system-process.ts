/**
 * Is the System process (PID 4) alive in this image, by ways that do not walk PsActiveProcessHead?
 * A running Windows kernel always has System: when the active list comes back empty while these say
 * System is there, the list (not the machine) is what is broken. Two cheap, independent witnesses:
 * the PsInitialSystemProcess global (a pointer to System's EPROCESS) and PspCidTable's handle 4
 * (the CID table entry of PID 4, pointing at the same EPROCESS body).
 */
import { hex } from '../util/hex.js';
import { eprocessInsanity, readEprocess } from './eprocess.js';
import { walkHandleTable } from './handle-table.js';
import type { WindowsKernel } from './kernel.js';
import { isKernelPointer } from './list-walk.js';

export const SYSTEM_PID = 4;

/** The EPROCESS VA of a live System process and which witnesses point at it; null when none does. */
export function findLiveSystem(kernel: WindowsKernel): { readonly va: bigint; readonly witnesses: readonly string[] } | null {
  const ctx = { profile: kernel.profile, kernel: kernel.kernel, source: kernel.source };
  const isSystem = (va: bigint): boolean => {
    if (!isKernelPointer(va)) return false;
    const row = readEprocess(ctx, va);
    return row.pid === SYSTEM_PID && row.exitTime === null && eprocessInsanity(row, kernel.source.size) === null;
  };
  const pointerAt = (symbol: string): bigint | null => {
    if (!kernel.profile.hasSymbol(symbol)) return null;
    const r = kernel.kernel.read(kernel.symbolVa(symbol), 8);
    return r.missing.length ? null : new DataView(r.data.buffer, r.data.byteOffset, 8).getBigUint64(0, true);
  };
  const found = new Map<bigint, string[]>();
  const note = (va: bigint, witness: string) => found.set(va, [...(found.get(va) ?? []), witness]);
  const initial = pointerAt('PsInitialSystemProcess');
  if (initial !== null && isSystem(initial)) note(initial, 'PsInitialSystemProcess');
  const cid = pointerAt('PspCidTable');
  if (cid !== null && isKernelPointer(cid)) {
    const entry = walkHandleTable(kernel.profile, kernel.kernel, cid, 'PspCidTable').entries.find((e) => e.handle === SYSTEM_PID);
    if (entry && isSystem(entry.pointer)) note(entry.pointer, 'PspCidTable');
  }
  const best = [...found].sort((a, b) => b[1].length - a[1].length)[0];
  return best ? { va: best[0], witnesses: best[1] } : null;
}

/** "System (PID 4) is alive at 0x… (PsInitialSystemProcess, PspCidTable)", or null. */
export function liveSystemNote(kernel: WindowsKernel): string | null {
  const s = findLiveSystem(kernel);
  return s ? `System (PID ${SYSTEM_PID}) is alive at ${hex(s.va)} (${s.witnesses.join(', ')})` : null;
}
