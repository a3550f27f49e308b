/**
 * Engine rows → the contract's row types (common/contract.ts). Field for field the same values, key
 * order kept; only read-only arrays become fresh arrays, as the wire types are plain JSON.
 */
import type { DtbRow, ProcessRow as WireProcessRow, ProcessTableRow, PsxViewRow as WirePsxViewRow, StructDump as WireStructDump } from '../../../common/contract.js';
import type { DtbInspectRow } from '../plugins/dtb-inspect/index.js';
import type { PsxViewEntry, PsxViewRow } from '../plugins/psxview/index.js';
import type { StructDump } from '../plugins/struct/index.js';
import type { VirtualMemory } from '../translate/types.js';
import type { ProcessRow } from '../windows/eprocess.js';
import { hex } from '../util/hex.js';

/** An address as the wire and the exports print it (lower-case `0x…`), or null. */
const hexOrNull = (v: bigint | number | null): string | null => (v === null ? null : hex(v));

/** The one formatting of a process row for the wire and the exports: addresses as hex, key order kept. */
export const processRowWire = (r: ProcessRow): WireProcessRow => ({
  ...r, offset: hexOrNull(r.offset), physicalOffset: hexOrNull(r.physicalOffset), dtb: hexOrNull(r.dtb), userDtb: hexOrNull(r.userDtb),
  missing: [...r.missing], warnings: [...r.warnings], whyAbsent: { ...r.whyAbsent },
});

/** A psxview row for the wire and the exports: its EPROCESS address as hex. */
export const psxRowWire = (r: PsxViewRow): WirePsxViewRow => ({ ...r, offset: hexOrNull(r.offset) });

export const psxEntryWire = (e: PsxViewEntry): ProcessTableRow => ({
  key: e.key, psxview: psxRowWire(e.row), status: e.status, evidence: { ...e.evidence }, process: processRowWire(e.process),
});

export const dtbRowWire = (r: DtbInspectRow): DtbRow => ({ ...r });

export const structDumpWire = (d: StructDump, bytes: string): WireStructDump => ({
  type: d.type, size: d.size, address: d.address, space: d.space,
  fields: d.fields.map((f) => ({ ...f, value: { ...f.value } })), missing: [...d.missing], bytes,
});

/** The bytes at `address` as lower-case hex pairs, `??` for each byte that could not be read. */
export function structBytes(memory: VirtualMemory, address: bigint, size: number): string {
  const r = memory.read(address, size);
  // Node's hex encoder, then `??` over the few unreadable runs (a per-byte loop cost an open ~40 ms)
  let out = Buffer.from(r.data.buffer, r.data.byteOffset, Math.min(size, r.data.length)).toString('hex').padEnd(size * 2, '0');
  for (const m of r.missing) {
    const from = Math.max(0, Number(m.va - address));
    const to = Math.min(size, Number(m.va - address) + m.length);
    if (to > from) out = out.slice(0, from * 2) + '??'.repeat(to - from) + out.slice(to * 2);
  }
  return out;
}
