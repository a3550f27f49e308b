/**
 * Kernel profile resolution, in order: bundled profiles → local cache → Microsoft symbol server
 * (only when the caller allows the network) → heuristic fallback (derives offsets from the image
 * itself; provided by another module and injected here). Each provider is a function so the CLI
 * wires the real ProfileStore / symbol server and tests wire fixtures; the result says which one
 * served and why each earlier one did not.
 */
import type { PdbIdentity, ProfileSource } from '../../profile/model.js';
import { guidAgeKey } from '../../profile/model.js';
import type { Profile } from '../../profile/profile.js';
import type { MethodReport } from './types.js';

export type ProfileProvider = (pdb: PdbIdentity, signal?: AbortSignal) => Promise<Profile | null>;

/** What the heuristic fallback gets to look at: the kernel image through the found DTB. */
export interface HeuristicContext {
  readonly pdb: PdbIdentity;
  readonly kernelBase: bigint;
  readonly readKernel: (va: bigint, length: number) => Uint8Array | null;
  readonly signal?: AbortSignal;
}
export type HeuristicProvider = (ctx: HeuristicContext) => Promise<Profile | null>;

export interface ProfileProviders {
  readonly bundled?: ProfileProvider;
  readonly cache?: ProfileProvider;
  readonly symbolServer?: ProfileProvider;
  readonly heuristic?: HeuristicProvider;
}

export interface ResolveOptions {
  readonly allowNetwork?: boolean;
  readonly signal?: AbortSignal;
}

export interface ResolvedProfile {
  readonly profile: Profile | null;
  readonly source: ProfileSource | null;
  readonly tried: MethodReport[];
}

export async function resolveProfile(
  pdb: PdbIdentity, providers: ProfileProviders, heuristic: Omit<HeuristicContext, 'pdb' | 'signal'> | null, opts: ResolveOptions = {},
): Promise<ResolvedProfile> {
  const key = `${pdb.name} ${guidAgeKey(pdb)}`;
  const tried: MethodReport[] = [];
  const attempt = async (name: ProfileSource, run: (() => Promise<Profile | null>) | null, skip: string): Promise<Profile | null> => {
    const t0 = performance.now();
    if (!run) {
      tried.push({ method: `profile:${name}`, ok: false, detail: skip, ms: 0 });
      return null;
    }
    try {
      const p = await run();
      tried.push({ method: `profile:${name}`, ok: p !== null, detail: p ? `${key} → ${p.label}` : `no profile for ${key}`, ms: performance.now() - t0 });
      return p;
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      tried.push({ method: `profile:${name}`, ok: false, detail: (err as Error).message, ms: performance.now() - t0 });
      return null;
    }
  };
  const order: [ProfileSource, (() => Promise<Profile | null>) | null, string][] = [
    ['bundled', providers.bundled ? () => providers.bundled!(pdb, opts.signal) : null, 'no bundled profile store'],
    ['cache', providers.cache ? () => providers.cache!(pdb, opts.signal) : null, 'no profile cache'],
    ['symbol-server',
      providers.symbolServer && opts.allowNetwork ? () => providers.symbolServer!(pdb, opts.signal) : null,
      opts.allowNetwork ? 'no symbol-server client' : 'network not allowed (symbol server skipped)'],
    ['heuristic',
      providers.heuristic && heuristic ? () => providers.heuristic!({ ...heuristic, pdb, signal: opts.signal }) : null,
      'no heuristic fallback available'],
  ];
  for (const [name, run, skip] of order) {
    const p = await attempt(name, run, skip);
    if (p) return { profile: p, source: name, tried };
  }
  return { profile: null, source: null, tried };
}
