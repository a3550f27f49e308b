import type { ProfileData, TypeRef } from './model.js';

/** Readable type text for users: "array[15] of unsigned char", "pointer to _EPROCESS", "bitfield(1 @1) unsigned long". */
export function describeType(ref: TypeRef): string {
  switch (ref.kind) {
    case 'base': return ref.name;
    case 'struct': return ref.name;
    case 'enum': return `enum ${ref.name}`;
    case 'pointer': return `pointer to ${describeType(ref.subtype)}`;
    case 'array': return `array[${ref.count}] of ${describeType(ref.subtype)}`;
    case 'bitfield': return `bitfield(${ref.bitLength} @${ref.bitPosition}) ${describeType(ref.type)}`;
    case 'function': return 'function';
  }
}

export interface ProfileJsonType {
  size: number;
  fields: Record<string, { offset: number; type: string }>;
}

export interface ProfileJson {
  guid: string;
  age: number;
  build: string | null;
  types: Record<string, ProfileJsonType>;
  symbols: Record<string, number>;
}

/** `profile show` JSON: types by name (fields in offset order), symbols by name, RVAs as numbers. */
export function profileToJson(data: ProfileData, onlyTypes?: readonly string[]): ProfileJson {
  const types: Record<string, ProfileJsonType> = {};
  const names = onlyTypes ?? Object.keys(data.types).sort();
  for (const name of names) {
    const def = data.types[name];
    if (!def) continue;
    const fields: ProfileJsonType['fields'] = {};
    const ordered = Object.entries(def.fields).sort((a, b) => a[1].offset - b[1].offset || fieldBit(a[1].type) - fieldBit(b[1].type));
    for (const [f, fd] of ordered) fields[f] = { offset: fd.offset, type: describeType(fd.type) };
    types[name] = { size: def.size, fields };
  }
  const symbols: Record<string, number> = {};
  for (const name of Object.keys(data.symbols).sort()) symbols[name] = data.symbols[name] as number;
  return { guid: data.pdb.guid, age: data.pdb.age, build: data.build ?? null, types, symbols };
}

function fieldBit(ref: TypeRef): number {
  return ref.kind === 'bitfield' ? ref.bitPosition : -1;
}
