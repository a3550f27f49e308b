/**
 * _HANDLE_TABLE walker (process ObjectTables and PspCidTable), after Volatility 3 windows.handles:
 * TableCode's low 2 bits give the levels (0: one page of _HANDLE_TABLE_ENTRY; 1: a page of
 * pointers to entry pages; 2: a page of pointers to level-1 pages), the rest is the top page's
 * address. x64 entries are 16 bytes (256 per page), pointer pages hold 512 pointers; handle value =
 * entry index * 4. Windows 8.1+ entries carry the object pointer in ObjectPointerBits (bits 20..63 of
 * LowValue): pointer = ObjectPointerBits << 4, sign-extended from bit 47. Earlier builds store the
 * pointer in Object with the low 3 bits as flags. Loop-safe: each table page is read once, and the
 * entry count is bounded.
 */
import type { Profile } from '../profile/profile.js';
import type { VirtualMemory } from '../translate/types.js';
import { hex } from '../util/hex.js';
import { StructView } from './struct-view.js';
import { isKernelPointer } from './list-walk.js';

export interface HandleEntry {
  /** Handle value (index * 4). */
  readonly handle: number;
  /** Object pointer as the entry stores it (object header for process tables, body for PspCidTable). */
  readonly pointer: bigint;
  readonly grantedAccess: number | null;
}

export interface HandleWalk {
  readonly entries: HandleEntry[];
  readonly warnings: string[];
}

const PAGE = 4096;
/** Most handle-table pages read in one walk (16 M handles / 256 per page). */
const MAX_PAGES = 65536;

export function entryPointer(profile: Profile, low: bigint): bigint | null {
  if (profile.hasField('_HANDLE_TABLE_ENTRY', 'ObjectPointerBits')) {
    const f = profile.field('_HANDLE_TABLE_ENTRY', 'ObjectPointerBits');
    const pos = f.type.kind === 'bitfield' ? BigInt(f.type.bitPosition) : 20n;
    const bits = low >> pos;
    if (bits === 0n) return null;
    const p = BigInt.asUintN(48, bits << 4n);
    return p & 0x8000_0000_0000n ? p | 0xffff_0000_0000_0000n : p;
  }
  const p = low & ~7n;
  return p === 0n ? null : p;
}

export function walkHandleTable(profile: Profile, vm: VirtualMemory, tableVa: bigint, what: string): HandleWalk {
  const warnings: string[] = [];
  const entries: HandleEntry[] = [];
  const t = StructView.fromVirtual(profile, '_HANDLE_TABLE', vm, tableVa);
  const code = t.u64('TableCode');
  if (code === null) return { entries, warnings: [`${what}: _HANDLE_TABLE at ${hex(tableVa)} is not readable`] };
  const levels = Number(code & 3n);
  const top = code & ~3n;
  if (levels > 2) return { entries, warnings: [`${what}: TableCode ${hex(code)} has ${levels} levels (max 2)`] };
  const entrySize = profile.sizeOf('_HANDLE_TABLE_ENTRY');
  const perPage = PAGE / entrySize;
  const ptrsPerPage = PAGE / 8;
  const seen = new Set<bigint>();
  const grantedField = profile.hasField('_HANDLE_TABLE_ENTRY', 'GrantedAccessBits') ? 'GrantedAccessBits' : profile.hasField('_HANDLE_TABLE_ENTRY', 'GrantedAccess') ? 'GrantedAccess' : null;

  const readPage = (va: bigint): Uint8Array | null => {
    if (!isKernelPointer(va)) return null;
    if (seen.has(va)) { warnings.push(`${what}: table page ${hex(va)} referenced twice; read once`); return null; }
    if (seen.size >= MAX_PAGES) return null;
    seen.add(va);
    const r = vm.read(va, PAGE);
    if (r.missing.length) { warnings.push(`${what}: table page ${hex(va)} is not readable`); return null; }
    return r.data;
  };
  const leaf = (va: bigint, baseIndex: number) => {
    const page = readPage(va);
    if (!page) return;
    const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
    for (let i = 0; i < perPage; i++) {
      const index = baseIndex + i;
      if (index === 0) continue; // handle 0 is never valid; entry 0 of each table is reserved
      const low = dv.getBigUint64(i * entrySize, true);
      if (low === 0n) continue;
      const pointer = entryPointer(profile, low);
      if (pointer === null || !isKernelPointer(pointer)) continue;
      let grantedAccess: number | null = null;
      if (grantedField) {
        const e = StructView.fromBytes(profile, '_HANDLE_TABLE_ENTRY', page.subarray(i * entrySize, (i + 1) * entrySize), va + BigInt(i * entrySize));
        const g = e.bitfield(grantedField);
        grantedAccess = g === null ? null : Number(g);
      }
      entries.push({ handle: index * 4, pointer, grantedAccess });
    }
  };
  const pointers = (va: bigint): bigint[] => {
    const page = readPage(va);
    if (!page) return [];
    const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const out: bigint[] = [];
    for (let i = 0; i < ptrsPerPage; i++) out.push(dv.getBigUint64(i * 8, true));
    return out;
  };
  if (levels === 0) leaf(top, 0);
  else if (levels === 1) {
    pointers(top).forEach((p, i) => { if (p !== 0n) leaf(p, i * perPage); });
  } else {
    pointers(top).forEach((p1, i) => {
      if (p1 === 0n) return;
      pointers(p1).forEach((p0, j) => { if (p0 !== 0n) leaf(p0, (i * ptrsPerPage + j) * perPage); });
    });
  }
  if (seen.size >= MAX_PAGES) warnings.push(`${what}: stopped after ${MAX_PAGES} table pages`);
  return { entries, warnings };
}
