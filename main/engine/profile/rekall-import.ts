import { formatError } from '../errors.js';
import { readJsonBytes } from './decompress.js';
import { arrayAt, dict, entriesOf, isObject, objectAt, stringAt, uintAt, type JsonObject } from './json-guard.js';
import type { BaseType, EnumDef, FieldDef, ProfileData, StructDef, TypeRef } from './model.js';
import { assembleProfile, parseGuidAge } from './validate.js';

/**
 * Rekall profile (as written by Rekall's `parse_pdb`, rekall-core/rekall/plugins/tools/mspdb.py):
 *   $METADATA  {ProfileClass, Type:"Profile", PDBFile, GUID_AGE, arch:"AMD64"|"I386", …}
 *   $STRUCTS   name → [size, {field: [offset, [target, {args}]]}]
 *   $ENUMS     name → {"<value>": "NAME"}
 *   $CONSTANTS name → RVA (data symbols); $FUNCTIONS name → RVA (code symbols)
 * Vtype targets: a base or struct name with {}, or "Pointer" {target, target_args}, "Array" {count |
 * size, target, target_args}, "BitField" {start_bit, end_bit, target}, "Enumeration" {enum_name,
 * target}, "Function", "Void", "UnicodeString"/"String" {length}.
 */

const MAX_SIZE = 0xffffffff;
const MAX_DEPTH = 32;

/** Rekall's LLP64 (Windows) native types; "long" is 4 bytes on both architectures. */
function rekallBaseTypes(pointerSize: 4 | 8): Record<string, BaseType> {
  const b = dict<BaseType>();
  const add = (names: string[], size: number, signed: boolean, kind: BaseType['kind']) => {
    for (const n of names) b[n] = { size, signed, kind };
  };
  add(['char', 'signed char'], 1, true, 'char');
  add(['unsigned char'], 1, false, 'char');
  add(['short', 'short int'], 2, true, 'int');
  add(['unsigned short', 'unsigned short int'], 2, false, 'int');
  add(['int', 'long', 'long int'], 4, true, 'int');
  add(['unsigned int', 'unsigned long', 'unsigned long int'], 4, false, 'int');
  add(['long long', 'long long int'], 8, true, 'int');
  add(['unsigned long long', 'unsigned long long int'], 8, false, 'int');
  add(['float'], 4, true, 'float');
  add(['double', 'long double'], 8, true, 'float');
  add(['bool', '_Bool'], 1, false, 'bool');
  add(['wchar'], 2, false, 'int');
  add(['void'], 0, false, 'void');
  add(['pointer'], pointerSize, false, 'int');
  return b;
}

const BASE_ALIASES: Readonly<Record<string, string>> = { Void: 'void', UnicodeString: 'wchar', String: 'char' };

export interface RekallOptions {
  readonly build?: string;
}

export async function importRekallBytes(bytes: Uint8Array, what: string, opts: RekallOptions = {}): Promise<ProfileData> {
  return rekallToProfile(await readJsonBytes(bytes, what), what, opts);
}

export function looksLikeRekall(json: unknown): boolean {
  return isObject(json) && isObject(json['$METADATA']) && isObject(json['$STRUCTS']);
}

export function rekallToProfile(json: unknown, what: string, opts: RekallOptions = {}): ProfileData {
  const root = objectAt(json, what, 'Rekall profile');
  const meta = objectAt(root['$METADATA'], what, 'Rekall $METADATA');
  const guidAgeText = stringAt(meta['GUID_AGE'], what, 'Rekall $METADATA.GUID_AGE');
  const guidAge = parseGuidAge(guidAgeText);
  if (!guidAge) throw formatError(what, `Rekall $METADATA.GUID_AGE "${guidAgeText}" is not 32 hex GUID digits followed by a hex age`);
  const arch = typeof meta['arch'] === 'string' ? meta['arch'] : 'AMD64';
  const pointerSize: 4 | 8 = arch === 'I386' ? 4 : 8;
  const pdbName = typeof meta['PDBFile'] === 'string' ? meta['PDBFile'] : 'ntkrnlmp.pdb';

  const baseTypes = rekallBaseTypes(pointerSize);
  const enums = readEnums(isObject(root['$ENUMS']) ? root['$ENUMS'] : {}, what);
  const types = dict<StructDef>();
  const structs = objectAt(root['$STRUCTS'], what, 'Rekall $STRUCTS');
  const ctx: RefContext = { what, baseTypes, enums, structNames: new Set(Object.keys(structs)) };
  for (const [name, v] of entriesOf(structs)) {
    const p = `Rekall $STRUCTS.${name}`;
    const def = arrayAt(v, what, p);
    const fields = dict<FieldDef>();
    for (const [fname, fv] of entriesOf(objectAt(def[1], what, `${p}[1] (fields)`))) {
      const fp = `${p}.${fname}`;
      const f = arrayAt(fv, what, fp);
      fields[fname] = { offset: uintAt(f[0], what, `${fp}[0] (offset)`, MAX_SIZE), type: readVtype(f[1], ctx, `${fp}[1]`, 0) };
    }
    types[name] = { kind: 'struct', size: uintAt(def[0], what, `${p}[0] (size)`, MAX_SIZE), fields };
  }

  const symbols = dict<number>();
  for (const section of ['$FUNCTIONS', '$CONSTANTS'] as const) {
    const s = root[section];
    if (s === undefined) continue;
    for (const [name, rva] of entriesOf(objectAt(s, what, `Rekall ${section}`))) symbols[name] = uintAt(rva, what, `Rekall ${section}.${name}`);
  }

  return assembleProfile(what, opts.build, { pdb: { name: pdbName, guid: guidAge.guid, age: guidAge.age }, pointerSize, baseTypes, types, enums, symbols });
}

interface RefContext {
  readonly what: string;
  readonly baseTypes: Record<string, BaseType>;
  readonly enums: Record<string, EnumDef>;
  readonly structNames: ReadonlySet<string>;
}

/** A vtype [target, args] (args optional) → TypeRef. */
function readVtype(v: unknown, ctx: RefContext, path: string, depth: number): TypeRef {
  if (depth > MAX_DEPTH) throw formatError(ctx.what, `${path} nests deeper than ${MAX_DEPTH} levels`);
  const arr = typeof v === 'string' ? [v] : arrayAt(v, ctx.what, path);
  const target = stringAt(arr[0], ctx.what, `${path}[0] (target)`);
  const args: JsonObject = isObject(arr[1]) ? arr[1] : {};
  return fromTarget(target, args, ctx, path, depth);
}

function fromTarget(target: string, args: JsonObject, ctx: RefContext, path: string, depth: number): TypeRef {
  const inner = (): TypeRef => {
    const t = stringAt(args['target'], ctx.what, `${path}.target`);
    return fromTarget(t, isObject(args['target_args']) ? args['target_args'] : {}, ctx, `${path}.target`, depth + 1);
  };
  switch (target) {
    case 'Pointer':
      return { kind: 'pointer', subtype: args['target'] === undefined ? { kind: 'base', name: 'void' } : inner() };
    case 'Array': {
      const sub = inner();
      let count: number;
      if (args['count'] !== undefined) count = uintAt(args['count'], ctx.what, `${path}.count`, MAX_SIZE);
      else {
        // un-post-processed arrays carry the byte size only (mspdb.py PostProcessVTypes)
        const size = uintAt(args['size'], ctx.what, `${path}.size (array has neither count nor size)`, MAX_SIZE);
        const elem = sizeOf(sub, ctx);
        if (!elem) throw formatError(ctx.what, `${path}: cannot size array elements of unknown size`);
        count = Math.floor(size / elem);
      }
      return { kind: 'array', count, subtype: sub };
    }
    case 'BitField': {
      const start = uintAt(args['start_bit'], ctx.what, `${path}.start_bit`, 63);
      const end = uintAt(args['end_bit'], ctx.what, `${path}.end_bit`, 64);
      if (end <= start) throw formatError(ctx.what, `${path}: end_bit ${end} is not after start_bit ${start}`);
      const base = args['target'] === undefined ? ({ kind: 'base', name: 'unsigned long' } as const) : inner();
      return { kind: 'bitfield', bitPosition: start, bitLength: end - start, type: base };
    }
    case 'Enumeration': {
      const name = stringAt(args['enum_name'], ctx.what, `${path}.enum_name`);
      if (!Object.hasOwn(ctx.enums, name)) {
        // Rekall may reference an enum it did not export; keep the underlying integer type
        return args['target'] === undefined ? { kind: 'base', name: 'long' } : inner();
      }
      return { kind: 'enum', name };
    }
    case 'Function':
      return { kind: 'function' };
    case 'UnicodeString':
    case 'String': {
      const base: TypeRef = { kind: 'base', name: BASE_ALIASES[target] as string };
      if (args['length'] === undefined) return base;
      return { kind: 'array', count: uintAt(args['length'], ctx.what, `${path}.length`, MAX_SIZE), subtype: base };
    }
    default: {
      const alias = BASE_ALIASES[target];
      if (alias) return { kind: 'base', name: alias };
      if (Object.hasOwn(ctx.baseTypes, target)) return { kind: 'base', name: target };
      if (Object.hasOwn(ctx.enums, target)) return { kind: 'enum', name: target };
      return { kind: 'struct', name: target };
    }
  }
}

function sizeOf(ref: TypeRef, ctx: RefContext): number {
  switch (ref.kind) {
    case 'base': return ctx.baseTypes[ref.name]?.size ?? 0;
    case 'pointer': return ctx.baseTypes['pointer']?.size ?? 8;
    case 'enum': return ctx.enums[ref.name]?.size ?? 4;
    default: return 0;
  }
}

/** $ENUMS: name → {"value": "NAME"} (Rekall keys by value) → constants NAME → value. */
function readEnums(o: JsonObject, what: string): Record<string, EnumDef> {
  const out = dict<EnumDef>();
  for (const [name, v] of entriesOf(o)) {
    const constants = dict<number>();
    for (const [value, cname] of entriesOf(objectAt(v, what, `Rekall $ENUMS.${name}`))) {
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw formatError(what, `Rekall $ENUMS.${name} key "${value}" is not an integer`);
      constants[stringAt(cname, what, `Rekall $ENUMS.${name}.${value}`)] = n;
    }
    out[name] = { size: 4, base: 'long', constants };
  }
  return out;
}
