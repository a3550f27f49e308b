import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listIsfFiles, readBuildTable, REPO_ROOT, resolveSymbolsDir } from '../../../scripts/isf-source.js';
import { BUNDLED_ROOT_TYPES } from './bundle-roots.js';
import { BundledProfiles } from './bundled.js';
import { decompressAuto } from './decompress.js';
import type { ProfileData, TypeRef } from './model.js';
import { checkReferences } from './validate.js';

/**
 * Every bundled profile against its source ISF table in ../shared/data/windows-symbols: each kept
 * struct's size and every field's offset and type, every enum, every symbol RVA, and the by-value
 * closure. The raw ISF JSON is compared directly (not through the ISF importer), so a converter or
 * importer bug cannot hide behind itself.
 */

const PROFILES = join(REPO_ROOT, 'profiles');
const SYMBOLS = resolveSymbolsDir();

interface RawRef { kind: string; name?: string; subtype?: RawRef; type?: RawRef; count?: number; bit_position?: number; bit_length?: number }
interface RawIsf {
  user_types: Record<string, { kind: string; size: number; fields: Record<string, { offset: number; type: RawRef }> }>;
  enums: Record<string, { size: number; base: string; constants: Record<string, number> }>;
  symbols: Record<string, { address?: number }>;
  metadata: { windows: { pdb: { GUID: string; age: number } } };
}

/** Same type? Written against the ISF schema, independently of isf-import.ts. */
function sameRef(raw: RawRef, ref: TypeRef): boolean {
  switch (raw.kind) {
    case 'base': return ref.kind === 'base' && ref.name === raw.name;
    case 'struct': case 'union': case 'class': return ref.kind === 'struct' && ref.name === raw.name;
    case 'enum': return ref.kind === 'enum' && ref.name === raw.name;
    case 'function': return ref.kind === 'function';
    case 'pointer': return ref.kind === 'pointer' && sameRef(raw.subtype as RawRef, ref.subtype);
    case 'array': return ref.kind === 'array' && ref.count === raw.count && sameRef(raw.subtype as RawRef, ref.subtype);
    case 'bitfield':
      return ref.kind === 'bitfield' && ref.bitPosition === raw.bit_position && ref.bitLength === raw.bit_length && sameRef(raw.type as RawRef, ref.type);
    default: return false;
  }
}

function compare(raw: RawIsf, d: ProfileData, key: string): string[] {
  const problems: string[] = [];
  const bad = (m: string) => problems.length < 10 && problems.push(`${key} (${d.build}): ${m}`);
  for (const root of BUNDLED_ROOT_TYPES) {
    if (raw.user_types[root] && !d.types[root]) bad(`root type ${root} not kept`);
  }
  for (const [name, def] of Object.entries(d.types)) {
    const src = raw.user_types[name];
    if (!src) { bad(`kept type ${name} is not in the source`); continue; }
    if (src.size !== def.size) bad(`${name} size ${def.size} != ${src.size}`);
    if ((src.kind === 'union') !== (def.kind === 'union')) bad(`${name} kind ${def.kind} != ${src.kind}`);
    const srcFields = Object.keys(src.fields);
    if (srcFields.length !== Object.keys(def.fields).length) bad(`${name} has ${Object.keys(def.fields).length} fields, source ${srcFields.length}`);
    for (const f of srcFields) {
      const mine = def.fields[f];
      const theirs = src.fields[f] as { offset: number; type: RawRef };
      if (!mine) bad(`${name}.${f} missing`);
      else if (mine.offset !== theirs.offset || !sameRef(theirs.type, mine.type)) bad(`${name}.${f} differs`);
    }
  }
  for (const [name, e] of Object.entries(d.enums)) {
    const src = raw.enums[name];
    if (!src || src.size !== e.size || src.base !== e.base || JSON.stringify(Object.entries(src.constants).sort()) !== JSON.stringify(Object.entries(e.constants).sort())) bad(`enum ${name} differs`);
  }
  let n = 0;
  for (const [name, s] of Object.entries(raw.symbols)) {
    if (s.address === undefined) continue;
    n++;
    if (d.symbols[name] !== s.address) bad(`symbol ${name} ${d.symbols[name]} != ${s.address}`);
  }
  if (Object.keys(d.symbols).length !== n) bad(`${Object.keys(d.symbols).length} symbols, source has ${n}`);
  try {
    checkReferences(d, key); // every by-value type of every kept type is kept too
  } catch (e) {
    bad((e as Error).message);
  }
  return problems;
}

/** System xz in a child process (parallel with JSON parsing here); WASM decoder when xz is absent. */
function unxz(path: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const child = spawn('xz', ['-dc', path]);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', () => decompressAuto(readFileSync(path), path).then(resolve, reject));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`xz -dc ${path} exited ${code}`))));
  });
}

const haveData = existsSync(join(SYMBOLS, 'ntkrnlmp.pdb'));

describe.skipIf(!haveData)('bundled profiles', () => {
  const bundle = new BundledProfiles(PROFILES);
  const files = haveData ? listIsfFiles(SYMBOLS) : [];

  it('index covers every source table, each with its build string, and carries the BSD-3 notice', () => {
    const builds = readBuildTable(SYMBOLS);
    const entries = bundle.list();
    expect(files.length).toBe(213);
    expect(entries.map((e) => e.key).sort()).toEqual(files.map((f) => f.key).sort());
    for (const e of entries) {
      expect(e.build, e.key).toBe(builds.get(e.key));
      expect(e.pdb).toBe('ntkrnlmp.pdb');
      expect(`${e.guid}${e.age.toString(16).toUpperCase()}`).toBe(e.key);
    }
    expect(readFileSync(join(PROFILES, 'LICENSE-windows-symbols'), 'utf8')).toBe(readFileSync(join(SYMBOLS, 'LICENSE'), 'utf8'));
  });

  it('loads one build lazily and fast', () => {
    const fresh = new BundledProfiles(PROFILES);
    const t0 = performance.now();
    const d = fresh.load('641f55c592201dcc4f59facc72ea54da1'); // any case accepted
    const ms = performance.now() - t0;
    expect(d?.build).toBe('10.0.19041.508');
    expect(d?.symbols['NtBuildNumber']).toBe(0xc11e90); // WinDbg-observed RVA on this build
    // < 100 ms on an idle machine; allow for the shared CI box
    expect(ms).toBeLessThan(1500);
    expect(fresh.load('00000000000000000000000000000000' + '1')).toBeNull();
  });

  it('every one of the 213 builds loads by GUID+age and equals its source ISF', async () => {
    const problems: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const file = files[next++] as (typeof files)[number];
        const raw = JSON.parse(new TextDecoder().decode(await unxz(file.path))) as RawIsf;
        expect(`${raw.metadata.windows.pdb.GUID.toUpperCase()}${raw.metadata.windows.pdb.age.toString(16).toUpperCase()}`).toBe(file.key);
        const d = bundle.load(file.key);
        if (!d) problems.push(`${file.key}: not bundled`);
        else problems.push(...compare(raw, d, file.key));
      }
    };
    await Promise.all([worker(), worker()]);
    expect(problems).toEqual([]);
  }, 600_000);
});
