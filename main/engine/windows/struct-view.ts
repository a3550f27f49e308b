/**
 * Profile-typed views over kernel structures: `view.u32('UniqueProcessId')`, `view.listEntry(
 * 'ActiveProcessLinks')`, dotted paths into embedded structs (`'Pcb.DirectoryTableBase'`). A view
 * holds the structure's bytes read ONCE (through a VirtualMemory or handed in from a physical
 * buffer) plus the byte ranges that could not be read; a field overlapping an unreadable range reads
 * as null and its name is recorded in `missing`, so a row can say exactly what it could not read.
 */
import type { Profile } from '../profile/profile.js';
import type { FieldDef, TypeRef } from '../profile/model.js';
import type { VirtualMemory } from '../translate/types.js';
import { analysisError } from '../errors.js';

/** A byte range inside the view (offset relative to the structure start) that could not be read. */
export interface Hole {
  readonly offset: number;
  readonly length: number;
}

/** A field resolved through a (possibly dotted) path: absolute offset inside the view and its type. */
export interface ResolvedField {
  readonly path: string;
  readonly offset: number;
  readonly size: number;
  readonly type: TypeRef;
}

export interface ListEntryValue {
  readonly flink: bigint;
  readonly blink: bigint;
}

export interface UnicodeStringValue {
  /** Length in BYTES (UNICODE_STRING.Length), not characters. */
  readonly length: number;
  readonly maximumLength: number;
  readonly buffer: bigint;
}

/** FILETIME epoch (1601-01-01) to Unix epoch (1970-01-01) in 100 ns ticks. */
const FILETIME_UNIX_DELTA = 116444736000000000n;
/** Latest FILETIME we render as a date (year 9999); beyond that it is garbage, not a time. */
const FILETIME_MAX = 2650467743999999999n;

/** FILETIME (100 ns since 1601 UTC) → ISO 8601 UTC, or null for 0 / out-of-range values. */
export function filetimeToIso(ft: bigint): string | null {
  if (ft <= 0n || ft > FILETIME_MAX) return null;
  const ms = (ft - FILETIME_UNIX_DELTA) / 10000n;
  const d = new Date(Number(ms));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export class StructView {
  private readonly missingSet = new Set<string>();
  private readonly dv: DataView;

  constructor(
    readonly profile: Profile,
    readonly typeName: string,
    /** Address of the structure start (kernel VA, or PA for physical views). */
    readonly address: bigint,
    readonly bytes: Uint8Array,
    readonly holes: readonly Hole[] = [],
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Read `typeName` at `va` through `vm` in one read; unreadable pages become holes. */
  static fromVirtual(profile: Profile, typeName: string, vm: VirtualMemory, va: bigint): StructView {
    const size = profile.sizeOf(typeName);
    const r = vm.read(va, size);
    const holes = r.missing.map((m) => ({ offset: Number(m.va - va), length: m.length }));
    return new StructView(profile, typeName, va, r.data, holes);
  }

  /** View over bytes already in hand (a physical scan buffer); `holes` marks absent bytes. */
  static fromBytes(profile: Profile, typeName: string, bytes: Uint8Array, address: bigint, holes: readonly Hole[] = []): StructView {
    return new StructView(profile, typeName, address, bytes, holes);
  }

  get size(): number {
    return this.profile.sizeOf(this.typeName);
  }

  /** Field names (paths) that could not be read so far, in the order first asked for. */
  get missing(): readonly string[] {
    return [...this.missingSet];
  }

  /** True when every byte of the view was readable. */
  get complete(): boolean {
    return this.holes.length === 0;
  }

  /** Whether the profile's type has this (dotted) field at all (build differences). */
  has(path: string): boolean {
    let type = this.typeName;
    const parts = path.split('.');
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i] as string;
      if (!this.profile.hasField(type, name)) return false;
      const f = this.profile.field(type, name);
      if (i < parts.length - 1) {
        if (f.type.kind !== 'struct') return false;
        type = f.type.name;
      }
    }
    return true;
  }

  /** Resolve a dotted path to its absolute offset/type; throws (analysis error) when the profile lacks it. */
  resolve(path: string): ResolvedField {
    let type = this.typeName;
    let offset = 0;
    let def: FieldDef | undefined;
    const parts = path.split('.');
    for (let i = 0; i < parts.length; i++) {
      def = this.profile.field(type, parts[i] as string);
      offset += def.offset;
      if (i < parts.length - 1) {
        if (def.type.kind !== 'struct') throw analysisError(`profile ${this.profile.label}`, `${this.typeName}.${path}: ${parts[i]} is not a struct`);
        type = def.type.name;
      }
    }
    if (!def) throw analysisError(`profile ${this.profile.label}`, `empty field path on ${this.typeName}`);
    return { path, offset, size: this.profile.sizeOfRef(def.type), type: def.type };
  }

  /** Whether `length` bytes at `offset` are inside the view and fully readable. */
  readable(offset: number, length: number): boolean {
    if (offset < 0 || offset + length > this.bytes.length) return false;
    return !this.holes.some((h) => offset < h.offset + h.length && h.offset < offset + length);
  }

  private fieldBytes(path: string): ResolvedField | null {
    if (!this.has(path)) {
      this.missingSet.add(path);
      return null;
    }
    const f = this.resolve(path);
    if (!this.readable(f.offset, f.size)) {
      this.missingSet.add(path);
      return null;
    }
    return f;
  }

  /** Unsigned integer of the field's own size (1/2/4 → number, 8 → bigint as number only if asked). */
  private uint(path: string, size: 1 | 2 | 4 | 8): bigint | null {
    const f = this.fieldBytes(path);
    if (!f) return null;
    return readUint(this.dv, f.offset, size);
  }

  u8(path: string): number | null {
    const v = this.uint(path, 1);
    return v === null ? null : Number(v);
  }
  u16(path: string): number | null {
    const v = this.uint(path, 2);
    return v === null ? null : Number(v);
  }
  u32(path: string): number | null {
    const v = this.uint(path, 4);
    return v === null ? null : Number(v);
  }
  u64(path: string): bigint | null {
    return this.uint(path, 8);
  }
  /** A pointer-sized field (PVOID, HANDLE, struct pointer) as an unsigned 64-bit value. */
  pointer(path: string): bigint | null {
    return this.uint(path, this.profile.data.pointerSize);
  }

  /** A bitfield (or plain integer) field's value, decoded per its profile bit position/length. */
  bitfield(path: string): bigint | null {
    const f = this.fieldBytes(path);
    if (!f) return null;
    const raw = readUint(this.dv, f.offset, clampSize(f.size));
    if (f.type.kind !== 'bitfield') return raw;
    return (raw >> BigInt(f.type.bitPosition)) & ((1n << BigInt(f.type.bitLength)) - 1n);
  }

  listEntry(path: string): ListEntryValue | null {
    const f = this.fieldBytes(path);
    if (!f) return null;
    return { flink: readUint(this.dv, f.offset, 8), blink: readUint(this.dv, f.offset + 8, 8) };
  }

  unicodeString(path: string): UnicodeStringValue | null {
    const f = this.fieldBytes(path);
    if (!f) return null;
    return {
      length: Number(readUint(this.dv, f.offset, 2)),
      maximumLength: Number(readUint(this.dv, f.offset + 2, 2)),
      buffer: readUint(this.dv, f.offset + 8, 8),
    };
  }

  /** FILETIME / LARGE_INTEGER time field as raw ticks. */
  filetimeRaw(path: string): bigint | null {
    return this.uint(path, 8);
  }

  /** FILETIME field as ISO 8601 UTC; null when unreadable or zero (the kernel's "not set"). */
  filetime(path: string): string | null {
    const v = this.filetimeRaw(path);
    return v === null ? null : filetimeToIso(v);
  }

  /** _EX_FAST_REF: the object pointer with the reference count in the low 4 bits cleared (x64). */
  exFastRef(path: string): bigint | null {
    const v = this.uint(path, 8);
    return v === null ? null : v & ~0xfn;
  }

  /** Raw bytes of a field (arrays such as ImageFileName). */
  raw(path: string): Uint8Array | null {
    const f = this.fieldBytes(path);
    if (!f) return null;
    return this.bytes.subarray(f.offset, f.offset + f.size);
  }

  /** A char array field (ImageFileName) as text up to the first NUL, Latin-1 as the kernel stores it. */
  cString(path: string): string | null {
    const b = this.raw(path);
    if (!b) return null;
    const end = b.indexOf(0);
    return latin1(b.subarray(0, end < 0 ? b.length : end));
  }

  /** Mark a derived value as missing (e.g. a PEB string whose page is not resident). */
  markMissing(name: string): void {
    this.missingSet.add(name);
  }
}

export function readUint(dv: DataView, offset: number, size: 1 | 2 | 4 | 8): bigint {
  switch (size) {
    case 1: return BigInt(dv.getUint8(offset));
    case 2: return BigInt(dv.getUint16(offset, true));
    case 4: return BigInt(dv.getUint32(offset, true));
    case 8: return dv.getBigUint64(offset, true);
  }
}

function clampSize(n: number): 1 | 2 | 4 | 8 {
  return n <= 1 ? 1 : n <= 2 ? 2 : n <= 4 ? 4 : 8;
}

export function latin1(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

/** Longest UNICODE_STRING we follow (bytes): 32 KiB is the kernel's own limit (USHORT Length). */
const MAX_USTR = 0xfffe;

/**
 * Read a UNICODE_STRING's characters through `vm`. Returns null when the buffer is not resident,
 * the length is odd or exceeds MaximumLength (a corrupt or hostile structure).
 */
export function readUnicodeString(vm: VirtualMemory, us: UnicodeStringValue): string | null {
  if (us.length === 0) return '';
  if (us.length % 2 !== 0 || us.length > MAX_USTR || (us.maximumLength !== 0 && us.length > us.maximumLength)) return null;
  if (us.buffer === 0n) return null;
  const r = vm.read(us.buffer, us.length);
  if (r.missing.length > 0) return null;
  return Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString('utf16le');
}
