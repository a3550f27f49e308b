/**
 * The production wiring of profile resolution: bundled profiles (profiles/ shipped with MemScope),
 * then the user's cache (converted profiles and PDBs already on disk, never the network), then the
 * symbol server (only when discovery is told the network is allowed). The heuristic fallback is
 * another module's and is passed in when it exists.
 */
import { BundledProfiles } from '../../profile/bundled.js';
import { guidAgeKey } from '../../profile/model.js';
import { Profile } from '../../profile/profile.js';
import { fetchProfileDetailed } from '../../profile/symbol-server/fetch-profile.js';
import type { HeuristicProvider, ProfileProviders } from './profile-resolve.js';

export interface DefaultProvidersOptions {
  readonly bundledDir?: string;
  readonly cacheDir?: string;
  readonly symbolPath?: string;
  readonly heuristic?: HeuristicProvider;
}

export function defaultProfileProviders(o: DefaultProvidersOptions = {}): ProfileProviders {
  const bundled = o.bundledDir ? new BundledProfiles(o.bundledDir) : new BundledProfiles();
  return {
    bundled: async (pdb) => {
      if (!bundled.available()) return null;
      const data = bundled.load(guidAgeKey(pdb));
      return data ? new Profile(data) : null;
    },
    cache: async (pdb, signal) => {
      const r = await fetchProfileDetailed(guidAgeKey(pdb), { pdbName: pdb.name, offline: true, cacheDir: o.cacheDir, signal }).catch(() => null);
      return r ? new Profile(r.profile) : null;
    },
    symbolServer: async (pdb, signal) => {
      const r = await fetchProfileDetailed(guidAgeKey(pdb), { pdbName: pdb.name, cacheDir: o.cacheDir, symbolPath: o.symbolPath, signal });
      return new Profile(r.profile);
    },
    ...(o.heuristic ? { heuristic: o.heuristic } : {}),
  };
}
