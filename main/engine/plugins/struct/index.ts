/**
 * Structure view: any profile type at any VA (through an address space) or PA (through the physical
 * source), field by field — offset, type, raw bytes (hex) and decoded value — for the hex view to
 * overlay. Decoders: integers, pointers (marked as links), LIST_ENTRY, UNICODE_STRING (text read
 * through the same memory), FILETIME (LARGE_INTEGER/ULONGLONG fields named *Time), enums (constant
 * name), bitfields, char arrays (text), EX_FAST_REF (object pointer, low 4 bits the ref count).
 */
import type { Profile } from '../../profile/profile.js';
import type { TypeRef } from '../../profile/model.js';
import type { PhysicalSource } from '../../sources/physical-source.js';
import type { VirtualMemory } from '../../translate/types.js';
import { MemScopeError } from '../../errors.js';
import { StructView, filetimeToIso, latin1, readUnicodeString, type Hole } from '../../windows/struct-view.js';
import { hex } from '../../util/hex.js';

export type DecodedValue =
  | { readonly kind: 'int'; readonly value: string }
  | { readonly kind: 'pointer'; readonly value: string; readonly link: true; readonly target: string }
  | { readonly kind: 'list-entry'; readonly flink: string; readonly blink: string }
  | { readonly kind: 'unicode-string'; readonly length: number; readonly maximumLength: number; readonly buffer: string; readonly text: string | null }
  | { readonly kind: 'filetime'; readonly raw: string; readonly iso: string | null }
  | { readonly kind: 'enum'; readonly value: string; readonly name: string | null }
  | { readonly kind: 'bitfield'; readonly value: string; readonly bitPosition: number; readonly bitLength: number }
  | { readonly kind: 'ex-fast-ref'; readonly object: string; readonly refCount: number }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'struct'; readonly type: string }
  | { readonly kind: 'array'; readonly count: number; readonly elementType: string }
  | { readonly kind: 'unreadable' };

export interface StructField {
  readonly name: string;
  readonly offset: number;
  /** Offset as hex, for the overlay. */
  readonly offsetHex: string;
  readonly size: number;
  readonly type: string;
  /** Raw bytes as lower-case hex pairs (empty when unreadable). */
  readonly raw: string;
  readonly value: DecodedValue;
}

export interface StructDump {
  readonly type: string;
  readonly size: number;
  readonly address: string;
  readonly space: 'virtual' | 'physical';
  readonly fields: StructField[];
  /** Fields whose bytes could not be read. */
  readonly missing: string[];
}

/** Human name of a type reference, C style. */
export function typeName(ref: TypeRef): string {
  switch (ref.kind) {
    case 'base': case 'struct': case 'enum': return ref.name;
    case 'pointer': return `${typeName(ref.subtype)} *`;
    case 'array': return `${typeName(ref.subtype)}[${ref.count}]`;
    case 'bitfield': return `${typeName(ref.type)} :${ref.bitLength} @${ref.bitPosition}`;
    case 'function': return 'function';
  }
}

const TIME_NAME = /Time$/;
const MAX_STRUCT = 1 << 20;

function structName(ref: TypeRef): string | null {
  return ref.kind === 'struct' ? ref.name : null;
}

/** A physical reader presented as VirtualMemory (identity "translation"), so one decoder serves both. */
export function physicalMemory(source: PhysicalSource): VirtualMemory {
  return {
    dtbRaw: 0n,
    pml4: 0,
    translate: (va) => ({ va, pa: Number(va), page: null, reason: 'physical', walk: [] }),
    read: (va, length) => {
      const r = source.read(Number(va), length);
      return { data: r.data, missing: r.absent.map((a) => ({ va: BigInt(a.start), length: a.length, reason: 'absent from the source' })) };
    },
  };
}

export function dumpStruct(profile: Profile, type: string, memory: VirtualMemory, address: bigint, space: 'virtual' | 'physical', stringMemory: VirtualMemory = memory): StructDump {
  if (!profile.hasType(type)) throw new MemScopeError('usage', `profile ${profile.label} has no type ${type}`);
  const size = profile.sizeOf(type);
  if (size > MAX_STRUCT) throw new MemScopeError('usage', `type ${type} is ${size} bytes; the structure view shows at most ${MAX_STRUCT}`);
  const view = StructView.fromVirtual(profile, type, memory, address);
  const def = profile.type(type);
  const fields: StructField[] = [];
  const entries = Object.entries(def.fields).sort((a, b) => a[1].offset - b[1].offset || a[0].localeCompare(b[0]));
  for (const [name, f] of entries) {
    const fsize = profile.sizeOfRef(f.type);
    const ok = view.readable(f.offset, Math.max(fsize, 1));
    const bytes = view.bytes.subarray(f.offset, f.offset + fsize);
    fields.push({
      name, offset: f.offset, offsetHex: hex(f.offset), size: fsize, type: typeName(f.type),
      raw: ok ? Buffer.from(bytes).toString('hex') : '',
      value: ok ? decode(profile, view, name, f.type, stringMemory) : { kind: 'unreadable' },
    });
    if (!ok) view.markMissing(name);
  }
  return { type, size, address: hex(address), space, fields, missing: [...view.missing] };
}

function decode(profile: Profile, view: StructView, name: string, ref: TypeRef, mem: VirtualMemory): DecodedValue {
  const s = structName(ref);
  if (s === '_LIST_ENTRY') {
    const le = view.listEntry(name)!;
    return { kind: 'list-entry', flink: hex(le.flink), blink: hex(le.blink) };
  }
  if (s === '_UNICODE_STRING') {
    const us = view.unicodeString(name)!;
    return { kind: 'unicode-string', length: us.length, maximumLength: us.maximumLength, buffer: hex(us.buffer), text: readUnicodeString(mem, us) };
  }
  if (s === '_EX_FAST_REF') {
    const raw = view.u64(name)!;
    return { kind: 'ex-fast-ref', object: hex(raw & ~0xfn), refCount: Number(raw & 0xfn) };
  }
  if ((s === '_LARGE_INTEGER' || (ref.kind === 'base' && profile.sizeOfRef(ref) === 8)) && TIME_NAME.test(name)) {
    const raw = view.u64(name)!;
    return { kind: 'filetime', raw: hex(raw), iso: filetimeToIso(raw) };
  }
  if (s) return { kind: 'struct', type: s };
  switch (ref.kind) {
    case 'pointer': {
      const p = view.pointer(name)!;
      return { kind: 'pointer', value: hex(p), link: true, target: typeName(ref.subtype) };
    }
    case 'bitfield':
      return { kind: 'bitfield', value: hex(view.bitfield(name)!), bitPosition: ref.bitPosition, bitLength: ref.bitLength };
    case 'enum': {
      const e = profile.enumDef(ref.name);
      const v = Number(view.bitfield(name)!);
      const hit = Object.entries(e.constants).find(([, c]) => c === v);
      return { kind: 'enum', value: String(v), name: hit ? hit[0] : null };
    }
    case 'array': {
      const el = ref.subtype;
      if (el.kind === 'base' && (el.name === 'unsigned char' || el.name === 'char')) {
        const b = view.raw(name)!;
        const end = b.indexOf(0);
        return { kind: 'string', text: latin1(b.subarray(0, end < 0 ? b.length : end)) };
      }
      return { kind: 'array', count: ref.count, elementType: typeName(el) };
    }
    case 'base': {
      const size = profile.sizeOfRef(ref);
      if (size === 0 || size > 8) return { kind: 'int', value: '' };
      const raw = view.bitfield(name)!;
      const b = profile.baseType(ref.name);
      const v = b.signed ? BigInt.asIntN(size * 8, raw) : raw;
      return { kind: 'int', value: v.toString() };
    }
    default:
      return { kind: 'unreadable' };
  }
}

export type { Hole };
