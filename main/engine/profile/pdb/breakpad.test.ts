import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePdbIdentity, readPdbSymbols } from './index.js';
import { SHARED_PDB_DIR } from './testing/fixtures.js';

/**
 * Breakpad .sym files (written by dump_syms through Microsoft's DIA SDK) are an independent reading
 * of the same PDBs. PUBLIC lines are `PUBLIC [m] <rva> <param size> <name>` with DIA-undecorated
 * names: one leading underscore removed (on x64 too, where C names carry none — a DIA artefact) and
 * the stdcall `@<param bytes>` suffix moved into the param size column.
 */
function breakpadName(decorated: string): { name: string; paramSize: number } {
  const m = /^(.*)@(\d+)$/.exec(decorated);
  const base = m ? m[1]! : decorated;
  return { name: base.startsWith('_') ? base.slice(1) : base, paramSize: m ? Number(m[2]) : 0 };
}

interface SymPublic { rva: number; paramSize: number; name: string }

function readSym(path: string): { module: string[]; publics: SymPublic[] } {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const module = lines[0]!.split(' '); // MODULE windows <arch> <GUIDAGE> <pdb name>
  const publics: SymPublic[] = [];
  for (const line of lines) {
    const m = /^PUBLIC (?:m )?([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) publics.push({ rva: Number.parseInt(m[1]!, 16), paramSize: Number.parseInt(m[2]!, 16), name: m[3]! });
  }
  return { module, publics };
}

describe.each([
  ['CrashWithException.pdb', 'CrashWithException.pdb.sym', 'x86_64'],
  ['crash.pdb', 'crash.sym', 'x86'],
])('%s against its Breakpad .sym', (pdbFile, symFile, arch) => {
  const bytes = new Uint8Array(readFileSync(join(SHARED_PDB_DIR, pdbFile)));
  const sym = readSym(join(SHARED_PDB_DIR, symFile));

  it('has the GUID+age and architecture of the MODULE line', () => {
    const id = parsePdbIdentity(bytes, { name: pdbFile });
    expect(sym.module[1]).toBe('windows');
    expect(sym.module[2]).toBe(arch);
    expect(id.guid + id.age.toString(16).toUpperCase()).toBe(sym.module[3]);
    expect(readPdbSymbols(bytes).dbi.machine).toBe(arch === 'x86' ? 0x14c : 0x8664);
  });

  it('finds every PUBLIC line at the same RVA under the same (undecorated) name', () => {
    const table = readPdbSymbols(bytes);
    const publics = table.symbols.filter((s) => s.kind === 'public');
    expect(sym.publics.length).toBeGreaterThan(30);
    const unmatched: string[] = [];
    for (const p of sym.publics) {
      const atRva = publics.filter((s) => s.rva === p.rva);
      const hit = atRva.find((s) => {
        const u = breakpadName(s.name);
        return u.name === p.name && u.paramSize === p.paramSize;
      });
      if (!hit) unmatched.push(`${p.name}@0x${p.rva.toString(16)} (reader has: ${atRva.map((s) => s.name).join(', ') || 'nothing'})`);
    }
    expect(unmatched).toEqual([]);
  });
});
