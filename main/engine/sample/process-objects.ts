import type { Profile } from '../profile/profile.js';
import { optionalMask, type KernelObject, type ObjectFactory } from './objects.js';
import { typeIndexOf } from './object-types.js';
import type { AddressSpace } from './paging.js';
import type { PlannedProcess } from './plan.js';
import { POOL_TYPE_FREE, POOL_TYPE_NONPAGED } from './pool.js';
import type { Prng } from './prng.js';

/** A planned process once its EPROCESS and ETHREADs exist in pool (address space filled in later). */
export interface BuiltProcess {
  readonly p: PlannedProcess;
  readonly obj: KernelObject;
  readonly threads: KernelObject[];
  as: AddressSpace;
  /** DirectoryTableBase as stored (low bits kept). */
  dtb: bigint;
  /** KVA-shadow UserDirectoryTableBase, 0 when none. */
  userDtb: bigint;
  peb: bigint;
}

/** Running (on the active list or DKOM-unlinked): has threads, a CID entry, a handle table. */
export const isAlive = (b: BuiltProcess): boolean => b.p.kind === 'live' || b.p.kind === 'dkom';

export interface ProcessObjectSpec {
  readonly profile: Profile;
  readonly rng: Prng;
  readonly objects: ObjectFactory;
  readonly ks: AddressSpace;
  readonly procTag: number;
  readonly threTag: number;
  readonly infoMasks: readonly number[];
}

/** One EPROCESS pool object per planned process (freed ones in a PoolType 0 block) and its ETHREADs. */
export function createProcessObjects(c: ProcessObjectSpec, plan: readonly PlannedProcess[]): BuiltProcess[] {
  const { profile, rng, objects } = c;
  const eprocSize = profile.sizeOf('_EPROCESS');
  const built: BuiltProcess[] = [];
  for (const p of plan) {
    const obj = objects.create({
      bodyType: '_EPROCESS', typeIndex: typeIndexOf('Process'), tag: c.procTag,
      poolType: p.kind === 'freed' ? POOL_TYPE_FREE : POOL_TYPE_NONPAGED,
      infoMask: rng.pick(c.infoMasks),
      ...(p.straddle ? { straddleBodyOffset: rng.int(0x100, eprocSize - 0x100) } : {}),
      pointerCount: p.kind === 'live' || p.kind === 'dkom' ? rng.int(16, 0x20000) : rng.int(1, 4),
      handleCount: p.kind === 'live' || p.kind === 'dkom' ? rng.int(1, 40) : 0,
      creatorPid: p.ppid,
    });
    const threads = p.threads.map(() =>
      objects.create({
        bodyType: '_ETHREAD', typeIndex: typeIndexOf('Thread'), tag: c.threTag, poolType: POOL_TYPE_NONPAGED,
        infoMask: rng.pick([0x08, 0x00].map((m) => optionalMask(profile, m))), pointerCount: rng.int(2, 64),
        handleCount: rng.int(0, 3), creatorPid: p.pid,
      }),
    );
    built.push({ p, obj, threads, as: c.ks, dtb: 0n, userDtb: 0n, peb: 0n });
  }
  const system = built[0];
  if (!system || system.p.pid !== 4) throw new RangeError('plan must start with System (pid 4)');
  return built;
}
