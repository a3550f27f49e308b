/**
 * Executive object plumbing shared by the pool scanners and the handle-table walkers:
 * - _POOL_HEADER (x64: PreviousSize:8 PoolIndex:8 BlockSize:8 PoolType:8, tag, 16 bytes; sizes in
 *   16-byte units), read through the profile's bitfields;
 * - the optional headers that sit between the pool header and _OBJECT_HEADER, chosen by
 *   _OBJECT_HEADER.InfoMask (ObpInfoMaskToOffset: the header for bit b lies at
 *   header - sum(sizes of present headers with bit <= b));
 * - _OBJECT_HEADER.TypeIndex, which Windows 10+ stores encoded:
 *   stored = real ^ ObHeaderCookie(low byte) ^ byte 1 of the _OBJECT_HEADER's virtual address;
 * - ObTypeIndexTable[real] → _OBJECT_TYPE.Name ("Process", "Thread", …).
 */
import type { Profile } from '../profile/profile.js';
import type { VirtualMemory } from '../translate/types.js';
import { StructView, readUnicodeString } from './struct-view.js';

export interface PoolHeader {
  readonly previousSize: number;
  readonly poolIndex: number;
  /** Block size in 16-byte units, header included. */
  readonly blockSize: number;
  /** Block size in bytes (blockSize * 16 on x64). */
  readonly blockBytes: number;
  readonly poolType: number;
  /** The 4-byte tag as ASCII (protected bit 0x80 of the last byte cleared, as pre-Vista tags had). */
  readonly tag: string;
  readonly tagRaw: number;
}

/** Pool block granularity on x64 (POOL_BLOCK_SHIFT = 4). */
export const POOL_GRANULARITY = 16;

/** Decode a _POOL_HEADER from `bytes` at `offset` (must hold sizeof(_POOL_HEADER) bytes). */
export function decodePoolHeader(profile: Profile, bytes: Uint8Array, offset = 0): PoolHeader {
  const size = profile.sizeOf('_POOL_HEADER');
  const v = StructView.fromBytes(profile, '_POOL_HEADER', bytes.subarray(offset, offset + size), 0n);
  const blockSize = Number(v.bitfield('BlockSize') ?? 0n);
  const tagRaw = v.u32('PoolTag') ?? 0;
  const tagBytes = [tagRaw & 0xff, (tagRaw >>> 8) & 0xff, (tagRaw >>> 16) & 0xff, (tagRaw >>> 24) & 0x7f];
  return {
    previousSize: Number(v.bitfield('PreviousSize') ?? 0n),
    poolIndex: Number(v.bitfield('PoolIndex') ?? 0n),
    blockSize,
    blockBytes: blockSize * POOL_GRANULARITY,
    poolType: Number(v.bitfield('PoolType') ?? 0n),
    tag: String.fromCharCode(...tagBytes),
    tagRaw,
  };
}

export type PoolKind = 'free' | 'paged' | 'non-paged';

/**
 * What the header's PoolType says about the block: 0 is a free block; otherwise (as this project's
 * pool rule states, issue 6) odd is paged pool and even non-zero is non-paged. Process and thread
 * objects live in non-paged pool, so only 'non-paged' is acceptable for them.
 */
export function classifyPoolType(poolType: number): PoolKind {
  if (poolType === 0) return 'free';
  return poolType % 2 === 1 ? 'paged' : 'non-paged';
}

/** InfoMask bit → optional header type, nearest the _OBJECT_HEADER first (Windows 10 order). */
export function optionalHeaderLayout(profile: Profile): readonly { readonly bit: number; readonly type: string }[] {
  const layout = [
    { bit: 0x01, type: '_OBJECT_HEADER_CREATOR_INFO' },
    { bit: 0x02, type: '_OBJECT_HEADER_NAME_INFO' },
    { bit: 0x04, type: '_OBJECT_HEADER_HANDLE_INFO' },
    { bit: 0x08, type: '_OBJECT_HEADER_QUOTA_INFO' },
    { bit: 0x10, type: '_OBJECT_HEADER_PROCESS_INFO' },
    { bit: 0x20, type: '_OBJECT_HEADER_AUDIT_INFO' },
  ];
  // Windows 10 1607+ added EXTENDED_INFO at 0x40 and moved PADDING_INFO to 0x80; 8.x had padding at 0x40.
  if (profile.hasType('_OBJECT_HEADER_EXTENDED_INFO')) {
    layout.push({ bit: 0x40, type: '_OBJECT_HEADER_EXTENDED_INFO' }, { bit: 0x80, type: '_OBJECT_HEADER_PADDING_INFO' });
  } else {
    layout.push({ bit: 0x40, type: '_OBJECT_HEADER_PADDING_INFO' });
  }
  return layout.filter((l) => profile.hasType(l.type));
}

/** Total bytes of the optional headers InfoMask says are present, and whether padding info is among them. */
export function optionalHeadersSize(profile: Profile, infoMask: number): { size: number; padding: boolean } {
  let size = 0;
  let padding = false;
  for (const l of optionalHeaderLayout(profile)) {
    if (!(infoMask & l.bit)) continue;
    size += profile.sizeOf(l.type);
    if (l.type === '_OBJECT_HEADER_PADDING_INFO') padding = true;
  }
  return { size, padding };
}

/** Largest possible optional-header area (every bit set). */
export function maxOptionalHeadersSize(profile: Profile): number {
  return optionalHeadersSize(profile, 0xff).size;
}

/**
 * Real type index from the stored one. `cookie` null means the build has no ObHeaderCookie (before
 * Windows 10): the stored value is the index.
 */
export function decodeTypeIndex(stored: number, cookie: number | null, headerVa: bigint): number {
  return decodeTypeIndexWithVaByte(stored, cookie, Number((headerVa >> 8n) & 0xffn));
}

/** decodeTypeIndex given only byte 1 (bits 8..15) of the header's VA: all the encoding uses of it. */
export function decodeTypeIndexWithVaByte(stored: number, cookie: number | null, vaByte1: number): number {
  if (cookie === null) return stored & 0xff;
  return (stored ^ cookie ^ vaByte1) & 0xff;
}

/** Inverse of decodeTypeIndex (what the kernel writes), for tests and fixtures. */
export function encodeTypeIndex(real: number, cookie: number | null, headerVa: bigint): number {
  return decodeTypeIndex(real, cookie, headerVa);
}

/** Offset of the object body inside _OBJECT_HEADER (the `Body` field, 0x30 on x64). */
export function objectBodyOffset(profile: Profile): number {
  return profile.offsetOf('_OBJECT_HEADER', 'Body');
}

/**
 * The kernel's object-type directory: ObHeaderCookie and ObTypeIndexTable[i] → type name, read once
 * per index through the kernel address space.
 */
export class ObjectTypes {
  private readonly names = new Map<number, string | null>();
  readonly cookie: number | null;
  private readonly tableVa: bigint | null;

  constructor(
    private readonly profile: Profile,
    private readonly kernel: VirtualMemory,
    symbolVa: (name: string) => bigint,
  ) {
    this.cookie = null;
    if (profile.hasSymbol('ObHeaderCookie')) {
      const r = kernel.read(symbolVa('ObHeaderCookie'), 1);
      this.cookie = r.missing.length === 0 ? (r.data[0] ?? 0) : null;
      this.cookieUnreadable = r.missing.length > 0;
    }
    this.tableVa = profile.hasSymbol('ObTypeIndexTable') ? symbolVa('ObTypeIndexTable') : null;
  }

  /** True when the build has a cookie but it could not be read (type checks then cannot succeed). */
  readonly cookieUnreadable: boolean = false;

  /** Name of the object type with real index `index`; null when unknown or unreadable. */
  name(index: number): string | null {
    if (this.names.has(index)) return this.names.get(index) ?? null;
    let name: string | null = null;
    let unreadable = false;
    // indices 0 and 1 are reserved (null and the 0xbad0b0b0 marker) in ObTypeIndexTable
    if (this.tableVa !== null && index >= 2 && index < 256) {
      const p = this.kernel.read(this.tableVa + BigInt(index * this.profile.data.pointerSize), 8);
      unreadable = p.missing.length > 0;
      if (!unreadable) {
        const typeVa = new DataView(p.data.buffer, p.data.byteOffset, 8).getBigUint64(0, true);
        if (typeVa !== 0n) {
          const t = StructView.fromVirtual(this.profile, '_OBJECT_TYPE', this.kernel, typeVa);
          const us = t.unicodeString('Name');
          if (us && us.length <= 128) name = readUnicodeString(this.kernel, us);
        }
      }
    }
    if (!unreadable) this.names.set(index, name); // a failed read (live memory) is asked again next time
    return name;
  }

  /** Real index of the type called `typeName` (scans the table once), or null. */
  indexOf(typeName: string): number | null {
    for (let i = 2; i < 256; i++) if (this.name(i) === typeName) return i;
    return null;
  }

  /** Decode the type of the _OBJECT_HEADER at `headerVa` whose stored TypeIndex is `stored`. */
  typeOf(stored: number, headerVa: bigint): string | null {
    return this.name(decodeTypeIndex(stored, this.cookie, headerVa));
  }
}
