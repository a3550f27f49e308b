import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatError, ioError, usageError } from '../errors.js';
import { BundledProfiles } from './bundled.js';
import { parseJsonText } from './decompress.js';
import { guidAgeKey, type ProfileData, type ProfileSource } from './model.js';
import { Profile } from './profile.js';
import { cachedProfilePath, encodeProfile, memscopeHome, readCachedProfile, readIfExists, writeFilesAtomically } from './symbol-server/cache.js';
import { parseGuidAge } from './validate.js';

/**
 * Where kernel profiles come from, in the order discovery asks: the bundled set shipped with MemScope
 * (offline, every build in ../shared/data/windows-symbols), then the user's cache (profiles imported
 * or fetched earlier), then an optional fetcher (helper D's symbol-server client). The heuristic
 * fallback lives above this layer (windows/), because it needs memory.
 *
 * Cache layout is shared with the symbol-server client (symbol-server/cache.ts):
 * `<home>/profiles/<pdb>/<GUIDAGE>.json.gz` plus a `<GUIDAGE>.source.json` sidecar saying where the
 * profile came from (so `profile list` need not decode every cached profile).
 */

export interface ProfileListEntry {
  readonly key: string;
  readonly pdb: string;
  readonly guid: string;
  readonly age: number;
  readonly build?: string;
  readonly source: ProfileSource;
  /** file the profile lives in (bundled: the family container) */
  readonly path: string;
}

export interface LoadedProfile {
  readonly profile: Profile;
  readonly source: ProfileSource;
}

/** Helper D's symbol-server hook: resolve a GUIDAGE to ProfileData (it caches what it fetches itself). */
export type ProfileFetcher = (guidAge: string, opts: { readonly pdbName: string; readonly cacheDir: string; readonly signal?: AbortSignal }) => Promise<ProfileData>;

export interface ProfileStoreOptions {
  /** Bundled profile directory (default: the repo's / app's profiles/). Null disables bundled profiles. */
  readonly bundledDir?: string | null;
  /** User profile home (default `$MEMSCOPE_HOME` or `~/.memscope`); profiles live in `<home>/profiles/`. */
  readonly home?: string;
  /** Tried after bundled and cache when set (symbol server). */
  readonly fetcher?: ProfileFetcher;
  readonly pdbName?: string;
}

interface SourceSidecar {
  source: ProfileSource;
  build?: string;
  origin?: string;
  savedAt: string;
}

export class ProfileStore {
  readonly home: string;
  readonly pdbName: string;
  private readonly bundled: BundledProfiles | null;
  private readonly fetcher: ProfileFetcher | undefined;

  constructor(opts: ProfileStoreOptions = {}) {
    this.home = opts.home ?? memscopeHome();
    this.pdbName = opts.pdbName ?? 'ntkrnlmp.pdb';
    this.bundled = opts.bundledDir === null ? null : new BundledProfiles(opts.bundledDir);
    this.fetcher = opts.fetcher;
  }

  get cacheDir(): string {
    return join(this.home, 'profiles');
  }

  /** Every profile available offline: bundled first, then the user's cache (cache wins on duplicate keys only in load order). */
  async list(): Promise<ProfileListEntry[]> {
    const out: ProfileListEntry[] = [];
    if (this.bundled?.available()) {
      const index = this.bundled.index();
      for (const e of this.bundled.list()) {
        const fam = index.families[e.family];
        out.push({
          key: e.key, pdb: e.pdb, guid: e.guid, age: e.age, ...(e.build ? { build: e.build } : {}),
          source: 'bundled', path: join(this.bundled.dir, fam?.file ?? ''),
        });
      }
    }
    for (const pdb of await listDir(this.cacheDir)) {
      const dir = join(this.cacheDir, pdb);
      for (const f of await listDir(dir, true)) {
        const m = /^([0-9A-F]{33,40})\.json\.gz$/.exec(f);
        const ga = m ? parseGuidAge(m[1] as string) : null;
        if (!m || !ga) continue;
        const side = await readSidecar(join(dir, `${m[1]}.source.json`));
        out.push({
          key: m[1] as string, pdb, guid: ga.guid, age: ga.age, ...(side?.build ? { build: side.build } : {}),
          source: side?.source ?? 'cache', path: join(dir, f),
        });
      }
    }
    return out;
  }

  /** bundled → cache → fetcher. Null when nobody has it (the caller then tries the heuristic). */
  async load(guidAge: string, opts: { readonly signal?: AbortSignal; readonly noFetch?: boolean } = {}): Promise<LoadedProfile | null> {
    const key = normaliseKey(guidAge);
    const want = parseGuidAge(key) as { guid: string; age: number };
    const bundled = this.bundled?.available() ? this.bundled.load(key) : null;
    if (bundled) return { profile: new Profile(bundled), source: 'bundled' };

    // the kernel PDB's directory first, then any other PDB imported by the user (e.g. a driver's)
    const pdbDirs = [this.pdbName, ...(await listDir(this.cacheDir)).filter((d) => d !== this.pdbName)];
    for (const pdb of pdbDirs) {
      const path = cachedProfilePath(this.home, pdb, key);
      const cached = await readCachedProfile(path, want.guid, want.age);
      if (!cached) continue;
      const side = await readSidecar(sidecarPath(path));
      return { profile: new Profile(cached), source: side?.source === 'imported' ? 'imported' : 'cache' };
    }
    if (this.fetcher && !opts.noFetch) {
      const data = await this.fetcher(key, { pdbName: this.pdbName, cacheDir: this.home, ...(opts.signal ? { signal: opts.signal } : {}) });
      if (guidAgeKey(data.pdb) !== key) throw formatError(`symbol server profile for ${key}`, `has GUID+age ${guidAgeKey(data.pdb)} instead`);
      return { profile: new Profile(data), source: 'symbol-server' };
    }
    return null;
  }

  /**
   * Save into the user cache atomically: profile and sidecar are written to temp files and renamed into
   * place, so a failure (bad data, full disk) leaves nothing behind. Returns the profile's path.
   */
  async save(data: ProfileData, source: ProfileSource, origin?: string): Promise<string> {
    const key = guidAgeKey(data.pdb);
    if (!parseGuidAge(key)) throw usageError(`profile identity ${data.pdb.guid}/${data.pdb.age} is not a GUID+age`);
    if (!/^[\w.-]+\.pdb$/i.test(data.pdb.name)) throw formatError(`profile ${key}`, `PDB name "${data.pdb.name}" is not a plain file name`);
    const path = cachedProfilePath(this.home, data.pdb.name, key);
    const bytes = encodeProfile(data); // may throw (e.g. cyclic data): before anything touches the disk
    const side: SourceSidecar = { source, ...(data.build ? { build: data.build } : {}), ...(origin ? { origin } : {}), savedAt: new Date().toISOString() };
    await writeFilesAtomically([
      { path, bytes },
      { path: sidecarPath(path), bytes: new TextEncoder().encode(JSON.stringify(side, null, 1) + '\n') },
    ]);
    return path;
  }

  /** Candidates for a kernel build number (e.g. 19041 from NtBuildNumber), newest revision first. */
  async resolveByBuildNumber(buildNumber: number): Promise<ProfileListEntry[]> {
    const rev = (b: string | undefined) => Number(b?.split('.')[3] ?? -1);
    return (await this.list())
      .filter((e) => e.build !== undefined && Number(e.build.split('.')[2]) === buildNumber)
      .sort((a, b) => rev(b.build) - rev(a.build));
  }
}

/** Accepts GUIDAGE keys in any case, with braces/dashes; usage error otherwise. */
export function normaliseKey(guidAge: string): string {
  const ga = parseGuidAge(guidAge);
  if (!ga) throw usageError(`"${guidAge}" is not a GUID+age key (32 hex digits of the GUID followed by the age in hex)`);
  return guidAgeKey(ga);
}

function sidecarPath(profilePath: string): string {
  return profilePath.replace(/\.json\.gz$/, '.source.json');
}

async function readSidecar(path: string): Promise<SourceSidecar | null> {
  const bytes = await readIfExists(path);
  if (!bytes) return null;
  try {
    const j = parseJsonText(bytes, path) as Partial<SourceSidecar>;
    return typeof j.source === 'string' ? (j as SourceSidecar) : null;
  } catch {
    return null; // a damaged sidecar only loses the "imported" label
  }
}

async function listDir(dir: string, filesOnly = false): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => !filesOnly || e.isFile()).map((e) => e.name).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw ioError(dir, err);
  }
}
