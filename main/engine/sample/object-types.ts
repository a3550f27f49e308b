import type { Profile } from '../profile/profile.js';
import { utf16 } from './bytes.js';
import type { KernelImage } from './kernel-image.js';
import { optionalMask, type ObjectFactory } from './objects.js';
import { POOL_TYPE_NONPAGED, tagValue } from './pool.js';

/** Windows object type indices (stable since Windows 7): ObTypeIndexTable[7]=Process, [8]=Thread. */
const TYPE_NAMES = ['Type', 'Directory', 'SymbolicLink', 'Token', 'Job', 'Process', 'Thread'] as const;
const FIRST_TYPE_INDEX = 2;
export const typeIndexOf = (name: (typeof TYPE_NAMES)[number]): number => FIRST_TYPE_INDEX + TYPE_NAMES.indexOf(name);

/**
 * One _OBJECT_TYPE per type name and ObTypeIndexTable pointing at them, so an _OBJECT_HEADER's
 * TypeIndex decodes to a named type. Returns the VA of the Process type's Key field (which holds
 * the process pool tag: a natural decoy for a tag scanner), or null when the build has no Key.
 */
export function writeObjectTypes(profile: Profile, objects: ObjectFactory, kernel: KernelImage, procTag: number, threTag: number): bigint | null {
  let processTypeKey: bigint | null = null;
  const typeTable = new Uint8Array(8 * (FIRST_TYPE_INDEX + TYPE_NAMES.length));
  const ttv = new DataView(typeTable.buffer);
  ttv.setBigUint64(8, 0xbad0b0b0n, true); // index 1 is this marker on real systems
  TYPE_NAMES.forEach((name, i) => {
    const nameBytes = utf16(name);
    const o = objects.create({
      bodyType: '_OBJECT_TYPE', extraBytes: nameBytes.length + 2, typeIndex: typeIndexOf('Type'),
      tag: tagValue('ObjT'), poolType: POOL_TYPE_NONPAGED, infoMask: 0x03 & optionalMask(profile, 0x03),
      pointerCount: 2, handleCount: 0,
    });
    const nameVa = o.bodyVa + BigInt(profile.sizeOf('_OBJECT_TYPE'));
    o.block.bytes.set(nameBytes, o.bodyOffset + profile.sizeOf('_OBJECT_TYPE'));
    o.body.emptyList('TypeList', o.bodyVa)
      .set('Name.Length', nameBytes.length).set('Name.MaximumLength', nameBytes.length + 2).set('Name.Buffer', nameVa)
      .set('Index', FIRST_TYPE_INDEX + i);
    if (name === 'Process' && o.body.setIf('Key', procTag)) processTypeKey = o.bodyVa + BigInt(o.body.offsetOf('Key'));
    if (name === 'Thread') o.body.setIf('Key', threTag);
    ttv.setBigUint64(8 * (FIRST_TYPE_INDEX + i), o.bodyVa, true);
  });
  kernel.writeSymbol('ObTypeIndexTable', typeTable);
  return processTypeKey;
}
