/**
 * A profile chosen by build number alone, for images that carry no kernel PDB identity (a triage
 * dump holds ntoskrnl's PE header but not its CodeView record, so its GUID is unknown). Usable only
 * when every known revision of that build agrees on the fields the caller reads: then which revision
 * the machine ran does not matter. 10.0.19041.x (2004 to 22H2, 39 bundled revisions) agree on
 * _EPROCESS/_ETHREAD/_KPRCB's identity fields, for example.
 */
import type { Profile } from '../../profile/profile.js';
import type { ProfileStore } from '../../profile/store.js';
import { StructView } from '../struct-view.js';

/** A field by type and (dotted) path, e.g. ['_EPROCESS', 'Pcb.DirectoryTableBase']. */
export type FieldPath = readonly [type: string, path: string];

export type BuildProfile =
  | { readonly profile: Profile; readonly revisions: number; readonly label: string }
  | { readonly profile: null; readonly reason: string };

/** Offsets, sizes and type sizes the caller depends on, as one comparable string (null: a field is missing). */
function layoutOf(profile: Profile, fields: readonly FieldPath[], types: readonly string[]): string | null {
  const parts: string[] = [];
  for (const t of types) {
    if (!profile.hasType(t)) return null;
    parts.push(`${t}:${profile.sizeOf(t)}`);
  }
  for (const [type, path] of fields) {
    if (!profile.hasType(type)) return null;
    const view = StructView.fromBytes(profile, type, new Uint8Array(0), 0n);
    if (!view.has(path)) return null;
    const f = view.resolve(path);
    parts.push(`${type}.${path}:${f.offset}+${f.size}`);
  }
  return parts.join(',');
}

/** What profileForBuild needs of a ProfileStore. */
export type BuildProfileStore = Pick<ProfileStore, 'resolveByBuildNumber' | 'load'>;

/** Loading every revision of a build costs ~0.2 s: remember the answer per store, build and fields. */
const memo = new WeakMap<BuildProfileStore, Map<string, Promise<BuildProfile>>>();

export function profileForBuild(store: BuildProfileStore, buildNumber: number, fields: readonly FieldPath[], types: readonly string[]): Promise<BuildProfile> {
  let byKey = memo.get(store);
  if (!byKey) memo.set(store, (byKey = new Map()));
  const key = JSON.stringify([buildNumber, fields, types]);
  let found = byKey.get(key);
  if (!found) {
    found = choose(store, buildNumber, fields, types);
    byKey.set(key, found);
    const map = byKey;
    found.catch(() => map.delete(key)); // a failed load (I/O) is not remembered

  }
  return found;
}

async function choose(store: BuildProfileStore, buildNumber: number, fields: readonly FieldPath[], types: readonly string[]): Promise<BuildProfile> {
  const candidates = await store.resolveByBuildNumber(buildNumber);
  if (candidates.length === 0) return { profile: null, reason: `no known profile for build ${buildNumber}` };
  let chosen: Profile | null = null;
  let layout: string | null = null;
  for (const c of candidates) {
    const loaded = await store.load(c.key, { noFetch: true });
    if (!loaded) continue;
    const l = layoutOf(loaded.profile, fields, types);
    if (l === null) return { profile: null, reason: `profile ${loaded.profile.label} lacks a field MemScope reads` };
    if (layout !== null && l !== layout) {
      return { profile: null, reason: `the ${candidates.length} known revisions of build ${buildNumber} disagree on the offsets MemScope reads, and the dump does not say which revision it is` };
    }
    layout = l;
    chosen ??= loaded.profile;
  }
  if (!chosen) return { profile: null, reason: `no known profile for build ${buildNumber} could be loaded` };
  const n = candidates.length;
  return { profile: chosen, revisions: n, label: n === 1 ? chosen.label : `build ${buildNumber}: the ${n} known revisions agree on these offsets` };
}
