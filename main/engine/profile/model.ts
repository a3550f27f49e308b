/**
 * The kernel profile: the single source of truth for every structure offset and symbol RVA the engine
 * uses. Shape follows Volatility 3's ISF (types are data, referenced by name), normalised to camelCase.
 * A plugin reads `_EPROCESS.ImageFileName` through the Profile accessor, never by literal offset.
 */

export type TypeRef =
  | { readonly kind: 'base'; readonly name: string }
  | { readonly kind: 'struct'; readonly name: string } // a named struct or union (see ProfileData.types)
  | { readonly kind: 'enum'; readonly name: string }
  | { readonly kind: 'pointer'; readonly subtype: TypeRef }
  | { readonly kind: 'array'; readonly count: number; readonly subtype: TypeRef }
  | { readonly kind: 'bitfield'; readonly bitPosition: number; readonly bitLength: number; readonly type: TypeRef }
  | { readonly kind: 'function' };

export interface BaseType {
  readonly size: number;
  readonly signed: boolean;
  readonly kind: 'int' | 'char' | 'bool' | 'float' | 'void';
}

export interface FieldDef {
  readonly offset: number;
  readonly type: TypeRef;
}

export interface StructDef {
  readonly kind: 'struct' | 'union';
  readonly size: number;
  readonly fields: Readonly<Record<string, FieldDef>>;
}

export interface EnumDef {
  readonly size: number;
  /** Name of the base type (e.g. "long"). */
  readonly base: string;
  readonly constants: Readonly<Record<string, number>>;
}

export interface PdbIdentity {
  /** e.g. "ntkrnlmp.pdb" */
  readonly name: string;
  /** 32 upper-case hex digits, as in a symbol-server path */
  readonly guid: string;
  readonly age: number;
}

export interface ProfileData {
  readonly pdb: PdbIdentity;
  /** ntoskrnl version string when known, e.g. "10.0.19041.508" */
  readonly build?: string;
  readonly pointerSize: 8 | 4;
  readonly baseTypes: Readonly<Record<string, BaseType>>;
  readonly types: Readonly<Record<string, StructDef>>;
  readonly enums: Readonly<Record<string, EnumDef>>;
  /** Symbol name -> RVA from the image base. */
  readonly symbols: Readonly<Record<string, number>>;
  /** Present only on a profile derived from memory (windows/heuristic-profile/) when no real one was
   *  available: how much to trust it and, per field, what in memory confirmed it. */
  readonly heuristic?: HeuristicInfo;
}

export interface HeuristicInfo {
  /** 0..1; below ~0.5 some offsets rest on priors alone (see evidence). */
  readonly confidence: number;
  /** "_EPROCESS.CreateTime" -> "0x468: FILETIME 2000..2100 on 27/27 listed processes, …" */
  readonly evidence: Readonly<Record<string, string>>;
}

/** Where a resolved profile came from, reported to the user (issue: profile resolution). */
export type ProfileSource = 'bundled' | 'cache' | 'symbol-server' | 'imported' | 'heuristic';

/** "GUIDAGE" key as used by symbol servers: 32 hex GUID digits followed by the age in hex. */
export function guidAgeKey(pdb: Pick<PdbIdentity, 'guid' | 'age'>): string {
  return pdb.guid.toUpperCase() + pdb.age.toString(16).toUpperCase();
}
