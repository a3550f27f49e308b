import { formatError } from '../errors.js';
import type { ProfileData, TypeRef } from './model.js';

/**
 * An imported profile (ISF, Rekall), assembled the one way: its parts, the build when the caller
 * knows it, every by-value reference checked.
 */
export function assembleProfile(what: string, build: string | undefined, parts: Omit<ProfileData, 'build'>): ProfileData {
  const data: ProfileData = {
    pdb: parts.pdb,
    ...(build ? { build } : {}),
    pointerSize: parts.pointerSize,
    baseTypes: parts.baseTypes,
    types: parts.types,
    enums: parts.enums,
    symbols: parts.symbols,
  };
  checkReferences(data, what);
  return data;
}

/**
 * Every type a struct embeds by value must be defined: a field whose layout is unknown cannot be read.
 * Pointer targets may be names only (the engine never dereferences into a type it lacks without
 * asking the Profile, which reports the gap), so they are not checked.
 */
export function checkReferences(data: ProfileData, what: string): void {
  for (const [typeName, def] of Object.entries(data.types)) {
    for (const [fieldName, field] of Object.entries(def.fields)) {
      const missing = firstMissing(data, field.type);
      if (missing) throw formatError(what, `type ${typeName} field ${fieldName} refers to missing ${missing}`);
    }
  }
}

function firstMissing(data: ProfileData, ref: TypeRef): string | null {
  switch (ref.kind) {
    case 'base': return Object.hasOwn(data.baseTypes, ref.name) ? null : `base type ${ref.name}`;
    case 'struct': return Object.hasOwn(data.types, ref.name) ? null : `type ${ref.name}`;
    case 'enum': return Object.hasOwn(data.enums, ref.name) ? null : `enum ${ref.name}`;
    case 'array': return firstMissing(data, ref.subtype);
    case 'bitfield': return firstMissing(data, ref.type);
    case 'pointer':
    case 'function':
      return null;
  }
}

/** PDB names of the Windows kernel image (MP/UP, PAE/non-PAE). */
export const KERNEL_PDB_NAMES: readonly string[] = ['ntkrnlmp.pdb', 'ntoskrnl.pdb', 'ntkrnlpa.pdb', 'ntkrpamp.pdb'];

/** The least a kernel profile must hold for process listing (issue 3, fallback list of offsets). */
export const KERNEL_REQUIRED_TYPES: readonly string[] = ['_EPROCESS', '_KPROCESS', '_LIST_ENTRY', '_UNICODE_STRING'];
export const KERNEL_REQUIRED_SYMBOLS: readonly string[] = ['PsActiveProcessHead'];

export function isKernelPdb(name: string): boolean {
  return KERNEL_PDB_NAMES.includes(name.toLowerCase());
}

/** A kernel profile without the process structures is useless to the engine: say which piece is missing. */
export function checkKernelProfile(data: ProfileData, what: string): void {
  if (!isKernelPdb(data.pdb.name)) return;
  for (const t of KERNEL_REQUIRED_TYPES) {
    if (!Object.hasOwn(data.types, t)) throw formatError(what, `kernel profile lacks type ${t}`);
  }
  for (const s of KERNEL_REQUIRED_SYMBOLS) {
    if (!Object.hasOwn(data.symbols, s)) throw formatError(what, `kernel profile lacks symbol ${s}`);
  }
}

/** Normalise a GUID string to 32 upper-case hex digits (accepts braces/dashes); null if malformed. */
export function normaliseGuid(text: string): string | null {
  const t = text.replace(/[{}-]/g, '').toUpperCase();
  return /^[0-9A-F]{32}$/.test(t) ? t : null;
}

/** Split a symbol-server "GUIDAGE" key (32 hex GUID digits then the age in hex). */
export function parseGuidAge(key: string): { guid: string; age: number } | null {
  const t = key.trim().replace(/[{}-]/g, '').toUpperCase();
  if (!/^[0-9A-F]{33,40}$/.test(t)) return null;
  return { guid: t.slice(0, 32), age: Number.parseInt(t.slice(32), 16) };
}
