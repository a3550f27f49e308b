/**
 * Reading the reference symbol tables (../shared/data/windows-symbols): used by the profile converter
 * and by the test that checks every bundled profile against its source. Development-time only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatError } from '../main/engine/errors.js';
import { decompressAuto, parseJsonText } from '../main/engine/profile/decompress.js';
import { isfToProfile } from '../main/engine/profile/isf-import.js';
import type { ProfileData } from '../main/engine/profile/model.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** windows-symbols directory: argument, else $MEMSCOPE_SYMBOLS_DIR, else ../shared/data beside the repo. */
export function resolveSymbolsDir(arg?: string): string {
  const start = arg ?? process.env['MEMSCOPE_SYMBOLS_DIR'] ?? join(REPO_ROOT, '..', 'shared', 'data');
  for (const candidate of [start, join(start, 'windows-symbols')]) {
    if (existsSync(join(candidate, 'ntkrnlmp.pdb'))) return candidate;
  }
  return join(start, 'windows-symbols');
}

export interface IsfFile {
  readonly path: string;
  /** symbol-server key GUID+age(hex), upper case */
  readonly key: string;
}

/** `<dir>/ntkrnlmp.pdb/<GUID>-<age>.json.xz` files, sorted by key. */
export function listIsfFiles(symbolsDir: string): IsfFile[] {
  const dir = join(symbolsDir, 'ntkrnlmp.pdb');
  return readdirSync(dir)
    .map((f) => /^([0-9A-Fa-f]{32})-(\d+)\.json(\.xz|\.gz)?$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ path: join(dir, m[0]), key: (m[1] as string).toUpperCase() + Number(m[2]).toString(16).toUpperCase() }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** SOURCE-README.md's "| ntoskrnl version | GUID-AGE | OS |" table → key → version string. */
export function readBuildTable(symbolsDir: string): Map<string, string> {
  const text = readFileSync(join(symbolsDir, 'SOURCE-README.md'), 'utf8');
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\|\s*(\d+\.\d+\.\d+\.\d+)\s*\|\s*([0-9A-Fa-f]{33,40})\s*\|/.exec(line);
    if (m && !out.has((m[2] as string).toUpperCase())) out.set((m[2] as string).toUpperCase(), m[1] as string);
  }
  return out;
}

let nativeXz: boolean | null = null;

/** Decompressed bytes of one source file: the system `xz` when present (10x faster), else the WASM decoder. */
export async function readIsfBytes(path: string): Promise<Uint8Array> {
  const bytes = readFileSync(path);
  if (path.endsWith('.xz')) {
    if (nativeXz === null) nativeXz = spawnSync('xz', ['--version']).status === 0;
    if (nativeXz) {
      const r = spawnSync('xz', ['-dc', path], { maxBuffer: 512 * 1024 * 1024 });
      if (r.status !== 0) throw formatError(path, `xz failed: ${String(r.stderr).trim()}`);
      return r.stdout;
    }
  }
  return decompressAuto(bytes, path);
}

/** Raw ISF JSON (for comparisons) and the converted profile. */
export async function loadIsf(file: IsfFile, build: string | undefined): Promise<{ json: unknown; data: ProfileData }> {
  const json = parseJsonText(await readIsfBytes(file.path), file.path);
  return { json, data: isfToProfile(json, file.path, build ? { build } : {}) };
}
