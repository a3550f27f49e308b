import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzip } from 'pako';
import { ioError } from '../../errors.js';
import { gunzipBounded, parseJsonText } from '../decompress.js';
import type { ProfileData } from '../model.js';

/**
 * The user's profile directory: `$MEMSCOPE_HOME`, else `~/.memscope`. Downloaded PDBs live under
 * `symbols/` in symstore layout (so it can also serve as a downstream store for other tools);
 * converted profiles under `profiles/<pdb>/<GUIDAGE>.json.gz` (gzipped ProfileData JSON).
 */
export function memscopeHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEMSCOPE_HOME || join(homedir(), '.memscope');
}

export function cachedPdbPath(home: string, pdbName: string, guidAge: string): string {
  return join(home, 'symbols', pdbName, guidAge, pdbName);
}

export function cachedProfilePath(home: string, pdbName: string, guidAge: string): string {
  return join(home, 'profiles', pdbName, `${guidAge}.json.gz`);
}

export async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw ioError(path, e);
  }
}

/** A cached converted profile, or null when it is absent or unusable (then the caller reconverts). */
export async function readCachedProfile(path: string, guid: string, age: number): Promise<ProfileData | null> {
  const bytes = await readIfExists(path);
  if (!bytes) return null;
  try {
    const data = parseJsonText(gunzipBounded(bytes, path), path) as ProfileData;
    // Shape check only: a PDB may legitimately reference by value a nested type it merely forward-declares
    // (CrashWithException.pdb: _SLIST_HEADER::<unnamed-type-HeaderX64>), so checkReferences() is too strict here.
    const ok = data?.pdb?.guid === guid && data.pdb.age === age && (data.pointerSize === 4 || data.pointerSize === 8) &&
      [data.types, data.enums, data.symbols, data.baseTypes].every((o) => typeof o === 'object' && o !== null && !Array.isArray(o));
    return ok ? data : null;
  } catch {
    return null;
  }
}

/**
 * Write several files so that each appears complete or not at all: all contents go to temp files
 * beside their targets first, then each is renamed into place (rename is atomic on one filesystem).
 * On any failure every temp file is removed.
 */
export async function writeFilesAtomically(files: readonly { path: string; bytes: Uint8Array }[]): Promise<void> {
  const temps: string[] = [];
  try {
    for (const f of files) {
      await mkdir(dirname(f.path), { recursive: true });
      const tmp = `${f.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      temps.push(tmp);
      await writeFile(tmp, f.bytes, { flag: 'wx' });
    }
    for (let i = 0; i < files.length; i++) await rename(temps[i]!, files[i]!.path);
  } catch (e) {
    await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)));
    throw ioError(files[0]?.path ?? 'cache', e);
  }
}

export function encodeProfile(data: ProfileData): Uint8Array {
  return gzip(new TextEncoder().encode(JSON.stringify(data)));
}
