import { formatError } from '../errors.js';
import type { EnumDef, FieldDef, StructDef, TypeRef } from './model.js';
import { dict } from './json-guard.js';

/**
 * Encoding shared by the bundled-profile converter (scripts/build-profiles.ts) and the lazy loader
 * (bundled.ts). Everything here is pure and symmetric: encodeX(decodeX(v)) round-trips.
 *
 * Family container (`<family>.msp`), all integers little-endian:
 *   "MSPF" | u32 version | u32 headerLength | header JSON (utf-8) | segments…
 * header = { segments: { <name>: [offset, length] } } with offsets relative to the end of the header.
 * Each segment is gzipped independently, so a loader inflates only the segments one build needs.
 */

export const CONTAINER_MAGIC = 'MSPF';
export const CONTAINER_VERSION = 1;

// ---------- varints (LEB128, unsigned) and zigzag for signed deltas ----------

export class VarintWriter {
  private buf = new Uint8Array(1024);
  private len = 0;

  push(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint ${value} is not a non-negative safe integer`);
    if (this.len + 10 > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    let v = value;
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  pushSigned(value: number): void {
    this.push(zigzag(value));
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export const zigzag = (v: number): number => (v < 0 ? -2 * v - 1 : 2 * v);
export const unzigzag = (v: number): number => (v % 2 === 1 ? -(v + 1) / 2 : v / 2);

/** Decode exactly `count` varints; a short or over-long buffer is a format error naming `what`. */
export function readVarints(bytes: Uint8Array, count: number, what: string): Float64Array {
  const out = new Float64Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    let v = 0;
    let scale = 1;
    for (;;) {
      if (at >= bytes.length) throw formatError(what, `varint stream ends after ${i} of ${count} values`);
      const b = bytes[at++] as number;
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 56) throw formatError(what, 'varint is longer than 8 bytes');
    }
    out[i] = v;
  }
  if (at !== bytes.length) throw formatError(what, `varint stream has ${bytes.length - at} trailing bytes`);
  return out;
}

// ---------- type references as short strings ----------
// b<name> base | s<name> struct/union | e<name> enum | p<ref> pointer | a<count>:<ref> array |
// f<bitPosition>,<bitLength>:<ref> bitfield | F function. Names run to the end of the string, so any
// character (including ':') is allowed in them.

export function encodeRef(ref: TypeRef): string {
  switch (ref.kind) {
    case 'base': return 'b' + ref.name;
    case 'struct': return 's' + ref.name;
    case 'enum': return 'e' + ref.name;
    case 'pointer': return 'p' + encodeRef(ref.subtype);
    case 'array': return `a${ref.count}:` + encodeRef(ref.subtype);
    case 'bitfield': return `f${ref.bitPosition},${ref.bitLength}:` + encodeRef(ref.type);
    case 'function': return 'F';
  }
}

export function decodeRef(text: string, what: string): TypeRef {
  const tag = text[0];
  const rest = text.slice(1);
  switch (tag) {
    case 'b': return { kind: 'base', name: rest };
    case 's': return { kind: 'struct', name: rest };
    case 'e': return { kind: 'enum', name: rest };
    case 'p': return { kind: 'pointer', subtype: decodeRef(rest, what) };
    case 'F': return { kind: 'function' };
    case 'a': {
      const m = /^(\d+):/.exec(rest);
      if (!m || !m[1]) break;
      return { kind: 'array', count: Number(m[1]), subtype: decodeRef(rest.slice(m[0].length), what) };
    }
    case 'f': {
      const m = /^(\d+),(\d+):/.exec(rest);
      if (!m || !m[1] || !m[2]) break;
      return { kind: 'bitfield', bitPosition: Number(m[1]), bitLength: Number(m[2]), type: decodeRef(rest.slice(m[0].length), what) };
    }
  }
  throw formatError(what, `bad type reference "${text.slice(0, 60)}"`);
}

// ---------- struct and enum definitions as flat arrays ----------

/** [0 struct | 1 union, size, name1, offset1, ref1, name2, …] */
export type PackedStruct = (string | number)[];
/** [size, base, name1, value1, …] */
export type PackedEnum = (string | number)[];

export function packStruct(def: StructDef): PackedStruct {
  const out: PackedStruct = [def.kind === 'union' ? 1 : 0, def.size];
  for (const [name, f] of Object.entries(def.fields)) out.push(name, f.offset, encodeRef(f.type));
  return out;
}

export function unpackStruct(p: readonly unknown[], what: string): StructDef {
  if (p.length < 2 || (p.length - 2) % 3 !== 0 || typeof p[1] !== 'number') throw formatError(what, 'malformed struct record');
  const fields = dict<FieldDef>();
  for (let i = 2; i < p.length; i += 3) {
    const name = p[i];
    const offset = p[i + 1];
    const ref = p[i + 2];
    if (typeof name !== 'string' || typeof offset !== 'number' || typeof ref !== 'string') throw formatError(what, 'malformed struct field record');
    fields[name] = { offset, type: decodeRef(ref, what) };
  }
  return { kind: p[0] === 1 ? 'union' : 'struct', size: p[1], fields };
}

export function packEnum(def: EnumDef): PackedEnum {
  const out: PackedEnum = [def.size, def.base];
  for (const [name, v] of Object.entries(def.constants)) out.push(name, v);
  return out;
}

export function unpackEnum(p: readonly unknown[], what: string): EnumDef {
  if (p.length < 2 || p.length % 2 !== 0 || typeof p[0] !== 'number' || typeof p[1] !== 'string') throw formatError(what, 'malformed enum record');
  const constants = dict<number>();
  for (let i = 2; i < p.length; i += 2) {
    const name = p[i];
    const v = p[i + 1];
    if (typeof name !== 'string' || typeof v !== 'number') throw formatError(what, 'malformed enum constant record');
    constants[name] = v;
  }
  return { size: p[0], base: p[1], constants };
}

// ---------- family container ----------

export function writeContainer(segments: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const table: Record<string, [number, number]> = {};
  let at = 0;
  for (const [name, seg] of segments) {
    table[name] = [at, seg.length];
    at += seg.length;
  }
  const header = new TextEncoder().encode(JSON.stringify({ segments: table }));
  const out = new Uint8Array(12 + header.length + at);
  out.set(new TextEncoder().encode(CONTAINER_MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, CONTAINER_VERSION, true);
  dv.setUint32(8, header.length, true);
  out.set(header, 12);
  let pos = 12 + header.length;
  for (const seg of segments.values()) {
    out.set(seg, pos);
    pos += seg.length;
  }
  return out;
}

/** Parse the container header; returns a lookup that slices segments without copying. */
export function readContainer(bytes: Uint8Array, what: string): (name: string) => Uint8Array {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== CONTAINER_MAGIC) {
    throw formatError(what, 'is not a MemScope profile container (bad magic)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== CONTAINER_VERSION) throw formatError(what, `profile container version ${version} is not supported (want ${CONTAINER_VERSION})`);
  const headerLen = dv.getUint32(8, true);
  if (12 + headerLen > bytes.length) throw formatError(what, 'profile container header is truncated');
  let table: unknown;
  try {
    table = (JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLen))) as { segments?: unknown }).segments;
  } catch {
    throw formatError(what, 'profile container header is not JSON');
  }
  if (typeof table !== 'object' || table === null) throw formatError(what, 'profile container header has no segment table');
  const base = 12 + headerLen;
  const segs = table as Record<string, unknown>;
  return (name: string) => {
    const e = Object.hasOwn(segs, name) ? segs[name] : undefined;
    if (!Array.isArray(e) || typeof e[0] !== 'number' || typeof e[1] !== 'number') throw formatError(what, `profile container has no segment ${name}`);
    const [off, len] = e as [number, number];
    if (off < 0 || len < 0 || base + off + len > bytes.length) throw formatError(what, `profile container segment ${name} is truncated`);
    return bytes.subarray(base + off, base + off + len);
  };
}
