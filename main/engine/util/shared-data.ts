import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The reference data set (`shared/data/`: real Windows symbol tables and PDBs) that development
 * checkouts and CI have beside the repository: `$MEMSCOPE_SHARED_DATA`, else the first `shared/data`
 * found walking up from this module. Null where it is absent (an installed MemScope).
 */
export function sharedDataDir(): string | null {
  const env = process.env['MEMSCOPE_SHARED_DATA'];
  if (env) return existsSync(env) ? env : null;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 12; i++) {
    const cand = join(dir, 'shared', 'data');
    if (existsSync(join(cand, 'windows-symbols'))) return cand;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** A path inside the reference data set; throws a clear error where the set is absent (tests need it). */
export function sharedDataPath(...parts: string[]): string {
  const base = sharedDataDir();
  if (!base) throw new Error('the reference data set shared/data/ was not found beside the repository (set MEMSCOPE_SHARED_DATA)');
  return join(base, ...parts);
}
