/**
 * Test wiring: profile providers backed by the shared ISF reference set (../shared/data), so
 * discovery tests resolve real kernel profiles by PDB GUID/age exactly as the bundled store would.
 * Loaded profiles are memoised per process (ISF decompression costs ~1 s each).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importIsfBytes } from '../../../profile/isf-import.js';
import { guidAgeKey, type PdbIdentity } from '../../../profile/model.js';
import { Profile } from '../../../profile/profile.js';
import type { ProfileProvider, ProfileProviders } from '../profile-resolve.js';

export function sharedIsfDirectory(): string | null {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 10; i++) {
    const cand = join(dir, 'shared', 'data', 'windows-symbols', 'ntkrnlmp.pdb');
    if (existsSync(cand)) return cand;
    dir = join(dir, '..');
  }
  return null;
}

const memo = new Map<string, Promise<Profile | null>>();

export const isfProvider: ProfileProvider = (pdb: PdbIdentity) => {
  const dir = sharedIsfDirectory();
  const key = guidAgeKey(pdb);
  let p = memo.get(key);
  if (!p) {
    p = (async () => {
      if (!dir) return null;
      const file = join(dir, `${pdb.guid.toUpperCase()}-${pdb.age.toString(16).toUpperCase()}.json.xz`);
      if (!existsSync(file)) return null;
      return new Profile(await importIsfBytes(readFileSync(file), file));
    })();
    memo.set(key, p);
  }
  return p;
};

/** Providers as the CLI would have them, with the shared ISF set standing in for the bundled store. */
export const isfProviders: ProfileProviders = { bundled: isfProvider };
