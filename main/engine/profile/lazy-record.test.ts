import { describe, expect, it } from 'vitest';
import { BundledProfiles, defaultBundledDir } from './bundled.js';
import { lazyRecord, type LazySource } from './lazy-record.js';

/** A source over fixed entries that counts enumerations, so tests can tell lazy from materialised. */
function source(entries: readonly (readonly [string, number])[]): LazySource<number> & { enumerated: number } {
  const map = new Map(entries);
  return {
    enumerated: 0,
    get: (n) => map.get(n),
    entries() {
      this.enumerated++;
      return entries;
    },
  };
}

function plain(entries: readonly (readonly [string, number])[]): Record<string, number> {
  const o = Object.create(null) as Record<string, number>;
  for (const [k, v] of entries) o[k] = v;
  return o;
}

// names a plain object treats specially: integer-like keys enumerate first, in numeric order;
// "__proto__" is an ordinary own key on a null-prototype object
const ENTRIES = [['PsActiveProcessHead', 0xc1e8b0], ['10', 1], ['__proto__', 2], ['2', 3], ['KdDebuggerDataBlock', 0], ['constructor', 5]] as const;

describe('lazyRecord', () => {
  it('answers point look-ups like a plain null-prototype object without enumerating', () => {
    const src = source(ENTRIES);
    const r = lazyRecord(src);
    const p = plain(ENTRIES);
    for (const n of ['PsActiveProcessHead', '10', '2', '__proto__', 'constructor', 'KdDebuggerDataBlock', 'toString', 'hasOwnProperty', 'valueOf', 'missing', '']) {
      expect(Object.hasOwn(r, n), n).toBe(Object.hasOwn(p, n));
      expect(n in r, n).toBe(n in p);
      expect(r[n], n).toBe(p[n]);
      expect(Object.getOwnPropertyDescriptor(r, n), n).toEqual(Object.getOwnPropertyDescriptor(p, n));
    }
    expect(r['KdDebuggerDataBlock']).toBe(0); // a zero RVA is a value, not absence
    expect(Object.getPrototypeOf(r)).toBeNull();
    expect(src.enumerated).toBe(0);
  });

  it('enumerates in plain-object order (integer keys first) and round-trips through JSON', () => {
    const src = source(ENTRIES);
    const r = lazyRecord(src);
    const p = plain(ENTRIES);
    expect(Object.keys(r)).toEqual(Object.keys(p));
    expect(Object.keys(r).slice(0, 2)).toEqual(['2', '10']);
    expect(Object.entries(r)).toEqual(Object.entries(p));
    expect(JSON.stringify(r)).toBe(JSON.stringify(p));
    const forIn: string[] = [];
    for (const k in r) forIn.push(k);
    expect(forIn).toEqual(Object.keys(p));
    expect({ ...r }).toEqual({ ...p });
    expect(src.enumerated).toBe(1); // materialised once, then a plain object
    expect(Object.keys(r)).toEqual(Object.keys(p));
    expect(src.enumerated).toBe(1);
  });

  it('accepts writes, deletes and freezing like a plain object (after materialising)', () => {
    const r = lazyRecord(source(ENTRIES));
    r['NewSymbol'] = 7;
    delete r['2'];
    expect(r['NewSymbol']).toBe(7);
    expect(Object.hasOwn(r, '2')).toBe(false);
    expect(Object.keys(r)).toEqual(['10', 'PsActiveProcessHead', '__proto__', 'KdDebuggerDataBlock', 'constructor', 'NewSymbol']);
    Object.freeze(r);
    expect(Object.isFrozen(r)).toBe(true);
    expect(() => {
      'use strict';
      r['Other'] = 1;
    }).toThrow(TypeError);
  });
});

describe('bundled profile symbols (lazy)', () => {
  const dir = defaultBundledDir();
  const bundle = new BundledProfiles(dir);
  const available = bundle.available();

  it.skipIf(!available)('point look-ups of one build equal its materialised (eager) record', () => {
    const lazy = new BundledProfiles(dir).load('BBED7C2955FBE4522AAA23F4B8677AD91');
    const eager = new BundledProfiles(dir).load('BBED7C2955FBE4522AAA23F4B8677AD91');
    if (!lazy || !eager) throw new Error('build 19041.329 is not bundled');
    const all = JSON.parse(JSON.stringify(eager.symbols)) as Record<string, number>; // enumerates every block
    const names = Object.keys(all);
    expect(names.length).toBeGreaterThan(30_000);
    for (const n of names) {
      if (lazy.symbols[n] !== all[n] || !Object.hasOwn(lazy.symbols, n)) throw new Error(`symbol ${n}: lazy ${lazy.symbols[n]} != eager ${all[n]}`);
    }
    for (const n of ['toString', '__proto__', 'constructor', 'NoSuchSymbol_xyz', '', 'A', 'zzzz']) {
      expect(Object.hasOwn(lazy.symbols, n), n).toBe(Object.hasOwn(all, n));
      expect(lazy.symbols[n], n).toBeUndefined();
    }
    expect(JSON.parse(JSON.stringify(lazy.symbols))).toEqual(all);
    expect(Object.keys(lazy.symbols)).toEqual(names); // same order from both paths
  });

  it.skipIf(!available)('a name is found in the first and last block of the name table, and a build of another family shares the table', () => {
    const b = new BundledProfiles(dir);
    const d7601 = b.load('339E74133576439CBCDF7E0229DA37731');
    const d22000 = b.load('32C1A669D5FFEFD41091F636CFDB6E991');
    if (!d7601 || !d22000) throw new Error('7601/22000 keyframes are not bundled');
    const keys = Object.keys(d22000.symbols).sort();
    const first = keys[0] as string;
    const last = keys[keys.length - 1] as string;
    const fresh = new BundledProfiles(dir).load('32C1A669D5FFEFD41091F636CFDB6E991');
    expect(fresh?.symbols[first]).toBe(d22000.symbols[first]);
    expect(fresh?.symbols[last]).toBe(d22000.symbols[last]);
    expect(d7601.symbols['PsActiveProcessHead']).toBeTypeOf('number');
    expect(d7601.symbols['PsActiveProcessHead']).not.toBe(d22000.symbols['PsActiveProcessHead']);
  });
});
