import { join } from 'node:path';
import { MemScopeError, formatError, usageError } from '../../errors.js';
import { guidAgeKey, type ProfileData } from '../model.js';
import { parsePdbIdentity, pdbToProfile } from '../pdb/index.js';
import { parseGuidAge } from '../validate.js';
import { cachedPdbPath, cachedProfilePath, encodeProfile, memscopeHome, readCachedProfile, readIfExists, writeFilesAtomically } from './cache.js';
import { NotOnServer, downloadPdb, type FetchImpl } from './download.js';
import { DEFAULT_SYMBOL_PATH, parseSymbolPath, symbolStorePath, type SymbolStore } from './symbol-path.js';

export interface FetchProfileOptions {
  /** `_NT_SYMBOL_PATH`-style string; default: env `_NT_SYMBOL_PATH`, else the Microsoft symbol server. */
  readonly symbolPath?: string;
  /** The user's profile directory; default `$MEMSCOPE_HOME` or `~/.memscope`. */
  readonly cacheDir?: string;
  /** Never touch the network (also env MEMSCOPE_OFFLINE=1). */
  readonly offline?: boolean;
  readonly fetchImpl?: FetchImpl;
  readonly signal?: AbortSignal;
  /** Default "ntkrnlmp.pdb". */
  readonly pdbName?: string;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export interface FetchedProfile {
  readonly profile: ProfileData;
  /** Where it came from: the converted-profile cache, a cached/local PDB, or a symbol server download. */
  readonly source: 'cache' | 'local-pdb' | 'symbol-server';
  /** File or URL the PDB/profile was read from. */
  readonly origin: string;
  readonly profilePath: string;
}

/** Resolve a profile by GUID+age: profile cache → cached/local PDBs → symbol servers (unless offline). */
export async function fetchProfile(guidAge: string, opts: FetchProfileOptions = {}): Promise<ProfileData> {
  return (await fetchProfileDetailed(guidAge, opts)).profile;
}

export async function fetchProfileDetailed(guidAge: string, opts: FetchProfileOptions = {}): Promise<FetchedProfile> {
  const env = opts.env ?? process.env;
  const want = parseGuidAge(guidAge);
  if (!want) throw usageError(`"${guidAge}" is not a GUID+age key (32 hex digits of the GUID followed by the age in hex)`);
  const key = guidAgeKey(want);
  const pdbName = opts.pdbName ?? 'ntkrnlmp.pdb';
  if (!/^[\w.-]+\.pdb$/i.test(pdbName)) throw usageError(`"${pdbName}" is not a PDB file name`);
  const home = opts.cacheDir ?? memscopeHome(env);
  const offline = opts.offline ?? env.MEMSCOPE_OFFLINE === '1';
  const stores = parseSymbolPath(opts.symbolPath ?? env._NT_SYMBOL_PATH ?? DEFAULT_SYMBOL_PATH);
  const profilePath = cachedProfilePath(home, pdbName, key);
  const label = `${pdbName} ${key}`;

  const cached = await readCachedProfile(profilePath, want.guid, want.age);
  if (cached) return { profile: cached, source: 'cache', origin: profilePath, profilePath };

  // PDBs already on disk: our own cache first, then local stores named in the symbol path.
  const localCandidates = [cachedPdbPath(home, pdbName, key)];
  for (const s of stores) {
    if (s.kind !== 'local') continue;
    localCandidates.push(join(s.dir, ...symbolStorePath(pdbName, key).split('/')));
    if (s.layout === 'flat') localCandidates.push(join(s.dir, pdbName));
  }
  for (const path of localCandidates) {
    const bytes = await readIfExists(path);
    if (!bytes || !identityMatches(bytes, path, want)) continue;
    const profile = pdbToProfile(bytes, { name: pdbName, label: path });
    const files = [{ path: profilePath, bytes: encodeProfile(profile) }];
    if (path !== localCandidates[0]) files.push({ path: localCandidates[0]!, bytes });
    await writeFilesAtomically(files);
    return { profile, source: 'local-pdb', origin: path, profilePath };
  }

  const servers = stores.filter((s): s is Extract<SymbolStore, { kind: 'http' }> => s.kind === 'http');
  if (offline) throw new MemScopeError('analysis', `${label}: not in the profile cache (${home}) and offline mode forbids the symbol server`);
  if (servers.length === 0) throw new MemScopeError('analysis', `${label}: not in the profile cache (${home}) and the symbol path names no symbol server`);

  const misses: string[] = [];
  for (const server of servers) {
    const url = `${server.url}/${symbolStorePath(pdbName, key)}`;
    let bytes: Uint8Array;
    try {
      bytes = await downloadPdb(url, {
        ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
      });
    } catch (e) {
      if (e instanceof NotOnServer) { misses.push(server.url); continue; }
      throw e;
    }
    // Verify the PDB's own GUID+age before anything is converted or cached (issue 3: GUID mismatch).
    const got = parsePdbIdentity(bytes, { name: pdbName, label: url });
    if (got.guid !== want.guid || got.age !== want.age) {
      throw formatError(url, `PDB is ${got.guid} age ${got.age}, not the requested ${want.guid} age ${want.age}; not cached`);
    }
    const profile = pdbToProfile(bytes, { name: pdbName, label: url });
    await writeFilesAtomically([
      { path: localCandidates[0]!, bytes },
      { path: profilePath, bytes: encodeProfile(profile) },
    ]);
    return { profile, source: 'symbol-server', origin: url, profilePath };
  }
  throw new MemScopeError('analysis', `${label}: not on symbol server ${misses.join(', ')} (HTTP 404)`);
}

/** A PDB on disk is used only when its own GUID+age are the requested ones; a corrupt one is skipped. */
function identityMatches(bytes: Uint8Array, path: string, want: { guid: string; age: number }): boolean {
  try {
    const id = parsePdbIdentity(bytes, { label: path });
    return id.guid === want.guid && id.age === want.age;
  } catch {
    return false;
  }
}
