import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { ioError } from '../errors.js';
import { formatError } from '../errors.js';
import { readContainer, readVarints, unpackEnum, unpackStruct, unzigzag } from './bundle-codec.js';
import { BUNDLE_FORMAT, INDEX_FILE, type BundleIndex, type BundleIndexEntry, type FamilyTypes } from './bundle-writer.js';
import { MAX_PROFILE_BYTES, parseJsonText } from './decompress.js';
import { arrayAt, dict, isObject, objectAt, stringAt } from './json-guard.js';
import { lazyRecord } from './lazy-record.js';
import type { BaseType, EnumDef, ProfileData, StructDef } from './model.js';
import { SymbolNameTable } from './symbol-name-table.js';

/**
 * Read-only access to the bundled profile set written by `npm run profiles:build` (see
 * bundle-writer.ts for the layout). Nothing is decoded up front: index.json is read on first use, and
 * loading one build inflates only its family's type pool, the family's symbol order, its keyframe's
 * symbols and its own symbols. Decoded family data is cached for the next build of the same family.
 */
export class BundledProfiles {
  private indexCache: BundleIndex | null = null;
  private names: SymbolNameTable | null = null;
  private readonly families = new Map<string, FamilyCache>();

  constructor(readonly dir: string = defaultBundledDir()) {}

  /** False when the directory has no index (e.g. profiles not built): the store then has no bundled set. */
  available(): boolean {
    return existsSync(join(this.dir, INDEX_FILE));
  }

  index(): BundleIndex {
    if (this.indexCache) return this.indexCache;
    const path = join(this.dir, INDEX_FILE);
    const json = parseJsonText(readBytes(path), path);
    const o = objectAt(json, path, 'bundle index');
    if (o['format'] !== BUNDLE_FORMAT) throw formatError(path, `bundle format ${String(o['format'])} is not ${BUNDLE_FORMAT}`);
    arrayAt(o['builds'], path, 'builds');
    objectAt(o['families'], path, 'families');
    stringAt(o['symbolNames'], path, 'symbolNames');
    if (typeof o['symbolNameCount'] !== 'number' || typeof o['symbolNameBlock'] !== 'number') throw formatError(path, 'symbol name count or block size is missing');
    this.indexCache = o as unknown as BundleIndex;
    return this.indexCache;
  }

  list(): readonly BundleIndexEntry[] {
    return this.available() ? this.index().builds : [];
  }

  entry(key: string): BundleIndexEntry | undefined {
    const k = key.toUpperCase();
    return this.list().find((e) => e.key === k);
  }

  /** The full ProfileData of one bundled build, or null when the key is not bundled. */
  load(key: string): ProfileData | null {
    const entry = this.entry(key);
    if (!entry) return null;
    const index = this.index();
    const famInfo = index.families[entry.family];
    if (!famInfo) throw formatError(join(this.dir, INDEX_FILE), `family ${entry.family} of ${entry.key} is not listed`);
    const famPath = join(this.dir, famInfo.file);
    const fam = this.family(entry.family, famPath);
    const b = fam.types.builds[entry.key];
    if (!b) throw formatError(famPath, `has no type map for ${entry.key}`);

    const types = dict<StructDef>();
    b.t.forEach((poolIdx, i) => {
      if (poolIdx < 0) return;
      const name = fam.types.typeNames[i];
      const packed = fam.types.structs[poolIdx];
      if (name === undefined || !packed) throw formatError(famPath, `type slot ${i} of ${entry.key} is out of range`);
      types[name] = unpackStruct(packed, `${famPath} ${name}`);
    });
    const enums = dict<EnumDef>();
    b.e.forEach((poolIdx, i) => {
      if (poolIdx < 0) return;
      const name = fam.types.enumNames[i];
      const packed = fam.types.enums[poolIdx];
      if (name === undefined || !packed) throw formatError(famPath, `enum slot ${i} of ${entry.key} is out of range`);
      enums[name] = unpackEnum(packed, `${famPath} ${name}`);
    });
    const baseTypes = fam.types.baseTypes[b.b];
    if (!baseTypes) throw formatError(famPath, `base type set of ${entry.key} is out of range`);

    return {
      pdb: { name: entry.pdb, guid: entry.guid, age: entry.age },
      ...(entry.build ? { build: entry.build } : {}),
      pointerSize: entry.pointerSize,
      baseTypes: Object.assign(dict<BaseType>(), baseTypes),
      types,
      enums,
      symbols: this.symbols(entry, famInfo.keyframe, famInfo.symbolCount, fam, famPath),
    };
  }

  /**
   * The build's symbols as a lazy record: a name resolves by binary search in the global sorted name
   * table, then through the family's inverse slot order to this build's value (RVA + 1, 0 = absent).
   * Nothing per name is allocated unless the whole key set is asked for.
   */
  private symbols(entry: BundleIndexEntry, keyframeKey: string, count: number, fam: FamilyCache, famPath: string): Record<string, number> {
    const table = this.symbolNames();
    const slots = this.slotsOf(fam, count, famPath);
    if (!fam.keyframe) {
      const what = `${famPath} sym:${keyframeKey}`;
      const raw = readVarints(inflate(fam.seg(`sym:${keyframeKey}`), what), count, what);
      let prev = 0;
      for (let i = 0; i < raw.length; i++) raw[i] = prev = prev + unzigzag(raw[i] as number);
      checkValues(raw, what);
      fam.keyframe = raw;
    }
    const base = fam.keyframe;
    let values = base;
    if (entry.key !== keyframeKey) {
      const what = `${famPath} sym:${entry.key}`;
      values = readVarints(inflate(fam.seg(`sym:${entry.key}`), what), count, what);
      let diff = 0;
      for (let i = 0; i < values.length; i++) {
        diff += unzigzag(values[i] as number);
        values[i] = (base[i] as number) + diff;
      }
      checkValues(values, what);
    }
    const { order, slotOfName } = slots;
    return lazyRecord<number>({
      get(name) {
        const id = table.indexOf(name);
        if (id < 0) return undefined;
        const s = slotOfName[id] as number;
        const v = s < 0 ? 0 : (values[s] as number);
        return v === 0 ? undefined : v - 1;
      },
      *entries() {
        const names = table.all();
        for (let i = 0; i < count; i++) {
          const v = values[i] as number;
          if (v !== 0) yield [names[order[i] as number] as string, v - 1] as const;
        }
      },
    });
  }

  /** The family's slot order (slot -> name index) and its inverse (name index -> slot, -1 = none). */
  private slotsOf(fam: FamilyCache, count: number, famPath: string): { order: Float64Array; slotOfName: Int32Array } {
    if (fam.slots) return fam.slots;
    const nameCount = this.symbolNames().count;
    const order = readVarints(inflate(fam.seg('order'), `${famPath} order`), count, `${famPath} order`);
    const slotOfName = new Int32Array(nameCount).fill(-1);
    for (let i = 0; i < count; i++) {
      const id = order[i] as number;
      if (id >= nameCount || slotOfName[id] !== -1) throw formatError(`${famPath} order`, `symbol slot ${i} names ${id >= nameCount ? 'no symbol' : 'a symbol twice'}`);
      slotOfName[id] = i;
    }
    fam.slots = { order, slotOfName };
    return fam.slots;
  }

  private symbolNames(): SymbolNameTable {
    if (this.names) return this.names;
    const index = this.index();
    const path = join(this.dir, index.symbolNames);
    this.names = new SymbolNameTable(readContainer(readBytes(path), path), inflate, index.symbolNameCount, index.symbolNameBlock, path);
    return this.names;
  }

  private family(name: string, path: string): FamilyCache {
    let fam = this.families.get(name);
    if (!fam) {
      const seg = readContainer(readBytes(path), path);
      const json = parseJsonText(inflate(seg('types'), `${path} types`), `${path} types`);
      if (!isObject(json) || !Array.isArray(json['typeNames']) || !Array.isArray(json['structs']) || !isObject(json['builds'])) {
        throw formatError(path, 'types segment is malformed');
      }
      fam = { seg, types: json as unknown as FamilyTypes, slots: null, keyframe: null };
      this.families.set(name, fam);
    }
    return fam;
  }
}

/** Decoded per-family data, kept for the next build of the same family. */
interface FamilyCache {
  readonly seg: (name: string) => Uint8Array;
  readonly types: FamilyTypes;
  slots: { readonly order: Float64Array; readonly slotOfName: Int32Array } | null;
  keyframe: Float64Array | null;
}

/** Every value is RVA + 1 (0 = absent), so a negative or fractional one means a corrupt segment. */
function checkValues(values: Float64Array, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v < 0 || !Number.isSafeInteger(v)) throw formatError(what, `symbol slot ${i} is corrupt`);
  }
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw ioError(path, err);
  }
}

/**
 * `profiles/` at the repository (or packaged app) root: found by walking up from this module, so it
 * works from the TypeScript sources (tsx/vitest) and from dist/ alike. MEMSCOPE_BUNDLED_PROFILES overrides.
 */
export function defaultBundledDir(): string {
  const env = process.env['MEMSCOPE_BUNDLED_PROFILES'];
  if (env) return env;
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'profiles', INDEX_FILE)) || existsSync(join(dir, 'package.json'))) return join(dir, 'profiles');
    const up = join(dir, '..');
    if (up === dir) break;
    dir = up;
  }
  return join(process.cwd(), 'profiles');
}

/** Bundled files are inflated with Node's native zlib (same gzip format the converter writes with pako; ~5x faster). */
function inflate(bytes: Uint8Array, what: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_PROFILE_BYTES, chunkSize: outputChunk(bytes) });
  } catch (err) {
    throw formatError(what, `corrupt gzip data (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * One output chunk big enough for the whole member, so zlib hands back its buffer instead of
 * concatenating 16 KiB pieces (a 2.5 MB copy for the name table). Sized from the gzip trailer's ISIZE
 * (RFC 1952: uncompressed length mod 2^32); capped, so a corrupt trailer cannot force a huge allocation
 * (larger outputs still inflate correctly, in several chunks).
 */
function outputChunk(bytes: Uint8Array): number {
  if (bytes.length < 18) return 16 * 1024;
  const isize = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
  return Math.min(Math.max(isize + 1, 1024), 16 * 1024 * 1024);
}
