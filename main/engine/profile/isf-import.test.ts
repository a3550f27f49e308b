import { readFileSync } from 'node:fs';
import { gzip } from 'pako';
import { describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { decompressAuto, gunzipBounded } from './decompress.js';
import { importIsfBytes, isfToProfile } from './isf-import.js';
import { importProfileBytes } from './import.js';
import { tinyIsf } from './isf-fixture.js';
import { Profile } from './profile.js';
import { sharedDataPath } from '../util/shared-data.js';

const SYMBOLS = sharedDataPath('windows-symbols', 'ntkrnlmp.pdb');
const REAL = `${SYMBOLS}/641F55C592201DCC4F59FACC72EA54DA-1.json.xz`;

function errorOf(fn: () => unknown): MemScopeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MemScopeError) return e;
    throw e;
  }
  throw new Error('expected a MemScopeError');
}

async function asyncErrorOf(p: Promise<unknown>): Promise<MemScopeError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MemScopeError) return e;
    throw e;
  }
  throw new Error('expected a MemScopeError');
}

describe('ISF import', () => {
  it('normalises ISF into ProfileData (bitfields, unions, pointers, arrays, enums, symbols)', () => {
    const d = isfToProfile(tinyIsf(), 'tiny.json');
    expect(d.pdb).toEqual({ name: 'ntkrnlmp.pdb', guid: '00112233445566778899AABBCCDDEEFF', age: 2 });
    expect(d.pointerSize).toBe(8);
    const p = new Profile(d);
    expect(p.offsetOf('_EPROCESS', 'ImageFileName')).toBe(0x5a8);
    expect(p.field('_EPROCESS', 'Flags3').type).toEqual({ kind: 'bitfield', bitPosition: 1, bitLength: 3, type: { kind: 'base', name: 'unsigned long' } });
    expect(p.field('_EPROCESS', 'Job').type).toEqual({ kind: 'pointer', subtype: { kind: 'struct', name: '_EJOB' } });
    expect(p.field('_KPROCESS', 'State').type).toEqual({ kind: 'enum', name: '_KPROCESS_STATE' });
    expect(p.type('_U').kind).toBe('union');
    expect(p.sizeOfRef(p.field('_EPROCESS', 'ImageFileName').type)).toBe(15);
    expect(p.symbol('PsActiveProcessHead')).toBe(0xc1f970);
    expect(p.hasSymbol('SomeTypeOnly')).toBe(false); // no address, no RVA
    expect(p.enumDef('_KPROCESS_STATE').constants['ProcessOutOfMemory']).toBe(1);
  });

  it('names the file and the missing piece when ISF parts are missing', () => {
    const noPdb = tinyIsf();
    (noPdb['metadata'] as Record<string, unknown>)['windows'] = {};
    expect(errorOf(() => isfToProfile(noPdb, 'a.json')).message).toBe('a.json: ISF metadata.windows.pdb is missing');

    const noTypes = tinyIsf();
    delete noTypes['user_types'];
    expect(errorOf(() => isfToProfile(noTypes, 'b.json')).message).toBe('b.json: ISF user_types is missing');

    const dangling = tinyIsf();
    delete (dangling['user_types'] as Record<string, unknown>)['_KPROCESS'];
    const e = errorOf(() => isfToProfile(dangling, 'c.json'));
    expect(e.kind).toBe('format');
    expect(e.message).toBe('c.json: type _EPROCESS field Pcb refers to missing type _KPROCESS');

    const badBit = tinyIsf();
    const f = ((badBit['user_types'] as Record<string, { fields: Record<string, { type: Record<string, unknown> }> }>)['_EPROCESS'] as { fields: Record<string, { type: Record<string, unknown> }> }).fields['Flags3'] as { type: Record<string, unknown> };
    delete f.type['bit_length'];
    expect(errorOf(() => isfToProfile(badBit, 'd.json')).message).toBe('d.json: ISF user_types._EPROCESS.fields.Flags3.type.bit_length is missing');
  });

  it('refuses a kernel ISF that lacks the process structures, naming the type', async () => {
    const noEprocess = tinyIsf();
    delete (noEprocess['user_types'] as Record<string, unknown>)['_EPROCESS'];
    const bytes = new TextEncoder().encode(JSON.stringify(noEprocess));
    const e = await asyncErrorOf(importProfileBytes(bytes, 'partial.json'));
    expect(e.message).toBe('partial.json: kernel profile lacks type _EPROCESS');
  });

  it('reads .json, .json.gz and .json.xz by magic bytes, and reports corrupt containers clearly', async () => {
    const json = new TextEncoder().encode(JSON.stringify(tinyIsf()));
    const plain = await importIsfBytes(json, 't.json');
    const gz = await importIsfBytes(gzip(json), 't.json.gz');
    expect(gz).toEqual(plain);

    const badGz = gzip(json);
    badGz.fill(0x55, 12, 40);
    const e1 = await asyncErrorOf(importIsfBytes(badGz, 'bad.json.gz'));
    expect(e1.kind).toBe('format');
    expect(e1.message).toMatch(/^bad\.json\.gz: corrupt gzip data/);
    const e2 = await asyncErrorOf(importIsfBytes(gzip(json).subarray(0, 30), 'cut.json.gz'));
    expect(e2.message).toMatch(/^cut\.json\.gz: (truncated|corrupt) gzip data/);
    expect(() => gunzipBounded(gzip(new Uint8Array(100_000)), 'bomb.gz', 1000)).toThrow('bomb.gz: gzip data expands beyond 1000 bytes');

    const xz = readFileSync(REAL);
    const e3 = await asyncErrorOf(importIsfBytes(xz.subarray(0, 4096), 'cut.json.xz'));
    expect(e3.message).toMatch(/^cut\.json\.xz: corrupt or truncated xz data/);
    const flipped = Uint8Array.from(xz.subarray(0, 65536));
    flipped[200] = (flipped[200] as number) ^ 0xff;
    const e4 = await asyncErrorOf(decompressAuto(flipped, 'flip.json.xz'));
    expect(e4.message).toMatch(/^flip\.json\.xz: (corrupt or truncated xz data|xz data expands)/);
    const e5 = await asyncErrorOf(importIsfBytes(new TextEncoder().encode('{"metadata": '), 'half.json'));
    expect(e5.message).toMatch(/^half\.json: is not valid JSON/);
  });

  it('imports a real Windows 10 2004 ISF (.json.xz, WASM decoder) matching its raw JSON', async () => {
    const plain = await decompressAuto(readFileSync(REAL), REAL); // WASM xz decoder
    const d = await importIsfBytes(plain, REAL);
    const raw = JSON.parse(new TextDecoder().decode(plain)) as {
      user_types: Record<string, { size: number; fields: Record<string, { offset: number }> }>;
      symbols: Record<string, { address: number }>;
    };
    const p = new Profile(d);
    expect(p.pdb.guid).toBe('641F55C592201DCC4F59FACC72EA54DA');
    expect(p.sizeOf('_EPROCESS')).toBe(raw.user_types['_EPROCESS']?.size);
    for (const f of ['ImageFileName', 'UniqueProcessId', 'ActiveProcessLinks', 'Peb', 'ObjectTable']) {
      expect(p.offsetOf('_EPROCESS', f)).toBe(raw.user_types['_EPROCESS']?.fields[f]?.offset);
    }
    // WinDbg on 10.0.19041.508 shows NtBuildNumber at RVA 0xC11E90 (shared/data/README.md)
    expect(p.symbol('NtBuildNumber')).toBe(0xc11e90);
    expect(Object.keys(d.symbols).length).toBe(Object.values(raw.symbols).filter((s) => s.address !== undefined).length);
  }, 60_000);
});
