import type { Profile } from '../profile/profile.js';
import { slotVa } from './kernel-layout.js';
import type { AddressSpace } from './paging.js';
import { alignUp } from './pe.js';
import { PAGE_SIZE, type SparsePhysicalMemory } from './physmem.js';
import type { Prng } from './prng.js';
import { StructBuf } from './struct-buf.js';

/** One _MM_SESSION_SPACE per session id (0 services, 1 the console user) in session space; id -> VA. */
export function createSessionSpaces(profile: Profile, rng: Prng, mem: SparsePhysicalMemory, ks: AddressSpace, sessionSlot: number): Map<number, bigint> {
  const sessionVas = new Map<number, bigint>();
  const sessionSize = profile.sizeOf('_MM_SESSION_SPACE');
  let sessionCursor = slotVa(sessionSlot) + (BigInt(rng.int(0, 0xff)) << 30n);
  for (const id of [0, 1]) {
    const va = sessionCursor;
    for (let off = 0; off < sessionSize; off += PAGE_SIZE) ks.map4k(va + BigInt(off), mem.allocPage(), { writable: true });
    sessionCursor += BigInt(alignUp(sessionSize, PAGE_SIZE) + PAGE_SIZE * rng.int(1, 8));
    const s = new StructBuf(profile, '_MM_SESSION_SPACE', new Uint8Array(profile.offsetOf('_MM_SESSION_SPACE', 'ProcessList') + 16));
    s.set('ReferenceCount', 1).set('SessionId', id);
    ks.write(va, s.buf);
    sessionVas.set(id, va);
  }
  return sessionVas;
}
