import type { Profile } from '../profile/profile.js';
import type { AddressSpace } from './paging.js';
import type { SparsePhysicalMemory } from './physmem.js';
import type { PoolArena, PoolBlock } from './pool.js';
import type { Prng } from './prng.js';
import { StructBuf } from './struct-buf.js';

/**
 * Executive objects in pool: [_POOL_HEADER][optional headers][_OBJECT_HEADER][body].
 * Optional headers are chosen by _OBJECT_HEADER.InfoMask; header with bit i sits at
 * ObpInfoMaskToOffset[InfoMask & ((1 << (i+1)) - 1)] bytes before the _OBJECT_HEADER, i.e. the lowest
 * bit is closest to it. Bit order as the kernel (and Volatility's `_calculate_optional_header_lengths`):
 * creator, name, handle, quota, process, audit, extended (handle-revocation on 10586), padding.
 */
const OPTIONAL_HEADERS = [
  'CREATOR_INFO', 'NAME_INFO', 'HANDLE_INFO', 'QUOTA_INFO', 'PROCESS_INFO',
  'AUDIT_INFO', 'EXTENDED_INFO', 'HANDLE_REVOCATION_INFO', 'PADDING_INFO',
] as const;

export interface OptionalHeader {
  readonly bit: number;
  readonly typeName: string;
  readonly size: number;
}

export function optionalHeaders(profile: Profile): OptionalHeader[] {
  const out: OptionalHeader[] = [];
  for (const h of OPTIONAL_HEADERS) {
    const typeName = `_OBJECT_HEADER_${h}`;
    if (profile.hasType(typeName)) out.push({ bit: 2 ** out.length, typeName, size: profile.sizeOf(typeName) });
  }
  return out;
}

/** The 256-byte ObpInfoMaskToOffset table the kernel uses (offsets back from the _OBJECT_HEADER). */
export function infoMaskToOffsetTable(profile: Profile): Uint8Array {
  const hs = optionalHeaders(profile);
  const t = new Uint8Array(256);
  for (let m = 0; m < 256; m++) t[m] = hs.reduce((a, h) => a + (m & h.bit ? h.size : 0), 0);
  return t;
}

export interface KernelObject {
  readonly block: PoolBlock;
  readonly headerVa: bigint; // _OBJECT_HEADER
  readonly bodyVa: bigint;
  readonly header: StructBuf;
  readonly body: StructBuf;
  /** Body bytes (within block.bytes) for extra payload written after the struct. */
  readonly bodyOffset: number;
  readonly infoMask: number;
}

export interface ObjectSpec {
  readonly bodyType: string;
  readonly extraBytes?: number;
  readonly typeIndex: number;
  readonly tag: number;
  readonly poolType: number;
  readonly infoMask: number;
  /** Body offset that must start the next page (straddling allocation). */
  readonly straddleBodyOffset?: number;
  readonly pointerCount: number;
  readonly handleCount: number;
  readonly creatorPid?: number;
}

export class ObjectFactory {
  private readonly headers: OptionalHeader[];
  private readonly bodyOffsetInHeader: number;
  private readonly poolHeaderSize: number;

  constructor(
    private readonly profile: Profile,
    private readonly arena: PoolArena,
    /** ObHeaderCookie, or null before Windows 10 (TypeIndex stored in clear). */
    private readonly cookie: number | null,
  ) {
    this.headers = optionalHeaders(profile);
    this.bodyOffsetInHeader = profile.offsetOf('_OBJECT_HEADER', 'Body');
    this.poolHeaderSize = profile.sizeOf('_POOL_HEADER');
  }

  /** Windows 10+: TypeIndex = index ^ ObHeaderCookie ^ second byte of the _OBJECT_HEADER address. */
  encodeTypeIndex(index: number, headerVa: bigint): number {
    if (this.cookie === null) return index;
    return (index ^ this.cookie ^ Number((headerVa >> 8n) & 0xffn)) & 0xff;
  }

  optionalLength(infoMask: number): number {
    return this.headers.reduce((a, h) => a + (infoMask & h.bit ? h.size : 0), 0);
  }

  create(spec: ObjectSpec): KernelObject {
    const optLen = this.optionalLength(spec.infoMask);
    const bodyStart = optLen + this.bodyOffsetInHeader; // within the payload after the pool header
    const payload = bodyStart + this.profile.sizeOf(spec.bodyType) + (spec.extraBytes ?? 0);
    const straddleAt = spec.straddleBodyOffset === undefined ? undefined : bodyStart + spec.straddleBodyOffset;
    const block = this.arena.alloc(payload, spec.tag, spec.poolType, straddleAt);
    const ohOff = this.poolHeaderSize + optLen;
    const headerVa = block.va + BigInt(ohOff);
    const bodyOffset = ohOff + this.bodyOffsetInHeader;
    const header = new StructBuf(this.profile, '_OBJECT_HEADER', block.bytes, ohOff);
    header
      .set('PointerCount', spec.pointerCount)
      .set('HandleCount', spec.handleCount)
      .set('TypeIndex', this.encodeTypeIndex(spec.typeIndex, headerVa))
      .set('InfoMask', spec.infoMask);
    // Optional headers, each at ObpInfoMaskToOffset[mask & (bit | bit-1)] before the object header.
    for (const h of this.headers) {
      if (!(spec.infoMask & h.bit)) continue;
      const off = ohOff - this.optionalLength(spec.infoMask & (h.bit | (h.bit - 1)));
      const sb = new StructBuf(this.profile, h.typeName, block.bytes, off);
      const va = block.va + BigInt(off);
      if (h.typeName.endsWith('CREATOR_INFO')) {
        if (sb.has('TypeList')) sb.emptyList('TypeList', va);
        sb.setIf('CreatorUniqueProcess', spec.creatorPid ?? 4);
      } else if (h.typeName.endsWith('QUOTA_INFO')) {
        sb.setIf('NonPagedPoolCharge', this.profile.sizeOf(spec.bodyType));
      }
    }
    return {
      block, headerVa, bodyVa: block.va + BigInt(bodyOffset), header,
      body: new StructBuf(this.profile, spec.bodyType, block.bytes, bodyOffset),
      bodyOffset, infoMask: spec.infoMask,
    };
  }
}

/** Keep only the InfoMask bits whose optional header type exists in this build's profile. */
export function optionalMask(profile: Profile, mask: number): number {
  const names = ['CREATOR_INFO', 'NAME_INFO', 'HANDLE_INFO', 'QUOTA_INFO'];
  let m = 0;
  names.forEach((n, i) => {
    if (mask & (1 << i) && profile.hasType(`_OBJECT_HEADER_${n}`)) m |= 1 << i;
  });
  return m;
}

/** InfoMasks a process object is drawn from (name info, creator info, quota info, none). */
export function processInfoMasks(profile: Profile): number[] {
  return [0x08, 0x08, 0x09, 0x0c, 0x00].map((m) => optionalMask(profile, m));
}

/** What a stage that plants process-like objects (decoys, remnants) writes with. */
export interface ObjectPlanting {
  readonly profile: Profile;
  readonly rng: Prng;
  readonly mem: SparsePhysicalMemory;
  /** Kernel address space (System's). */
  readonly ks: AddressSpace;
  readonly objects: ObjectFactory;
  readonly procTag: number;
}
