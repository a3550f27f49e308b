import { gzip } from 'pako';
import { packEnum, packStruct, VarintWriter, writeContainer } from './bundle-codec.js';
import { BUNDLED_ROOT_TYPES, keptTypeClosure } from './bundle-roots.js';
import { guidAgeKey, type BaseType, type ProfileData } from './model.js';

/**
 * Builds the compact bundled-profile set from many full profiles (the converter's core; file IO lives
 * in scripts/build-profiles.ts). Size comes from sharing, not cleverness:
 *  - builds are grouped into families by build number (7601, 9600, 19041, …);
 *  - each family stores every distinct struct/enum layout once; a build lists pool indices;
 *  - symbol names live once in a global sorted table (a container of gzipped blocks of
 *    SYMBOL_NAME_BLOCK names plus a "heads" segment of each block's first name, so a look-up binary
 *    searches the heads and inflates one block); a family orders its names by the RVA they have
 *    in the family's first build (its keyframe), so the keyframe stores small RVA gaps and every other
 *    build stores its difference to the keyframe, which is piecewise constant (whole sections move
 *    together between patch builds) and compresses to almost nothing after a second delta.
 * Each build's symbol segment depends only on the keyframe, so loading decodes two segments, not a chain.
 */

export const BUNDLE_FORMAT = 'memscope-profiles/2';
export const SYMBOL_NAMES_FILE = 'symbol-names.msp';
/** Names per block of the symbol-name container: a look-up inflates one ~20 KB block, not all 2.5 MB. */
export const SYMBOL_NAME_BLOCK = 512;
export const INDEX_FILE = 'index.json';

export interface BundleIndexEntry {
  readonly key: string;
  readonly pdb: string;
  readonly guid: string;
  readonly age: number;
  readonly build?: string;
  readonly family: string;
  readonly pointerSize: 4 | 8;
}

export interface BundleIndex {
  readonly format: string;
  readonly license?: string;
  readonly symbolNames: string;
  readonly symbolNameCount: number;
  /** names per block in the symbol-name container (format 2) */
  readonly symbolNameBlock: number;
  readonly families: Readonly<Record<string, { readonly file: string; readonly keyframe: string; readonly symbolCount: number }>>;
  readonly builds: readonly BundleIndexEntry[];
}

/** JSON layout of a family's "types" segment. */
export interface FamilyTypes {
  readonly typeNames: string[];
  readonly enumNames: string[];
  readonly structs: unknown[][];
  readonly enums: unknown[][];
  readonly baseTypes: Record<string, BaseType>[];
  /** per build: t[i] = pool index of typeNames[i] (-1 absent), e likewise, b = baseTypes pool index */
  readonly builds: Record<string, { t: number[]; e: number[]; b: number }>;
}

interface BuildAcc {
  key: string;
  entry: BundleIndexEntry;
  versionOrder: number[];
  symIds: Int32Array;
  symRvas: Float64Array;
  typeSlots: Map<number, number>; // typeName index -> struct pool index
  enumSlots: Map<number, number>;
  baseIdx: number;
}

interface FamilyAcc {
  name: string;
  builds: BuildAcc[];
  typeNames: Map<string, number>;
  enumNames: Map<string, number>;
  structPool: Map<string, number>;
  enumPool: Map<string, number>;
  basePool: Map<string, number>;
}

export interface BundleOutput {
  /** file name (relative to the profiles dir) -> bytes */
  readonly files: Map<string, Uint8Array>;
  readonly index: BundleIndex;
}

/** Family of a version string "10.0.19041.508" → "19041"; unknown builds share "unknown". */
export function familyOf(build: string | undefined): string {
  const m = build ? /^\d+\.\d+\.(\d+)\./.exec(build) : null;
  return m?.[1] ?? 'unknown';
}

function versionOrder(build: string | undefined): number[] {
  return build ? build.split('.').map((x) => Number(x) || 0) : [];
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

export class BundleWriter {
  private readonly families = new Map<string, FamilyAcc>();
  private readonly nameIds = new Map<string, number>();
  private readonly keys = new Set<string>();

  constructor(private readonly roots: readonly string[] = BUNDLED_ROOT_TYPES) {}

  /** Add one build; only the kept types (roots + by-value closure) and all symbols are retained. */
  add(data: ProfileData): void {
    const key = guidAgeKey(data.pdb);
    if (this.keys.has(key)) throw new Error(`duplicate profile ${key}`);
    this.keys.add(key);
    const familyName = familyOf(data.build);
    let fam = this.families.get(familyName);
    if (!fam) {
      fam = { name: familyName, builds: [], typeNames: new Map(), enumNames: new Map(), structPool: new Map(), enumPool: new Map(), basePool: new Map() };
      this.families.set(familyName, fam);
    }
    const { types, enums } = keptTypeClosure(data, this.roots);
    const typeSlots = new Map<number, number>();
    for (const name of [...types].sort()) {
      const def = data.types[name];
      if (def) typeSlots.set(slot(fam.typeNames, name), slot(fam.structPool, JSON.stringify(packStruct(def))));
    }
    const enumSlots = new Map<number, number>();
    for (const name of [...enums].sort()) {
      const def = data.enums[name];
      if (def) enumSlots.set(slot(fam.enumNames, name), slot(fam.enumPool, JSON.stringify(packEnum(def))));
    }
    const symNames = Object.keys(data.symbols);
    const symIds = new Int32Array(symNames.length);
    const symRvas = new Float64Array(symNames.length);
    symNames.forEach((n, i) => {
      symIds[i] = slot(this.nameIds, n);
      symRvas[i] = data.symbols[n] as number;
    });
    fam.builds.push({
      key,
      entry: {
        key,
        pdb: data.pdb.name,
        guid: data.pdb.guid,
        age: data.pdb.age,
        ...(data.build ? { build: data.build } : {}),
        family: familyName,
        pointerSize: data.pointerSize,
      },
      versionOrder: versionOrder(data.build),
      symIds,
      symRvas,
      typeSlots,
      enumSlots,
      baseIdx: slot(fam.basePool, JSON.stringify(sortedRecord(data.baseTypes))),
    });
  }

  finish(license?: string): BundleOutput {
    const files = new Map<string, Uint8Array>();
    // global symbol-name table, sorted so it compresses well and is stable between runs
    const sortedNames = [...this.nameIds.keys()].sort();
    const remap = new Int32Array(sortedNames.length);
    sortedNames.forEach((n, i) => (remap[this.nameIds.get(n) as number] = i));
    files.set(SYMBOL_NAMES_FILE, encodeSymbolNames(sortedNames));

    const families: Record<string, { file: string; keyframe: string; symbolCount: number }> = {};
    const entries: BundleIndexEntry[] = [];
    for (const fam of [...this.families.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      fam.builds.sort((a, b) => compareVersions(a.versionOrder, b.versionOrder) || a.key.localeCompare(b.key));
      const file = `ntkrnlmp-${fam.name}.msp`;
      const { segments, symbolCount } = encodeFamily(fam, remap);
      files.set(file, writeContainer(segments));
      const keyframe = fam.builds[0] as BuildAcc;
      families[fam.name] = { file, keyframe: keyframe.key, symbolCount };
      for (const b of fam.builds) entries.push(b.entry);
    }
    const index: BundleIndex = {
      format: BUNDLE_FORMAT,
      ...(license ? { license } : {}),
      symbolNames: SYMBOL_NAMES_FILE,
      symbolNameCount: sortedNames.length,
      symbolNameBlock: SYMBOL_NAME_BLOCK,
      families,
      builds: entries,
    };
    files.set(INDEX_FILE, new TextEncoder().encode(JSON.stringify(index, null, 1) + '\n'));
    return { files, index };
  }
}

/**
 * The sorted global name table as a container: segment "heads" = first name of every block, segment
 * "b<k>" = names k*blockSize … (k+1)*blockSize-1; each gzipped, names joined by "\n".
 */
export function encodeSymbolNames(sortedNames: readonly string[], blockSize = SYMBOL_NAME_BLOCK): Uint8Array {
  const text = (names: readonly string[]) => gzip(new TextEncoder().encode(names.join('\n')), { level: 9 });
  const segments = new Map<string, Uint8Array>();
  const heads: string[] = [];
  for (let k = 0; k * blockSize < sortedNames.length; k++) heads.push(sortedNames[k * blockSize] as string);
  segments.set('heads', text(heads));
  heads.forEach((_, k) => segments.set(`b${k}`, text(sortedNames.slice(k * blockSize, (k + 1) * blockSize))));
  return writeContainer(segments);
}

function encodeFamily(fam: FamilyAcc, remap: Int32Array): { segments: Map<string, Uint8Array>; symbolCount: number } {
  const segments = new Map<string, Uint8Array>();
  const typeNames = [...fam.typeNames.keys()];
  const enumNames = [...fam.enumNames.keys()];
  const types: FamilyTypes = {
    typeNames,
    enumNames,
    structs: [...fam.structPool.keys()].map((s) => JSON.parse(s) as unknown[]),
    enums: [...fam.enumPool.keys()].map((s) => JSON.parse(s) as unknown[]),
    baseTypes: [...fam.basePool.keys()].map((s) => JSON.parse(s) as Record<string, BaseType>),
    builds: {},
  };
  for (const b of fam.builds) {
    types.builds[b.key] = {
      t: typeNames.map((_, i) => b.typeSlots.get(i) ?? -1),
      e: enumNames.map((_, i) => b.enumSlots.get(i) ?? -1),
      b: b.baseIdx,
    };
  }
  segments.set('types', gzip(new TextEncoder().encode(JSON.stringify(types)), { level: 9 }));

  // symbol order: by RVA in the keyframe build; names the keyframe lacks follow, by name index
  const keyframe = fam.builds[0] as BuildAcc;
  const keyValue = new Map<number, number>();
  keyframe.symIds.forEach((id, i) => keyValue.set(remap[id] as number, keyframe.symRvas[i] as number));
  const all = new Set<number>();
  for (const b of fam.builds) for (const id of b.symIds) all.add(remap[id] as number);
  const order = [...all].sort((x, y) => {
    const a = keyValue.get(x);
    const b = keyValue.get(y);
    if (a !== undefined && b !== undefined) return a - b || x - y;
    if (a !== undefined) return -1;
    if (b !== undefined) return 1;
    return x - y;
  });
  const orderW = new VarintWriter();
  for (const id of order) orderW.push(id);
  segments.set('order', gzip(orderW.bytes(), { level: 9 }));

  // value = RVA + 1, 0 = symbol absent in this build
  const pos = new Map<number, number>();
  order.forEach((id, i) => pos.set(id, i));
  const values = (b: BuildAcc): Float64Array => {
    const v = new Float64Array(order.length);
    b.symIds.forEach((id, i) => (v[pos.get(remap[id] as number) as number] = (b.symRvas[i] as number) + 1));
    return v;
  };
  const base = values(keyframe);
  for (const b of fam.builds) {
    const w = new VarintWriter();
    if (b === keyframe) {
      let prev = 0;
      for (const x of base) {
        w.pushSigned(x - prev);
        prev = x;
      }
    } else {
      const v = values(b);
      let prevDiff = 0;
      for (let i = 0; i < v.length; i++) {
        const diff = (v[i] as number) - (base[i] as number);
        w.pushSigned(diff - prevDiff);
        prevDiff = diff;
      }
    }
    segments.set(`sym:${b.key}`, gzip(w.bytes(), { level: 9 }));
  }
  return { segments, symbolCount: order.length };
}

function slot(map: Map<string, number>, key: string): number {
  let v = map.get(key);
  if (v === undefined) {
    v = map.size;
    map.set(key, v);
  }
  return v;
}

function sortedRecord<T>(r: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k] as T;
  return out;
}
