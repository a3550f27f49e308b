import type { Profile } from '../profile/profile.js';
import { hex } from '../util/hex.js';
import { u32 } from './bytes.js';
import { optionalMask, type KernelObject, type ObjectFactory, type ObjectPlanting } from './objects.js';
import { typeIndexOf } from './object-types.js';
import { alignUp } from './pe.js';
import { PAGE_SIZE } from './physmem.js';
import { POOL_TYPE_FREE, POOL_TYPE_NONPAGED } from './pool.js';
import type { Prng } from './prng.js';
import { StructBuf } from './struct-buf.js';
import type { GroundTruth } from './truth.js';

export type Decoy = GroundTruth['decoys'][number];

/**
 * A freed Proc block whose memory was reused: header intact, EPROCESS bytes overwritten. It must be
 * rejected (not a process), unlike a freed block whose EPROCESS still validates.
 */
export function plantReusedProcessBlock(profile: Profile, rng: Prng, objects: ObjectFactory, procTag: number, infoMasks: readonly number[]): KernelObject {
  const reused = objects.create({
    bodyType: '_EPROCESS', typeIndex: typeIndexOf('Process'), tag: procTag, poolType: POOL_TYPE_FREE,
    infoMask: rng.pick(infoMasks), pointerCount: 0, handleCount: 0,
  });
  reused.block.bytes.set(rng.bytes(profile.sizeOf('_EPROCESS')), reused.bodyOffset);
  reused.body.set('UniqueProcessId', 4 * rng.int(0x40, 0x3000) + 2);
  reused.body.setBytes('ImageFileName', Uint8Array.of(0x01, ...rng.bytes(13)));
  return reused;
}

export interface DecoyContext extends ObjectPlanting {
  readonly cookie: number | null;
  /** VA of the Process _OBJECT_TYPE's Key field, or null. */
  readonly processTypeKey: bigint | null;
  readonly reused: KernelObject;
}

/** Things that look like a process to a tag scanner but are not; each recorded in the truth. */
export function plantDecoys(c: DecoyContext): Decoy[] {
  const { profile, rng, mem, ks, objects, procTag, cookie } = c;
  const decoys: Decoy[] = [];
  {
    const pa = mem.allocPage();
    const junk = rng.bytes(PAGE_SIZE);
    const off = 16 * rng.int(4, 200) + 6; // not 16-byte aligned: cannot be a pool header's tag
    junk.set(u32(procTag), off);
    mem.write(pa, junk);
    decoys.push({ physicalOffset: hex(pa + off - 4), why: 'process pool tag bytes inside random data, not on a 16-byte pool boundary', kind: 'unaligned-tag' });
  }
  {
    // A well-formed-looking pool block in a page no page table maps, whose object type is not Process
    // whichever address bits 12–15 a reader assumes for the header.
    const pa = mem.allocPage();
    const optLen = objects.optionalLength(0x08 & optionalMask(profile, 0x08));
    const phs = profile.sizeOf('_POOL_HEADER');
    const ohOff = phs + optLen;
    const total = alignUp(ohOff + profile.offsetOf('_OBJECT_HEADER', 'Body') + profile.sizeOf('_EPROCESS'), 16);
    const at = 16 * rng.int(0, Math.floor((PAGE_SIZE - total) / 16));
    const bytes = new Uint8Array(total);
    new StructBuf(profile, '_POOL_HEADER', bytes).set('BlockSize', total / 16).set('PoolType', POOL_TYPE_NONPAGED).set('PoolTag', procTag);
    const lowNibble = ((pa + at + ohOff) >> 8) & 0xf;
    let stored = rng.int(0, 0xff);
    while ([typeIndexOf('Process'), typeIndexOf('Thread')].some((t) => ((stored ^ (cookie ?? 0) ^ lowNibble) & 0xf) === (t & 0xf))) stored = (stored + 1) & 0xff;
    const oh = new StructBuf(profile, '_OBJECT_HEADER', bytes, ohOff);
    oh.set('PointerCount', 1).set('InfoMask', 0x08 & optionalMask(profile, 0x08)).set('TypeIndex', cookie === null ? typeIndexOf('Token') : stored);
    const body = new StructBuf(profile, '_EPROCESS', bytes, ohOff + profile.offsetOf('_OBJECT_HEADER', 'Body'));
    body.set('UniqueProcessId', 4 * rng.int(100, 2000)).setBytes('ImageFileName', new TextEncoder().encode('decoy.exe'));
    mem.write(pa + at, bytes);
    decoys.push({ physicalOffset: hex(pa + at), why: 'Proc pool header in memory no kernel page table maps; its object type is not Process', kind: 'wrong-object-type' });
  }
  if (c.processTypeKey !== null) {
    const pa = ks.translate(c.processTypeKey);
    if (pa === null) throw new RangeError('Process type object not mapped');
    decoys.push({ physicalOffset: hex(pa - profile.offsetOf('_POOL_HEADER', 'PoolTag')), why: "the Process _OBJECT_TYPE's Key field holds the pool tag; no pool header there", kind: 'object-type-key' });
  }
  {
    const pa = ks.translate(c.reused.block.va);
    if (pa === null) throw new RangeError('reused freed block not mapped');
    decoys.push({ physicalOffset: hex(pa), why: 'freed pool block (PoolType 0) whose EPROCESS bytes were overwritten: not a process', kind: 'freed-pool-block-reused' });
  }
  return decoys;
}
