import type { PdbIdentity } from '../model.js';
import { Cursor } from './cursor.js';
import type { MsfFile } from './msf.js';

/** Fixed stream numbers (LLVM docs "The PDB File Format": stream 1 = PDB info, 2 = TPI, 3 = DBI). */
export const PDB_STREAM = 1;
export const TPI_STREAM = 2;
export const DBI_STREAM = 3;

export interface PdbInfo {
  readonly version: number;
  readonly signature: number;
  readonly age: number;
  /** 32 upper-case hex digits in symbol-server order (Data1, Data2, Data3 little-endian, then Data4 bytes). */
  readonly guid: string;
}

/** PDB info stream header: u32 Version, u32 Signature, u32 Age, GUID UniqueId (then the named stream map, unused here). */
export function readPdbInfo(msf: MsfFile): PdbInfo {
  const c = new Cursor(msf.stream(PDB_STREAM, 'PDB info'), `${msf.label} PDB info stream`);
  const version = c.u32();
  const signature = c.u32();
  const age = c.u32();
  const d1 = c.u32();
  const d2 = c.u16();
  const d3 = c.u16();
  const d4 = c.bytesOf(8);
  // VC70 (20000404) is what every PDB with a GUID uses; older VC2/VC4 formats have no GUID.
  if (version < 20000404) c.fail(`version ${version} predates the PDB 7.0 format (no GUID)`);
  const guid = (
    d1.toString(16).padStart(8, '0') +
    d2.toString(16).padStart(4, '0') +
    d3.toString(16).padStart(4, '0') +
    Array.from(d4, (b) => b.toString(16).padStart(2, '0')).join('')
  ).toUpperCase();
  return { version, signature, age, guid };
}

export function identityOf(info: PdbInfo, name: string): PdbIdentity {
  return { name, guid: info.guid, age: info.age };
}
