import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProfileData, TypeRef } from '../model.js';
import { parsePdbIdentity, pdbToProfile, readPdbSymbols } from './index.js';
import { MsfFile } from './msf.js';
import { SHARED_PDB_DIR, registryPdbPath } from './testing/fixtures.js';
import { dumpSections, parseDataGlobals, parsePublics, parseSectionVAs, parseSummary, parseTypes, type LlvmType } from './testing/llvm-pdbutil.js';
import { readTypeStream } from './tpi.js';
import { TypeConverter, isUnnamed } from './types-to-profile.js';

/**
 * Cross-check against LLVM's independent PDB reader. Requires llvm-pdbutil (Debian llvm-14): these
 * tests fail, not skip, when it is missing.
 */
const PDBS: [string, () => string][] = [
  ['CrashWithException.pdb (x64)', () => join(SHARED_PDB_DIR, 'CrashWithException.pdb')],
  ['crash.pdb (x86)', () => join(SHARED_PDB_DIR, 'crash.pdb')],
  ['registry.pdb (registry-js@1.10.0)', registryPdbPath],
];

const STRUCT_LEAVES = new Set(['LF_STRUCTURE', 'LF_CLASS', 'LF_UNION', 'LF_INTERFACE']);

describe.each(PDBS)('%s against llvm-pdbutil', (_label, pathOf) => {
  let path: string;
  let bytes: Uint8Array;
  let profile: ProfileData;
  let llvmTypes: Map<number, LlvmType>;
  let dump: ReturnType<typeof dumpSections>;

  beforeAll(() => {
    path = pathOf();
    bytes = new Uint8Array(readFileSync(path));
    profile = pdbToProfile(bytes, { label: path });
    dump = dumpSections(path);
    llvmTypes = parseTypes(dump.types);
  });

  /** Name our converter gives the definition llvm calls `t`. */
  const expectedName = (t: LlvmType): string => (isUnnamed(t.name ?? '') ? `__unnamed_${t.index.toString(16)}` : t.name!);

  it('reads the same GUID and age', () => {
    const s = parseSummary(dump.summary);
    const id = parsePdbIdentity(bytes);
    expect(id.guid).toBe(s.guid);
    expect(id.age).toBe(s.age);
    expect(profile.pdb).toEqual(id);
  });

  it('lists exactly the same public symbols at the same RVAs', () => {
    const vas = parseSectionVAs(dump.sections);
    const theirs = parsePublics(dump.publics)
      .filter((p) => p.segment > 0 && p.segment < vas.length)
      .map((p) => `${p.name}@${(vas[p.segment]! + p.offset).toString(16)}`)
      .sort();
    const ours = readPdbSymbols(bytes).symbols.filter((s) => s.kind === 'public').map((s) => `${s.name}@${s.rva.toString(16)}`).sort();
    expect(theirs.length).toBeGreaterThan(100);
    expect(ours).toEqual(theirs);
    // Every public lands in the profile's symbol map (first RVA wins for duplicated names).
    for (const s of readPdbSymbols(bytes).symbols) expect(profile.symbols[s.name]).toBeTypeOf('number');
  });

  it('lists the same global/local data symbols (S_GDATA32/S_LDATA32) at the same RVAs', () => {
    const vas = parseSectionVAs(dump.sections);
    const theirs = parseDataGlobals(dump.globals)
      .filter((p) => p.segment > 0 && p.segment < vas.length)
      .map((p) => `${p.kind}:${p.name}@${(vas[p.segment]! + p.offset).toString(16)}`)
      .sort();
    const ours = readPdbSymbols(bytes).symbols.filter((s) => s.kind !== 'public').map((s) => `${s.kind}:${s.name}@${s.rva.toString(16)}`).sort();
    expect(theirs.length).toBeGreaterThan(10);
    expect(ours).toEqual(theirs);
  });

  it('resolves every forward reference to the definition llvm-pdbutil names', () => {
    const conv = new TypeConverter(readTypeStream(MsfFile.open(bytes)), profile.pointerSize);
    let checked = 0;
    for (const t of llvmTypes.values()) {
      if (t.forwardTo === undefined) continue;
      expect(conv.resolve(t.index), `0x${t.index.toString(16)} ${t.name}`).toBe(t.forwardTo);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('gives every struct/union its size and every member its offset and kind of type', () => {
    const seen = new Set<string>();
    let fieldsChecked = 0;
    let bitfields = 0;
    for (const t of llvmTypes.values()) {
      if (!STRUCT_LEAVES.has(t.leaf) || t.fwdRef) continue;
      const name = expectedName(t);
      if (seen.has(name)) continue; // the profile keeps the first definition of a name
      seen.add(name);
      const ours = profile.types[name];
      expect(ours, name).toBeDefined();
      expect(ours!.size, `${name} size`).toBe(t.size);
      expect(ours!.kind).toBe(t.leaf === 'LF_UNION' ? 'union' : 'struct');
      const members = t.fieldList === undefined ? [] : llvmTypes.get(t.fieldList)?.members ?? [];
      const names = new Set<string>();
      for (const m of members) {
        if (m.leaf !== 'LF_MEMBER' || names.has(m.name)) continue;
        names.add(m.name);
        const f = ours!.fields[m.name];
        expect(f, `${name}.${m.name}`).toBeDefined();
        expect(f!.offset, `${name}.${m.name} offset`).toBe(m.offset);
        checkTypeKind(f!.type, m.type, `${name}.${m.name}`);
        if (f!.type.kind === 'bitfield') bitfields++;
        fieldsChecked++;
      }
      expect(Object.keys(ours!.fields).length, `${name} field count`).toBe(names.size);
    }
    expect(seen.size).toBeGreaterThan(50);
    expect(fieldsChecked).toBeGreaterThan(200);
    expect(bitfields).toBeGreaterThan(0);
  });

  it('gives every enum the same constants', () => {
    const seen = new Set<string>();
    for (const t of llvmTypes.values()) {
      if (t.leaf !== 'LF_ENUM' || t.fwdRef) continue;
      const name = expectedName(t);
      if (seen.has(name)) continue;
      seen.add(name);
      const expected: Record<string, number> = {};
      for (const m of llvmTypes.get(t.fieldList ?? -1)?.members ?? []) if (!(m.name in expected)) expected[m.name] = Number(m.value);
      expect(profile.enums[name]?.constants, name).toEqual(expected);
    }
    expect(seen.size).toBeGreaterThan(10);
  });

  /** The member's type as llvm-pdbutil decodes it must map to the same TypeRef kind (and bitfield geometry). */
  function checkTypeKind(ref: TypeRef, ti: number, what: string): void {
    let t = llvmTypes.get(ti);
    while (t?.leaf === 'LF_MODIFIER' && t.referent !== undefined) { ti = t.referent; t = llvmTypes.get(ti); }
    if (ti < 0x1000) {
      expect(ref.kind, what).toBe((ti >> 8) & 0xf ? 'pointer' : 'base');
      return;
    }
    switch (t?.leaf) {
      case 'LF_BITFIELD':
        expect(ref, what).toMatchObject({ kind: 'bitfield', bitPosition: t.bitfield!.position, bitLength: t.bitfield!.length });
        break;
      case 'LF_POINTER': expect(ref.kind, what).toBe('pointer'); break;
      case 'LF_ARRAY': expect(ref.kind, what).toBe('array'); break;
      case 'LF_ENUM': expect(ref.kind, what).toBe('enum'); break;
      case 'LF_PROCEDURE': case 'LF_MFUNCTION': expect(ref.kind, what).toBe('function'); break;
      default:
        if (t && STRUCT_LEAVES.has(t.leaf)) {
          const def = t.forwardTo !== undefined ? llvmTypes.get(t.forwardTo)! : t;
          expect(ref, what).toEqual({ kind: 'struct', name: expectedName(def) });
        }
    }
  }
});
