/** Struct reads: a profile type laid over memory at an address of any of the session's spaces, with its bytes. */
import { usageError } from '../errors.js';
import { dumpStruct, physicalMemory, type StructDump } from '../plugins/struct/index.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import type { WindowsKernel } from '../windows/kernel.js';
import { hex } from '../util/hex.js';
import type { MemorySpace } from './spaces.js';
import { structBytes } from './wire.js';

export interface StructRead { readonly key: string; readonly dump: StructDump; readonly bytes: string }

/**
 * `type` laid over `space` at `address`, its bytes (`??` where unreadable). Strings a field points
 * at are read in the same space, except from physical memory, where they are kernel VAs.
 */
export function readStruct(k: WindowsKernel, source: PhysicalSource, space: MemorySpace, type: string, address: bigint): StructRead {
  if (!k.profile.hasType(type)) throw usageError(`profile ${k.profile.label} has no type ${type}`);
  const size = k.profile.sizeOf(type);
  space.check(address, Math.max(size, 1));
  const memory = space.memory ?? physicalMemory(source);
  const kind = space.ref.kind === 'physical' ? 'physical' : 'virtual';
  const dump = dumpStruct(k.profile, type, memory, address, kind, space.memory ?? k.kernel);
  const key = space.ref.kind === 'process' ? `process-${hex(space.ref.dtb)}:${hex(address)}:${type}` : `${kind}:${hex(address)}:${type}`;
  return { key, dump, bytes: structBytes(memory, address, size) };
}
