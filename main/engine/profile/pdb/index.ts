import { formatError } from '../../errors.js';
import type { PdbIdentity, ProfileData } from '../model.js';
import { readDbi, readSectionHeaders, type DbiInfo, type SectionHeader } from './dbi.js';
import { identityOf, readPdbInfo, type PdbInfo } from './info-stream.js';
import { MsfFile } from './msf.js';
import { readSymbolRecords, type PdbSymbol } from './symbols.js';
import { readTypeStream } from './tpi.js';
import { TypeConverter } from './types-to-profile.js';

export { MSF_MAGIC, MAX_PDB_BYTES } from './msf.js';
export type { PdbSymbol } from './symbols.js';
export type { SectionHeader } from './dbi.js';

export interface PdbOptions {
  /** PDB file name recorded in the profile identity (a PDB does not store its own name). Default "ntkrnlmp.pdb". */
  readonly name?: string;
  /** Label used in error messages, e.g. the file path. Default "PDB". */
  readonly label?: string;
  /** ntoskrnl version string, when the caller knows it. */
  readonly build?: string;
}

const DEFAULT_NAME = 'ntkrnlmp.pdb';

/** GUID and age from the superblock, directory and PDB info stream only (cheap; used to verify downloads). */
export function parsePdbIdentity(bytes: Uint8Array, opts: Pick<PdbOptions, 'name' | 'label'> = {}): PdbIdentity {
  const msf = MsfFile.open(bytes, opts.label ?? 'PDB');
  return identityOf(readPdbInfo(msf), opts.name ?? DEFAULT_NAME);
}

export interface PdbSymbolTable {
  readonly info: PdbInfo;
  readonly dbi: DbiInfo;
  readonly sections: readonly SectionHeader[];
  /** S_PUB32 plus S_GDATA32/S_LDATA32 records, in stream order, with RVAs. */
  readonly symbols: readonly PdbSymbol[];
}

/** Identity, DBI header, section headers and every public/global data symbol with its RVA. */
export function readPdbSymbols(bytes: Uint8Array, opts: Pick<PdbOptions, 'label'> = {}): PdbSymbolTable {
  const msf = MsfFile.open(bytes, opts.label ?? 'PDB');
  return readSymbols(msf);
}

function readSymbols(msf: MsfFile): PdbSymbolTable {
  const info = readPdbInfo(msf);
  const dbi = readDbi(msf);
  const sections = readSectionHeaders(msf, dbi);
  if (dbi.hasOmap) throw formatError(`${msf.label} DBI stream`, 'uses OMAP address remapping, which is not supported');
  const symbols = msf.hasStream(dbi.symRecordStream) ? readSymbolRecords(msf, dbi.symRecordStream, sections) : [];
  return { info, dbi, sections, symbols };
}

function pointerSizeOf(machine: number): 4 | 8 {
  // IMAGE_FILE_MACHINE_I386 0x14c and ARMNT 0x1c4 are 32-bit; AMD64 0x8664 and ARM64 0xaa64 are 64-bit.
  return machine === 0x14c || machine === 0x1c4 || machine === 0x1c0 ? 4 : 8;
}

/**
 * Convert a whole PDB into a MemScope profile: every defined struct/union/class with its fields
 * (bitfields, arrays, pointers, enums resolved), every enum, and symbol RVAs (publics by their stored
 * name; global data symbols added under their undecorated name when no public has it).
 */
export function pdbToProfile(bytes: Uint8Array, opts: PdbOptions = {}): ProfileData {
  const msf = MsfFile.open(bytes, opts.label ?? 'PDB');
  const table = readSymbols(msf);
  const pointerSize = pointerSizeOf(table.dbi.machine);
  const converted = new TypeConverter(readTypeStream(msf), pointerSize).convert();
  const symbols: Record<string, number> = {};
  for (const s of table.symbols) if (s.kind === 'public' && !Object.hasOwn(symbols, s.name)) symbols[s.name] = s.rva;
  for (const s of table.symbols) if (s.kind !== 'public' && !Object.hasOwn(symbols, s.name)) symbols[s.name] = s.rva;
  return {
    pdb: identityOf(table.info, opts.name ?? DEFAULT_NAME),
    ...(opts.build ? { build: opts.build } : {}),
    pointerSize,
    baseTypes: converted.baseTypes,
    types: converted.types,
    enums: converted.enums,
    symbols,
  };
}
