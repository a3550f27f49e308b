import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analysisError, usageError } from '../errors.js';
import { ProfileStore } from '../profile/store.js';
import type { ProfileData } from '../profile/model.js';
import { Profile } from '../profile/profile.js';
import { loadIsfProfile } from './isf-loader.js';
import { sharedDataDir } from '../util/shared-data.js';

/**
 * Where the sample builder gets its kernel profile: the ProfileStore first (bundled profiles/, works
 * with no reference data, for the README demo), then the shared ISF reference set (any of 213 builds).
 * `build` is a GUIDAGE, a build number ("19041": lowest revision present) or a version string.
 */
export interface ResolvedSampleProfile {
  readonly profile: Profile;
  readonly version: string; // e.g. "10.0.19041.508" ("" when unknown)
  readonly buildNumber: number;
}

export function sharedIsfDir(): string | null {
  const env = process.env['MEMSCOPE_SHARED_ISF'];
  if (env) return existsSync(env) ? env : null;
  const data = sharedDataDir();
  const dir = data ? join(data, 'windows-symbols', 'ntkrnlmp.pdb') : null;
  return dir && existsSync(dir) ? dir : null;
}

/**
 * The ProfileStore (bundled → user cache). A bare build number or version picks among *bundled*
 * profiles only, lowest revision first, so the same command gives the same image on every machine
 * whatever the user's cache holds; a GUIDAGE may come from the cache too.
 */
async function fromStore(build: string): Promise<ProfileData | null> {
  const store = new ProfileStore();
  const b = build.trim().toUpperCase();
  if (/^[0-9A-F]{33,40}$/.test(b)) return (await store.load(b, { noFetch: true }))?.profile.data ?? null;
  const bundled = (await store.list()).filter((e) => e.source === 'bundled');
  const rev = (v?: string) => Number(v?.split('.')[3] ?? 0);
  const entry = /^\d+$/.test(b)
    ? bundled.filter((e) => e.build?.split('.')[2] === b).sort((x, y) => rev(x.build) - rev(y.build))[0]
    : bundled.find((e) => e.build === b);
  return entry ? ((await store.load(entry.key, { noFetch: true }))?.profile.data ?? null) : null;
}

export function buildNumberOf(version: string | undefined): number | null {
  const n = Number(version?.split('.')[2]);
  return Number.isInteger(n) && n > 0 ? n : null;
}

const cache = new Map<string, Promise<ResolvedSampleProfile>>();

/** Resolve (and memoise per process: profiles are immutable and take a second or two to decode). */
export function resolveSampleProfile(build: string): Promise<ResolvedSampleProfile> {
  const key = String(build).trim().toUpperCase();
  let hit = cache.get(key);
  if (!hit) {
    hit = resolveUncached(build);
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return hit;
}

async function resolveUncached(build: string): Promise<ResolvedSampleProfile> {
  if (!build || !/^([0-9A-Fa-f]{33,40}|\d+|\d+\.\d+\.\d+\.\d+)$/.test(build.trim())) {
    throw usageError(`--build must be a GUIDAGE, a build number like 19041 or a version like 10.0.19041.508 (got "${build}")`);
  }
  let data = await fromStore(build);
  if (!data) {
    const dir = sharedIsfDir();
    if (!dir) throw analysisError(`build ${build}`, 'not in the bundled profiles and no ISF reference set found (set MEMSCOPE_SHARED_ISF)');
    data = await loadIsfProfile(dir, build);
  }
  const buildNumber = buildNumberOf(data.build) ?? (/^\d+$/.test(build.trim()) ? Number(build.trim()) : null);
  if (buildNumber === null) throw analysisError(`build ${build}`, 'profile does not say which Windows build it is');
  if (data.pointerSize !== 8) throw analysisError(`build ${build}`, 'only x64 kernels are supported by the sample builder');
  return { profile: new Profile(data), version: data.build ?? '', buildNumber };
}
