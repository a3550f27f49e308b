/**
 * Engine rows → the contract's row types (common/contract.ts). Field for field the same values, key
 * order kept; only read-only arrays become fresh arrays, as the wire types are plain JSON.
 */
import type { DtbRow, ProcessRow as WireProcessRow, ProcessTableRow, StructDump as WireStructDump } from '../../../common/contract.js';
import type { DtbInspectRow } from '../plugins/dtb-inspect/index.js';
import type { PsxViewEntry } from '../plugins/psxview/index.js';
import type { StructDump } from '../plugins/struct/index.js';
import type { VirtualMemory } from '../translate/types.js';
import type { ProcessRow } from '../windows/eprocess.js';

export const processRowWire = (r: ProcessRow): WireProcessRow => ({ ...r, missing: [...r.missing], warnings: [...r.warnings], whyAbsent: { ...r.whyAbsent } });

export const psxEntryWire = (e: PsxViewEntry): ProcessTableRow => ({
  key: e.key, psxview: { ...e.row }, status: e.status, evidence: { ...e.evidence }, process: processRowWire(e.process),
});

export const dtbRowWire = (r: DtbInspectRow): DtbRow => ({ ...r });

export const structDumpWire = (d: StructDump, bytes: string): WireStructDump => ({
  type: d.type, size: d.size, address: d.address, space: d.space,
  fields: d.fields.map((f) => ({ ...f, value: { ...f.value } })), missing: [...d.missing], bytes,
});

/** The bytes at `address` as lower-case hex pairs, `??` for each byte that could not be read. */
export function structBytes(memory: VirtualMemory, address: bigint, size: number): string {
  const r = memory.read(address, size);
  const unreadable = new Uint8Array(size);
  for (const m of r.missing) {
    const from = Number(m.va - address);
    for (let i = Math.max(0, from); i < Math.min(size, from + m.length); i++) unreadable[i] = 1;
  }
  let out = '';
  for (let i = 0; i < size; i++) out += unreadable[i] ? '??' : (r.data[i] ?? 0).toString(16).padStart(2, '0');
  return out;
}
