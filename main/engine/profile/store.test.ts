import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BundleWriter } from './bundle-writer.js';
import { BundledProfiles } from './bundled.js';
import { isfToProfile } from './isf-import.js';
import { tinyIsf } from './isf-fixture.js';
import type { ProfileData } from './model.js';
import { ProfileStore } from './store.js';

const temps: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'memscope-store-'));
  temps.push(d);
  return d;
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Variant of the tiny profile: another GUID, build, shifted symbols and one changed layout. */
function variant(guid: string, build: string, shift: number, extraSymbol?: string): ProfileData {
  const base = isfToProfile(tinyIsf(), 'tiny.json');
  const symbols: Record<string, number> = {};
  for (const [k, v] of Object.entries(base.symbols)) symbols[k] = v + shift;
  if (extraSymbol) symbols[extraSymbol] = 0x1234 + shift;
  const eprocess = base.types['_EPROCESS'];
  const types = { ...base.types };
  if (eprocess && shift) types['_EPROCESS'] = { ...eprocess, size: eprocess.size + 8 };
  return { ...base, pdb: { ...base.pdb, guid }, build, types, symbols };
}

function writeBundle(profiles: readonly ProfileData[]): string {
  const dir = tmp();
  const w = new BundleWriter(['_EPROCESS', '_UNICODE_STRING', '_U']);
  for (const p of profiles) w.add(p);
  for (const [name, bytes] of w.finish().files) writeFileSync(join(dir, name), bytes);
  return dir;
}

const A = variant('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '10.0.19041.1', 0);
const B = variant('BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', '10.0.19041.508', 0x40, 'OnlyInB');
const C = variant('CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC', '6.1.7601.1', 0x1000);

describe('bundle writer + loader round trip', () => {
  it('reproduces kept types, their by-value closure and all symbols per build (keyframe and diff builds)', () => {
    const dir = writeBundle([B, A, C]);
    const bundle = new BundledProfiles(dir);
    expect(bundle.list().map((e) => `${e.family}:${e.build}`)).toEqual(['19041:10.0.19041.1', '19041:10.0.19041.508', '7601:6.1.7601.1']);
    for (const p of [A, B, C]) {
      const d = bundle.load(`${p.pdb.guid}2`) as ProfileData;
      expect(d.symbols).toEqual(p.symbols);
      // _EPROCESS embeds _KPROCESS and _LIST_ENTRY by value: kept; _EJOB is only pointed to: not kept
      expect(Object.keys(d.types).sort()).toEqual(['_EPROCESS', '_KPROCESS', '_LIST_ENTRY', '_U', '_UNICODE_STRING']);
      for (const t of Object.keys(d.types)) expect(d.types[t]).toEqual(p.types[t]);
      expect(d.enums).toEqual(p.enums);
      expect(d.build).toBe(p.build);
    }
    expect(bundle.load(`${A.pdb.guid}2`)?.symbols['OnlyInB']).toBeUndefined();
  });
});

describe('ProfileStore', () => {
  it('lists bundled and cached profiles and loads bundled first, then cache, then the fetcher', async () => {
    const home = tmp();
    const calls: string[] = [];
    const store = new ProfileStore({
      bundledDir: writeBundle([A]),
      home,
      fetcher: async (key) => {
        calls.push(key);
        return key === `${C.pdb.guid}2` ? C : A; // A is a wrong answer for any other key
      },
    });
    expect((await store.load(`${A.pdb.guid}2`))?.source).toBe('bundled');

    const saved = await store.save(B, 'imported', '/somewhere/b.json');
    expect(saved).toBe(join(home, 'profiles', 'ntkrnlmp.pdb', `${B.pdb.guid}2.json.gz`));
    const fromCache = await store.load(`${B.pdb.guid.toLowerCase()}2`);
    expect(fromCache?.source).toBe('imported');
    expect(fromCache?.profile.data).toEqual(JSON.parse(JSON.stringify(B)));
    expect(calls).toEqual([]);

    expect((await store.load(`${C.pdb.guid}2`))?.source).toBe('symbol-server');
    await expect(store.load('DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD1')).rejects.toThrow('has GUID+age AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2 instead');
    expect(await store.load('DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD1', { noFetch: true })).toBeNull();
    await expect(store.load('not-a-key')).rejects.toThrow('"not-a-key" is not a GUID+age key');

    const list = await store.list();
    expect(list.map((e) => [e.key, e.source, e.build])).toEqual([
      [`${A.pdb.guid}2`, 'bundled', A.build],
      [`${B.pdb.guid}2`, 'imported', B.build],
    ]);
    expect((await store.resolveByBuildNumber(19041)).map((e) => e.build)).toEqual(['10.0.19041.508', '10.0.19041.1']);
    expect(await store.resolveByBuildNumber(22000)).toEqual([]);
  });

  it('save is atomic: a failure leaves nothing in the cache', async () => {
    const home = tmp();
    const store = new ProfileStore({ bundledDir: null, home });
    // 1. data that cannot be encoded fails before the disk is touched
    const cyclic = { ...A, symbols: {} as Record<string, unknown> };
    cyclic.symbols['self'] = cyclic;
    await expect(store.save(cyclic as unknown as ProfileData, 'imported')).rejects.toThrow();
    expect(existsSync(join(home, 'profiles'))).toBe(false);

    // 2. the final rename fails (a directory squats on the target path): temp files are removed
    const dir = join(home, 'profiles', 'ntkrnlmp.pdb');
    mkdirSync(join(dir, `${A.pdb.guid}2.json.gz`), { recursive: true });
    await expect(store.save(A, 'imported')).rejects.toThrow(/ntkrnlmp\.pdb/);
    expect(readdirSync(dir)).toEqual([`${A.pdb.guid}2.json.gz`]); // only the squatter: no temp, no sidecar
    expect(await store.list()).toEqual([]);

    // 3. an unwritable home (a file where the directory should be)
    const fileHome = join(home, 'plainfile');
    writeFileSync(fileHome, 'x');
    await expect(new ProfileStore({ bundledDir: null, home: fileHome }).save(A, 'imported')).rejects.toThrow();
  });
});
