/**
 * Test helper: load a real kernel ISF (Volatility 3 JSON, xz) from the shared reference data into a
 * Profile, so windows/ unit tests use real structure layouts. Production code gets profiles from
 * profile/store.ts; this exists so these tests do not depend on that module's progress.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { XzReadableStream } from 'xz-decompress';
import type { BaseType, EnumDef, ProfileData, StructDef, TypeRef } from '../../profile/model.js';
import { Profile } from '../../profile/profile.js';
import { sharedDataPath } from '../../util/shared-data.js';

export const ISF_DIR = sharedDataPath('windows-symbols', 'ntkrnlmp.pdb');

/** GUID+age file names of one ntkrnlmp.pdb per build used in tests. */
export const ISF_BY_BUILD: Readonly<Record<number, string>> = {
  17763: '8B11040A5928757B11390AC78F6B6925-1',
  18362: '11BC9A513F1140CA359ECDF50F0122C1-1',
  19041: '641F55C592201DCC4F59FACC72EA54DA-1',
  22000: '32C1A669D5FFEFD41091F636CFDB6E99-1',
};

type IsfRef = { kind: string; name?: string; subtype?: IsfRef; count?: number; bit_position?: number; bit_length?: number; type?: IsfRef };

function ref(r: IsfRef): TypeRef {
  switch (r.kind) {
    case 'base': return { kind: 'base', name: r.name! };
    case 'struct': case 'union': case 'class': return { kind: 'struct', name: r.name! };
    case 'enum': return { kind: 'enum', name: r.name! };
    case 'pointer': return { kind: 'pointer', subtype: ref(r.subtype!) };
    case 'array': return { kind: 'array', count: r.count!, subtype: ref(r.subtype!) };
    case 'bitfield': return { kind: 'bitfield', bitPosition: r.bit_position!, bitLength: r.bit_length!, type: ref(r.type!) };
    default: return { kind: 'function' };
  }
}

const cache = new Map<number, Promise<Profile>>();

export function loadIsfProfile(build: number): Promise<Profile> {
  let p = cache.get(build);
  if (!p) {
    p = load(build);
    cache.set(build, p);
  }
  return p;
}

async function load(build: number): Promise<Profile> {
  const key = ISF_BY_BUILD[build];
  if (!key) throw new Error(`no ISF for build ${build}`);
  const xz = readFileSync(`${ISF_DIR}/${key}.json.xz`);
  const stream = new XzReadableStream(Readable.toWeb(Readable.from([xz])) as ReadableStream<Uint8Array>);
  const text = await new Response(stream).text();
  const isf = JSON.parse(text) as {
    base_types: Record<string, { size: number; signed: boolean; kind: string }>;
    user_types: Record<string, { kind: string; size: number; fields: Record<string, { offset: number; type: IsfRef }> }>;
    enums: Record<string, { size: number; base: string; constants: Record<string, number> }>;
    symbols: Record<string, { address: number }>;
  };
  const types: Record<string, StructDef> = {};
  for (const [name, t] of Object.entries(isf.user_types)) {
    const fields: Record<string, { offset: number; type: TypeRef }> = {};
    for (const [f, d] of Object.entries(t.fields ?? {})) fields[f] = { offset: d.offset, type: ref(d.type) };
    types[name] = { kind: t.kind === 'union' ? 'union' : 'struct', size: t.size, fields };
  }
  const baseTypes: Record<string, BaseType> = {};
  for (const [n, b] of Object.entries(isf.base_types)) baseTypes[n] = { size: b.size, signed: b.signed, kind: b.kind as BaseType['kind'] };
  const enums: Record<string, EnumDef> = {};
  for (const [n, e] of Object.entries(isf.enums)) enums[n] = { size: e.size, base: e.base, constants: e.constants };
  const symbols: Record<string, number> = {};
  for (const [n, s] of Object.entries(isf.symbols)) symbols[n] = s.address;
  const [guid, age] = key.split('-');
  const data: ProfileData = { pdb: { name: 'ntkrnlmp.pdb', guid: guid!, age: Number(age) }, build: `10.0.${build}`, pointerSize: 8, baseTypes, types, enums, symbols };
  return new Profile(data);
}
