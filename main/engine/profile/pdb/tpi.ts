import { Cursor } from './cursor.js';
import { TPI_STREAM } from './info-stream.js';
import type { MsfFile } from './msf.js';

/**
 * TPI stream (stream 2): a header, then a dense array of CodeView type records, the first one having
 * type index `typeIndexBegin` (0x1000). Leaf numbers and layouts follow microsoft-pdb cvinfo.h
 * (lfClass, lfUnion, lfEnum, lfPointer, lfArray, lfModifier, lfBitfield, lfProc, lfFieldList).
 */

export const LF = {
  MODIFIER: 0x1001,
  POINTER: 0x1002,
  PROCEDURE: 0x1008,
  MFUNCTION: 0x1009,
  FIELDLIST: 0x1203,
  BITFIELD: 0x1205,
  BCLASS: 0x1400,
  VBCLASS: 0x1401,
  IVBCLASS: 0x1402,
  INDEX: 0x1404,
  VFUNCTAB: 0x1409,
  FRIENDCLS: 0x140b,
  VFUNCOFF: 0x140c,
  ENUMERATE: 0x1502,
  ARRAY: 0x1503,
  CLASS: 0x1504,
  STRUCTURE: 0x1505,
  UNION: 0x1506,
  ENUM: 0x1507,
  FRIENDFCN: 0x150c,
  MEMBER: 0x150d,
  STMEMBER: 0x150e,
  METHOD: 0x150f,
  NESTTYPE: 0x1510,
  ONEMETHOD: 0x1511,
  NESTTYPEEX: 0x1512,
  INTERFACE: 0x1519,
} as const;

/** CV_prop_t bits (cvinfo.h). */
const PROP_FWDREF = 0x80;
const PROP_HAS_UNIQUE_NAME = 0x200;

export type TypeRecord =
  | { readonly leaf: 'class'; readonly kind: 'struct' | 'union'; readonly name: string; readonly uniqueName?: string; readonly fieldList: number; readonly size: number; readonly fwdRef: boolean }
  | { readonly leaf: 'enum'; readonly name: string; readonly uniqueName?: string; readonly underlying: number; readonly fieldList: number; readonly fwdRef: boolean }
  | { readonly leaf: 'fieldlist'; readonly start: number; readonly end: number }
  | { readonly leaf: 'pointer'; readonly referent: number; readonly size: number }
  | { readonly leaf: 'modifier'; readonly referent: number }
  | { readonly leaf: 'array'; readonly element: number; readonly size: number }
  | { readonly leaf: 'bitfield'; readonly type: number; readonly length: number; readonly position: number }
  | { readonly leaf: 'procedure' }
  | { readonly leaf: 'other'; readonly kind: number };

export type FieldListMember =
  | { readonly kind: 'member'; readonly name: string; readonly type: number; readonly offset: number }
  | { readonly kind: 'enumerate'; readonly name: string; readonly value: number }
  | { readonly kind: 'baseclass'; readonly type: number; readonly offset: number }
  | { readonly kind: 'continuation'; readonly type: number };

export class TypeStream {
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
    readonly typeIndexBegin: number,
    readonly records: readonly TypeRecord[],
  ) {}

  get typeIndexEnd(): number {
    return this.typeIndexBegin + this.records.length;
  }

  record(ti: number): TypeRecord | undefined {
    return this.records[ti - this.typeIndexBegin];
  }

  /** Members of one LF_FIELDLIST record; LF_INDEX continuations are returned for the caller to follow. */
  fieldList(ti: number): FieldListMember[] {
    const r = this.record(ti);
    if (!r || r.leaf !== 'fieldlist') return [];
    const c = new Cursor(this.bytes, `${this.what} field list 0x${ti.toString(16)}`, r.start, r.end);
    const out: FieldListMember[] = [];
    while (c.remaining > 0) {
      const b = this.bytes[c.pos]!;
      if (b >= 0xf0) { // LF_PAD0..LF_PAD15: alignment padding, low nibble = bytes to skip
        c.skip(Math.min(Math.max(b & 0x0f, 1), c.remaining));
        continue;
      }
      const leaf = c.u16();
      switch (leaf) {
        case LF.MEMBER: { c.u16(); const type = c.u32(); const offset = c.numeric(); out.push({ kind: 'member', type, offset, name: c.cstring() }); break; }
        case LF.ENUMERATE: { c.u16(); const value = c.numeric(); out.push({ kind: 'enumerate', value, name: c.cstring() }); break; }
        case LF.BCLASS: { c.u16(); const type = c.u32(); const offset = c.numeric(); out.push({ kind: 'baseclass', type, offset }); break; }
        case LF.VBCLASS:
        case LF.IVBCLASS: { c.u16(); c.u32(); c.u32(); c.numeric(); c.numeric(); break; }
        case LF.STMEMBER: { c.u16(); c.u32(); c.cstring(); break; }
        case LF.METHOD: { c.u16(); c.u32(); c.cstring(); break; }
        case LF.ONEMETHOD: {
          const attr = c.u16();
          c.u32();
          const mprop = (attr >> 2) & 7; // CV_MTintro / CV_MTpureintro carry a vtable offset
          if (mprop === 4 || mprop === 6) c.u32();
          c.cstring();
          break;
        }
        case LF.NESTTYPE: { c.u16(); c.u32(); c.cstring(); break; }
        case LF.NESTTYPEEX: { c.u16(); c.u32(); c.cstring(); break; }
        case LF.VFUNCTAB: { c.u16(); c.u32(); break; }
        case LF.FRIENDCLS: { c.u16(); c.u32(); break; }
        case LF.FRIENDFCN: { c.u16(); c.u32(); c.cstring(); break; }
        case LF.VFUNCOFF: { c.u16(); c.u32(); c.u32(); break; }
        case LF.INDEX: { c.u16(); out.push({ kind: 'continuation', type: c.u32() }); break; }
        default:
          // Member layouts are not self-describing: an unknown one makes the rest unreadable.
          c.fail(`unknown member leaf 0x${leaf.toString(16)} at offset ${c.pos - 2}`);
      }
    }
    return out;
  }
}

export function readTypeStream(msf: MsfFile): TypeStream {
  const what = `${msf.label} TPI stream`;
  const bytes = msf.stream(TPI_STREAM, 'TPI');
  const h = new Cursor(bytes, what);
  const version = h.u32();
  const headerSize = h.u32();
  const typeIndexBegin = h.u32();
  const typeIndexEnd = h.u32();
  const typeRecordBytes = h.u32();
  if (version !== 20040203 && version !== 19990903) h.fail(`unsupported version ${version}`);
  if (headerSize < 56 || headerSize > bytes.length) h.fail(`invalid header size ${headerSize}`);
  if (typeRecordBytes > bytes.length - headerSize) h.fail(`declares ${typeRecordBytes} bytes of type records but holds ${bytes.length - headerSize}`);
  if (typeIndexBegin < 0x1000 || typeIndexEnd < typeIndexBegin || typeIndexEnd - typeIndexBegin > typeRecordBytes / 4) {
    h.fail(`invalid type index range 0x${typeIndexBegin.toString(16)}..0x${typeIndexEnd.toString(16)}`);
  }
  const end = headerSize + typeRecordBytes;
  const records: TypeRecord[] = [];
  const c = new Cursor(bytes, what, headerSize, end);
  while (c.remaining > 0) {
    const ti = typeIndexBegin + records.length;
    const len = c.u16();
    if (len < 2 || len > c.remaining) c.fail(`type record 0x${ti.toString(16)} has invalid length ${len}`);
    const recEnd = c.pos + len;
    const rc = new Cursor(bytes, `${what} record 0x${ti.toString(16)}`, c.pos, recEnd);
    records.push(parseRecord(rc, recEnd));
    c.pos = recEnd;
  }
  if (records.length !== typeIndexEnd - typeIndexBegin) {
    c.fail(`holds ${records.length} type records but the header declares ${typeIndexEnd - typeIndexBegin}`);
  }
  return new TypeStream(bytes, what, typeIndexBegin, records);
}

function parseRecord(c: Cursor, end: number): TypeRecord {
  const kind = c.u16();
  switch (kind) {
    case LF.CLASS:
    case LF.STRUCTURE:
    case LF.INTERFACE:
    case LF.UNION: {
      c.u16(); // member count
      const prop = c.u16();
      const fieldList = c.u32();
      if (kind !== LF.UNION) { c.u32(); c.u32(); } // derived list, vtable shape
      const size = c.numeric();
      const name = c.cstring();
      const uniqueName = prop & PROP_HAS_UNIQUE_NAME && c.pos < end ? c.cstring() : undefined;
      return { leaf: 'class', kind: kind === LF.UNION ? 'union' : 'struct', name, ...(uniqueName ? { uniqueName } : {}), fieldList, size, fwdRef: (prop & PROP_FWDREF) !== 0 };
    }
    case LF.ENUM: {
      c.u16();
      const prop = c.u16();
      const underlying = c.u32();
      const fieldList = c.u32();
      const name = c.cstring();
      const uniqueName = prop & PROP_HAS_UNIQUE_NAME && c.pos < end ? c.cstring() : undefined;
      return { leaf: 'enum', name, ...(uniqueName ? { uniqueName } : {}), underlying, fieldList, fwdRef: (prop & PROP_FWDREF) !== 0 };
    }
    case LF.FIELDLIST:
      return { leaf: 'fieldlist', start: c.pos, end };
    case LF.POINTER: {
      const referent = c.u32();
      const attr = c.u32();
      return { leaf: 'pointer', referent, size: (attr >> 13) & 0x3f }; // CV_pointer attr: bits 13..18 = size
    }
    case LF.MODIFIER:
      return { leaf: 'modifier', referent: c.u32() };
    case LF.ARRAY: {
      const element = c.u32();
      c.u32(); // index type
      return { leaf: 'array', element, size: c.numeric() };
    }
    case LF.BITFIELD: {
      const type = c.u32();
      const length = c.u8();
      const position = c.u8();
      return { leaf: 'bitfield', type, length, position };
    }
    case LF.PROCEDURE:
    case LF.MFUNCTION:
      return { leaf: 'procedure' };
    default:
      return { leaf: 'other', kind };
  }
}
