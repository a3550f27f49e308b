/**
 * The one table of known layouts (known-layouts.data.ts) against what it is generated from, the
 * bundled profiles, and against every real symbol table in ../shared/data/windows-symbols, read
 * straight from the ISF JSON (not through the importer or the bundle), so neither can hide a fault.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledProfiles, KNOWN_LAYOUTS_FILE } from '../../../scripts/build-known-layouts.js';
import { listIsfFiles, readBuildTable, REPO_ROOT, resolveSymbolsDir } from '../../../scripts/isf-source.js';
import { MemScopeError } from '../errors.js';
import type { ProfileData, StructDef } from '../profile/model.js';
import { KNOWN_X64_LAYOUTS } from './discovery/dtb/system-process.js';
import { LAYOUT_FAMILIES } from './heuristic-profile/priors.js';
import { DERIVED_FIELDS, deriveKnownLayouts, KNOWN_LAYOUTS, type KnownLayout, ntBuildNumber, renderKnownLayouts } from './known-layouts.js';

const PROFILES = join(REPO_ROOT, 'profiles');
const SYMBOLS = resolveSymbolsDir();
const haveData = existsSync(join(SYMBOLS, 'ntkrnlmp.pdb'));

interface RawStruct { size: number; fields: Record<string, { offset: number }> }

/** The JSON object that follows `"<name>":` in ISF text, cut out by brace matching (strings respected). */
function rawStruct(isf: Buffer, name: string, path: string): RawStruct {
  const key = Buffer.from(`"${name}":`);
  const at = isf.indexOf(key);
  if (at < 0) throw new Error(`${path}: no ${name}`);
  const start = isf.indexOf('{', at + key.length);
  let depth = 0;
  let inString = false;
  for (let i = start; i < isf.length; i++) {
    const c = isf[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash escapes the next byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) {
      const s = JSON.parse(isf.subarray(start, i + 1).toString('utf8')) as Partial<RawStruct>;
      if (typeof s.size !== 'number' || typeof s.fields !== 'object') throw new Error(`${path}: ${name} is not a user type`);
      return s as RawStruct;
    }
  }
  throw new Error(`${path}: ${name} is not closed`);
}

function unxz(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('xz', ['-dc', path]);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`xz -dc ${path} exited ${code}`))));
  });
}

const off = (s: RawStruct, field: string): number | undefined => s.fields[field]?.offset;

describe('known layouts', () => {
  it('are exactly what the bundled profiles give (the generated file is not stale or hand-edited)', () => {
    const derived = deriveKnownLayouts(bundledProfiles(PROFILES));
    expect(derived).toEqual(KNOWN_LAYOUTS);
    expect(readFileSync(KNOWN_LAYOUTS_FILE, 'utf8')).toBe(renderKnownLayouts(derived));
  });

  it('are the one table both consumers use', () => {
    expect(LAYOUT_FAMILIES).toBe(KNOWN_LAYOUTS);
    // discovery tries each distinct (pid, name, dtb) triple once, newest first
    const triples = KNOWN_LAYOUTS.map((l) => `${l.eprocess.UniqueProcessId}/${l.eprocess.ImageFileName}/${l.directoryTableBase}`);
    expect(KNOWN_X64_LAYOUTS.map((l) => `${l.uniqueProcessId}/${l.imageFileName}/${l.directoryTableBase}`))
      .toEqual([...new Set(triples.reverse())]);
  });

  it('keep the rules the heuristic relies on', () => {
    for (const l of KNOWN_LAYOUTS) {
      expect(l.eprocess.ActiveProcessLinks, l.label).toBe(l.eprocess.UniqueProcessId + 8);
      expect(l.directoryTableBase, l.label).toBe(0x28);
      expect(l.eprocess.ImageFileName, l.label).toBeGreaterThan(l.eprocess.UniqueProcessId);
    }
  });

  it('refuse a profile that lacks a field, or layouts whose build ranges interleave', () => {
    const [first] = bundledProfiles(PROFILES);
    const p = first as ProfileData;
    const eprocess = p.types['_EPROCESS'] as StructDef;
    const { Peb: _dropped, ...fields } = eprocess.fields;
    const noPeb: ProfileData = { ...p, types: { ...p.types, _EPROCESS: { ...eprocess, fields } } };
    expect(() => deriveKnownLayouts([noPeb])).toThrow(MemScopeError);
    expect(() => deriveKnownLayouts([noPeb])).toThrow(/has no _EPROCESS\.Peb/);
    expect(() => deriveKnownLayouts([{ ...p, build: 'ten' }])).toThrow(/build string "ten"/);

    // the same layout at builds 100 and 300 around another at 200: no single range describes it
    const moved: ProfileData = { ...p, types: { ...p.types, _EPROCESS: { ...eprocess, fields: { ...eprocess.fields, Peb: { ...eprocess.fields['Peb']!, offset: 0x7f8 } } } } };
    expect(() => deriveKnownLayouts([{ ...p, build: '10.0.100.1' }, { ...moved, build: '10.0.200.1' }, { ...p, build: '10.0.300.1' }]))
      .toThrow(/overlap in build range/);
  });
});

describe.skipIf(!haveData)('known layouts against the reference symbol tables', () => {
  it('give every one of the 213 real tables its own offsets, and hold no layout no table has', async () => {
    const files = listIsfFiles(SYMBOLS);
    const versions = readBuildTable(SYMBOLS);
    expect(files.length).toBe(213);
    const problems: string[] = [];
    const used = new Set<KnownLayout>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length) {
        const file = files[next++]!;
        const version = versions.get(file.key);
        if (version === undefined) { problems.push(`${file.key}: no version in SOURCE-README.md`); continue; }
        const build = ntBuildNumber(version, file.key);
        const isf = await unxz(file.path);
        const ep = rawStruct(isf, '_EPROCESS', file.path);
        const kp = rawStruct(isf, '_KPROCESS', file.path);
        const ht = rawStruct(isf, '_HANDLE_TABLE', file.path);
        const covering = KNOWN_LAYOUTS.filter((l) => build >= l.builds[0] && build <= l.builds[1]);
        if (covering.length !== 1) { problems.push(`${version}: ${covering.length} layouts cover build ${build}`); continue; }
        const l = covering[0]!;
        used.add(l);
        const want = (what: string, mine: number, theirs: number | undefined) => {
          if (mine !== theirs) problems.push(`${version} (${l.label}): ${what} is ${theirs} in the ISF, ${mine} in the table`);
        };
        for (const f of DERIVED_FIELDS) want(`_EPROCESS.${f}`, l.eprocess[f], off(ep, f));
        want('_EPROCESS.Pcb + _KPROCESS.DirectoryTableBase', l.directoryTableBase, (off(ep, 'Pcb') ?? NaN) + (off(kp, 'DirectoryTableBase') ?? NaN));
        want('_HANDLE_TABLE.QuotaProcess', l.handleTable.quotaProcess, off(ht, 'QuotaProcess'));
        want('_HANDLE_TABLE.UniqueProcessId', l.handleTable.uniqueProcessId, off(ht, 'UniqueProcessId'));
        const triple = KNOWN_X64_LAYOUTS.some((d) => d.uniqueProcessId === off(ep, 'UniqueProcessId') &&
          d.imageFileName === off(ep, 'ImageFileName') && d.directoryTableBase === l.directoryTableBase);
        if (!triple) problems.push(`${version}: discovery has no layout for its System process`);
      }
    };
    await Promise.all([worker(), worker()]);
    expect(problems).toEqual([]);
    expect(KNOWN_LAYOUTS.filter((l) => !used.has(l)).map((l) => l.label)).toEqual([]);
  }, 180_000);
});
