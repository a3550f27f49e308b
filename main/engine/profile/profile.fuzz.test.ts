/**
 * Mutation fuzz of profile import (ISF, Rekall; plain, gzip, xz) and of the bundled profile reader.
 * Rule (helpers brief, "Bad input"; issue 3: ISF with missing types, corrupt files): every mutated
 * document imports or is refused with a one-line MemScopeError — never a TypeError from a field of
 * the wrong type, a stack overflow on a self-referencing type, or an allocation sized by a huge
 * number. A corrupt bundled .msp file is refused with an error naming that file.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../acquire/writers/testing.js';
import { attempt, attemptAsync, FuzzFailures, mutate, Prng } from '../util/testing/fuzz.js';
import { readContainer, writeContainer } from './bundle-codec.js';
import { BundledProfiles, defaultBundledDir } from './bundled.js';
import { INDEX_FILE, type BundleIndex } from './bundle-writer.js';
import { importProfileBytes } from './import.js';
import { tinyIsf } from './isf-fixture.js';
import { Profile } from './profile.js';
import { rekallProfile } from './rekall-fixture.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values of the wrong type or absurd size for any JSON field. */
const NASTY: readonly Json[] = [
  null, true, -1, 0, 1e308, -1e308, 2 ** 53, 2 ** 64, 0.5, '', 'x', '0xffffffffffffffff', [], {}, [[[]]], { kind: 'struct' },
  { kind: 'array', count: 2 ** 40, subtype: { kind: 'struct', name: '_EPROCESS' } },
  { kind: 'array', count: -3, subtype: { kind: 'base', name: 'unsigned long' } },
  ['Array', { count: 2 ** 40, target: '_EPROCESS' }],
  ['BitField', { start_bit: 60, end_bit: 2, target: 'unsigned long' }],
  ['__proto__', {}],
];

/** Every container (object or array) in the tree, with its path for failure messages. */
function containers(root: Json, at = '$', out: { node: Json[] | { [k: string]: Json }; path: string }[] = []): typeof out {
  if (root !== null && typeof root === 'object') {
    out.push({ node: root, path: at });
    if (Array.isArray(root)) root.forEach((v, i) => containers(v, `${at}[${i}]`, out));
    else for (const [k, v] of Object.entries(root)) containers(v, `${at}.${k}`, out);
  }
  return out;
}

/** One structural mutation in place: drop a key, change a value's type/size, or make a type refer to itself. */
function mutateJson(rng: Prng, root: Json): string {
  const all = containers(root);
  const { node, path: p } = rng.pick(all);
  const keys = Array.isArray(node) ? node.map((_, i) => String(i)) : Object.keys(node);
  if (keys.length === 0) return 'none (empty container)';
  const key = rng.pick(keys);
  const set = (v: Json): void => { if (Array.isArray(node)) node[Number(key)] = v; else node[key] = v; };
  const r = rng.int(0, 9);
  if (r <= 2 && !Array.isArray(node)) {
    delete node[key];
    return `delete ${p}.${key}`;
  }
  if (r <= 3) {
    // A struct embedding itself by value (ISF and Rekall spellings): "cyclic-looking" reference.
    const self: Json = rng.bool() ? { kind: 'struct', name: '_EPROCESS' } : ['_EPROCESS', {}];
    set(self);
    return `${p}.${key} = self-reference _EPROCESS`;
  }
  if (r <= 5) {
    const cur = Array.isArray(node) ? node[Number(key)] : node[key];
    if (typeof cur === 'number') {
      const v = rng.pick([cur + 1, -cur - 1, cur * 2 ** 32, 2 ** 53 + 1, 1e21, Number.MIN_VALUE]);
      set(v);
      return `${p}.${key} = ${v}`;
    }
  }
  const v = structuredClone(rng.pick(NASTY));
  set(v);
  return `${p}.${key} = ${JSON.stringify(v)}`;
}

const hasXz = ((): boolean => { try { execFileSync('xz', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const xz = (b: Uint8Array): Uint8Array => new Uint8Array(execFileSync('xz', ['-c', '-1'], { input: b }));

/** Use an imported profile the way the engine does: every field's size, offset and symbol. */
function exercise(data: Awaited<ReturnType<typeof importProfileBytes>>['data'], enumerateSymbols = true): void {
  const p = new Profile(data);
  for (const [name, t] of Object.entries(data.types)) {
    p.sizeOf(name);
    for (const f of Object.keys(t.fields)) p.sizeOfRef(p.field(name, f).type);
  }
  p.symbol('PsActiveProcessHead');
  // Bundled symbols are a lazy record: enumerating materialises every slot (where corruption shows).
  if (enumerateSymbols) for (const [name, rva] of Object.entries(data.symbols)) if (typeof rva !== 'number') throw new TypeError(`symbol ${name} is ${typeof rva}`);
}

describe('profile import under mutation (fuzz)', () => {
  it('the unmutated fixtures import (so mutations start from valid input)', async () => {
    expect((await importProfileBytes(new TextEncoder().encode(JSON.stringify(tinyIsf())), 'tiny.json')).kind).toBe('isf');
    expect((await importProfileBytes(new TextEncoder().encode(JSON.stringify(rekallProfile())), 'nt.json')).kind).toBe('rekall');
  });

  for (const [label, fixture] of [['ISF', tinyIsf], ['Rekall', rekallProfile]] as const) {
    it(`${label}: 400 structurally mutated documents import or fail with a MemScopeError`, { timeout: 30_000 }, async () => {
      const seed = label === 'ISF' ? 0x15f : 0x4e4a;
      const rng = new Prng(seed);
      const failures = new FuzzFailures(`profile/${label}`, seed);
      let imported = 0;
      for (let i = 0; i < 400; i++) {
        const doc = fixture() as Json;
        const whats: string[] = [];
        for (let k = rng.int(1, 3); k > 0; k--) whats.push(mutateJson(rng, doc));
        const bytes = new TextEncoder().encode(JSON.stringify(doc));
        const ok = await attemptAsync(failures, i, whats.join('; '), async () => {
          exercise((await importProfileBytes(bytes, 'fuzz.json')).data);
        }, 5_000);
        if (ok) imported++;
      }
      expect(failures.list, failures.list.join('\n\n')).toEqual([]);
      expect(imported).toBeGreaterThan(10);
    });
  }

  it('corrupt and truncated gzip/xz containers fail with a MemScopeError', { timeout: 60_000 }, async () => {
    const seed = 0x62;
    const rng = new Prng(seed);
    const failures = new FuzzFailures('profile/compressed', seed);
    const plain = new TextEncoder().encode(JSON.stringify(tinyIsf()));
    const containersToFuzz: [string, Uint8Array][] = [['gzip', new Uint8Array(gzipSync(plain))]];
    if (hasXz) containersToFuzz.push(['xz', xz(plain)]);
    for (const [kind, valid] of containersToFuzz) {
      expect((await importProfileBytes(valid, `tiny.json.${kind}`)).kind).toBe('isf');
      for (let i = 0; i < (kind === 'xz' ? 150 : 300); i++) {
        let b = valid.slice();
        let what: string;
        if (rng.bool(0.3)) {
          const cut = rng.int(0, b.length - 1);
          b = b.slice(0, cut);
          what = `${kind} truncated at ${cut}`;
        } else {
          // keep the magic so the container is detected, then corrupt what follows
          what = `${kind} ${mutate(rng, b, 6, b.length)}`;
        }
        await attemptAsync(failures, i, what, async () => { exercise((await importProfileBytes(b, 'fuzz.json.gz')).data); }, 5_000);
      }
    }
    expect(failures.list, failures.list.join('\n\n')).toEqual([]);
  });
});

describe('bundled profile reader with a corrupt .msp file (fuzz)', () => {
  let dir: string;
  let index: BundleIndex;
  const FAMILY = '9600';
  let file: string;
  let valid: Uint8Array;
  let keys: string[];

  beforeAll(() => {
    dir = makeTempDir('memscope-bundlefuzz-');
    const src = defaultBundledDir();
    for (const name of fs.readdirSync(src)) fs.copyFileSync(path.join(src, name), path.join(dir, name));
    index = JSON.parse(fs.readFileSync(path.join(dir, INDEX_FILE), 'utf8')) as BundleIndex;
    file = index.families[FAMILY]!.file;
    valid = new Uint8Array(fs.readFileSync(path.join(dir, file)));
    keys = index.builds.filter((b) => b.family === FAMILY).map((b) => b.key);
  });
  afterAll(() => removeTempDir(dir));

  it('loads every build of the family from the unmutated copy', () => {
    const store = new BundledProfiles(dir);
    expect(keys.length).toBeGreaterThan(1); // keyframe and delta-coded builds both exercised
    for (const k of keys) expect(store.load(k)?.types['_EPROCESS']).toBeDefined();
  });

  it('80 corrupted/truncated copies load or fail with a MemScopeError naming the file', { timeout: 60_000 }, () => {
    const seed = 0xb0d;
    const rng = new Prng(seed);
    const failures = new FuzzFailures(`bundled/${file}`, seed);
    const target = path.join(dir, file);
    const seg = readContainer(valid, file);
    const segNames = ['types', 'order', `sym:${index.families[FAMILY]!.keyframe}`, ...keys.map((k) => `sym:${k}`)];
    for (let i = 0; i < 80; i++) {
      let b: Uint8Array = valid.slice();
      let what: string;
      const r = rng.int(0, 9);
      if (r <= 2) {
        const cut = rng.int(0, b.length - 1);
        b = b.slice(0, cut);
        what = `truncated at ${cut}`;
      } else if (r <= 5) {
        // container header (magic, version, header length, segment table JSON)
        what = mutate(rng, b, 0, 200);
      } else {
        // a segment whose gzip is valid but whose content is corrupt (CRC would catch raw flips)
        const name = rng.pick([...new Set(segNames)]);
        const segs = new Map<string, Uint8Array>();
        for (const n of new Set(segNames)) segs.set(n, seg(n));
        const inner = new Uint8Array(gunzipSync(seg(name)));
        const m = mutate(rng, inner, 0, inner.length);
        const cut = rng.bool(0.2) ? rng.int(0, inner.length) : inner.length;
        segs.set(name, new Uint8Array(gzipSync(inner.subarray(0, cut))));
        b = writeContainer(segs);
        what = `segment ${name}: ${m}${cut < inner.length ? `, cut at ${cut}` : ''}`;
      }
      fs.writeFileSync(target, b);
      const store = new BundledProfiles(dir);
      const enumerate = rng.bool(0.25); // materialising all ~25k lazy symbols costs ~0.1 s
      for (const key of [rng.pick(keys)]) {
        let data: ReturnType<BundledProfiles['load']> = null;
        try {
          data = store.load(key);
        } catch (err) {
          failures.check(i, `${what} (load ${key})`, err);
          if (err instanceof Error && err.name === 'MemScopeError' && !err.message.includes(file)) {
            failures.fail(i, what, `error does not name ${file}: ${err.message}`);
          }
        }
        // What loaded (a flip that kept the data decodable) must still be usable without a crash.
        if (data) { const d = data; attempt(failures, i, `${what} (use ${key})`, () => exercise(d, enumerate)); }
      }
    }
    fs.writeFileSync(target, valid);
    expect(failures.list, failures.list.join('\n\n')).toEqual([]);
  });
});
