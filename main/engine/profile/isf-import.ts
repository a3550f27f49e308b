import { formatError } from '../errors.js';
import { readJsonBytes } from './decompress.js';
import { dict, entriesOf, intAt, isObject, objectAt, stringAt, uintAt, type JsonObject } from './json-guard.js';
import type { BaseType, EnumDef, FieldDef, ProfileData, StructDef, TypeRef } from './model.js';
import { assembleProfile, normaliseGuid } from './validate.js';

/**
 * Volatility 3 Intermediate Symbol Format (ISF, schema 6.x) → ProfileData.
 * ISF layout: `base_types.<n>.{size,signed,kind}`, `user_types.<n>.{kind,size,fields.<f>.{offset,type}}`,
 * `enums.<n>.{size,base,constants}`, `symbols.<n>.address` (RVA), `metadata.windows.pdb.{GUID,age,database}`.
 */

/** Largest struct size / field offset / array count we believe: PDB records hold them as 32-bit values. */
const MAX_TYPE_SIZE = 0xffffffff;
/** Type references nest (pointer → array → …) only a few levels in real data; bound it against loops. */
const MAX_REF_DEPTH = 32;

const BASE_KINDS: readonly BaseType['kind'][] = ['int', 'char', 'bool', 'float', 'void'];

export interface IsfOptions {
  /** ntoskrnl version string to attach (the ISF itself does not carry it). */
  readonly build?: string;
}

/** Decompress (gzip/xz/plain by magic) and convert an ISF file's bytes. `what` names the file in errors. */
export async function importIsfBytes(bytes: Uint8Array, what: string, opts: IsfOptions = {}): Promise<ProfileData> {
  return isfToProfile(await readJsonBytes(bytes, what), what, opts);
}

export function isfToProfile(json: unknown, what: string, opts: IsfOptions = {}): ProfileData {
  const root = objectAt(json, what, 'ISF document');
  const metadata = objectAt(root['metadata'], what, 'ISF metadata');
  const windows = objectAt(metadata['windows'], what, 'ISF metadata.windows (not a Windows symbol table?)');
  const pdbJson = objectAt(windows['pdb'], what, 'ISF metadata.windows.pdb');
  const guid = normaliseGuid(stringAt(pdbJson['GUID'], what, 'ISF metadata.windows.pdb.GUID'));
  if (!guid) throw formatError(what, 'ISF metadata.windows.pdb.GUID is not 32 hex digits');
  const age = uintAt(pdbJson['age'], what, 'ISF metadata.windows.pdb.age', 0xffffffff);
  const database = stringAt(pdbJson['database'], what, 'ISF metadata.windows.pdb.database');

  const baseTypes = readBaseTypes(objectAt(root['base_types'], what, 'ISF base_types'), what);
  const types = readUserTypes(objectAt(root['user_types'], what, 'ISF user_types'), what);
  const enums = readEnums(objectAt(root['enums'], what, 'ISF enums'), what);
  const symbols = readSymbols(objectAt(root['symbols'], what, 'ISF symbols'), what);

  const pointer = baseTypes['pointer'];
  const machine = typeof pdbJson['machine_type'] === 'number' ? pdbJson['machine_type'] : undefined;
  // IMAGE_FILE_MACHINE_AMD64 = 0x8664, IMAGE_FILE_MACHINE_I386 = 0x14c (PE/COFF spec)
  const pointerSize: 4 | 8 = pointer ? (pointer.size === 4 ? 4 : 8) : machine === 0x14c ? 4 : 8;

  return assembleProfile(what, opts.build, { pdb: { name: database, guid, age }, pointerSize, baseTypes, types, enums, symbols });
}

function readBaseTypes(o: JsonObject, what: string): Record<string, BaseType> {
  const out = dict<BaseType>();
  for (const [name, v] of entriesOf(o)) {
    const p = `ISF base_types.${name}`;
    const b = objectAt(v, what, p);
    const kind = stringAt(b['kind'], what, `${p}.kind`);
    if (!(BASE_KINDS as readonly string[]).includes(kind)) throw formatError(what, `${p}.kind "${kind}" is unknown`);
    out[name] = {
      size: uintAt(b['size'], what, `${p}.size`, 64),
      signed: b['signed'] === true,
      kind: kind as BaseType['kind'],
    };
  }
  return out;
}

function readUserTypes(o: JsonObject, what: string): Record<string, StructDef> {
  const out = dict<StructDef>();
  for (const [name, v] of entriesOf(o)) {
    const p = `ISF user_types.${name}`;
    const t = objectAt(v, what, p);
    const kind = stringAt(t['kind'], what, `${p}.kind`);
    if (kind !== 'struct' && kind !== 'union' && kind !== 'class') throw formatError(what, `${p}.kind "${kind}" is not struct, union or class`);
    const fields = dict<FieldDef>();
    for (const [fname, fv] of entriesOf(objectAt(t['fields'], what, `${p}.fields`))) {
      const fp = `${p}.fields.${fname}`;
      const f = objectAt(fv, what, fp);
      fields[fname] = { offset: uintAt(f['offset'], what, `${fp}.offset`, MAX_TYPE_SIZE), type: readRef(f['type'], what, `${fp}.type`, 0) };
    }
    out[name] = { kind: kind === 'union' ? 'union' : 'struct', size: uintAt(t['size'], what, `${p}.size`, MAX_TYPE_SIZE), fields };
  }
  return out;
}

/** ISF type reference → TypeRef (snake_case bit_position/bit_length → camelCase; union/class → struct). */
export function readRef(v: unknown, what: string, path: string, depth: number): TypeRef {
  if (depth > MAX_REF_DEPTH) throw formatError(what, `${path} nests deeper than ${MAX_REF_DEPTH} levels`);
  const r = objectAt(v, what, path);
  const kind = stringAt(r['kind'], what, `${path}.kind`);
  switch (kind) {
    case 'base': return { kind: 'base', name: stringAt(r['name'], what, `${path}.name`) };
    case 'struct':
    case 'union':
    case 'class':
      return { kind: 'struct', name: stringAt(r['name'], what, `${path}.name`) };
    case 'enum': return { kind: 'enum', name: stringAt(r['name'], what, `${path}.name`) };
    case 'pointer': return { kind: 'pointer', subtype: readRef(r['subtype'], what, `${path}.subtype`, depth + 1) };
    case 'array':
      return {
        kind: 'array',
        count: uintAt(r['count'], what, `${path}.count`, MAX_TYPE_SIZE),
        subtype: readRef(r['subtype'], what, `${path}.subtype`, depth + 1),
      };
    case 'bitfield':
      return {
        kind: 'bitfield',
        bitPosition: uintAt(r['bit_position'], what, `${path}.bit_position`, 63),
        bitLength: uintAt(r['bit_length'], what, `${path}.bit_length`, 64),
        type: readRef(r['type'], what, `${path}.type`, depth + 1),
      };
    case 'function': return { kind: 'function' };
    default: throw formatError(what, `${path}.kind "${kind}" is unknown`);
  }
}

function readEnums(o: JsonObject, what: string): Record<string, EnumDef> {
  const out = dict<EnumDef>();
  for (const [name, v] of entriesOf(o)) {
    const p = `ISF enums.${name}`;
    const e = objectAt(v, what, p);
    const constants = dict<number>();
    for (const [cname, cv] of entriesOf(objectAt(e['constants'], what, `${p}.constants`))) {
      constants[cname] = intAt(cv, what, `${p}.constants.${cname}`);
    }
    out[name] = { size: uintAt(e['size'], what, `${p}.size`, 16), base: stringAt(e['base'], what, `${p}.base`), constants };
  }
  return out;
}

function readSymbols(o: JsonObject, what: string): Record<string, number> {
  const out = dict<number>();
  for (const [name, v] of entriesOf(o)) {
    // ISF symbols may carry only a type or constant_data and no address; those have no RVA to keep.
    if (!isObject(v) || v['address'] === undefined) continue;
    out[name] = uintAt(v['address'], what, `ISF symbols.${name}.address`);
  }
  return out;
}

/** True when the JSON looks like ISF (so a caller can pick the importer without trusting the file name). */
export function looksLikeIsf(json: unknown): boolean {
  return isObject(json) && isObject(json['metadata']) && isObject(json['user_types']);
}
