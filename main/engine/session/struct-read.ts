/** Struct reads: a profile type laid over memory at a kernel VA or a PA, with its bytes. */
import { usageError } from '../errors.js';
import { dumpStruct, physicalMemory, type StructDump } from '../plugins/struct/index.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import type { WindowsKernel } from '../windows/kernel.js';
import { hex } from '../util/hex.js';
import { structBytes } from './wire.js';

export interface StructRead { readonly key: string; readonly dump: StructDump; readonly bytes: string }

/** A profile type laid over memory at a kernel VA or a PA, with its bytes (`??` where unreadable). */
export function readStruct(k: WindowsKernel, source: PhysicalSource, type: string, address: bigint, space: 'virtual' | 'physical'): StructRead {
  if (!k.profile.hasType(type)) throw usageError(`profile ${k.profile.label} has no type ${type}`);
  const size = k.profile.sizeOf(type);
  if (space === 'physical' && address + BigInt(size) > BigInt(source.size)) {
    throw usageError(`${type} at PA ${hex(address)} would end past the end of physical memory (${source.size} bytes)`);
  }
  const memory = space === 'virtual' ? k.kernel : physicalMemory(source);
  const dump = dumpStruct(k.profile, type, memory, address, space, k.kernel);
  return { key: `${space}:${hex(address)}:${type}`, dump, bytes: structBytes(memory, address, size) };
}
