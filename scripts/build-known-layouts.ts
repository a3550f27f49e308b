/**
 * `npm run profiles:layouts [profilesDir]`
 * Writes main/engine/windows/known-layouts.data.ts: the distinct x64 _EPROCESS layouts of the bundled
 * profiles (default profiles/), the one table DTB discovery and the heuristic profile guess from.
 * `npm run profiles:build` runs this after writing a new bundle.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BundledProfiles } from '../main/engine/profile/bundled.js';
import type { ProfileData } from '../main/engine/profile/model.js';
import { deriveKnownLayouts, renderKnownLayouts } from '../main/engine/windows/known-layouts.js';
import { REPO_ROOT } from './isf-source.js';

export const KNOWN_LAYOUTS_FILE = join(REPO_ROOT, 'main', 'engine', 'windows', 'known-layouts.data.ts');

/** Every bundled build's profile, one at a time. */
export function* bundledProfiles(dir: string): Generator<ProfileData> {
  const bundle = new BundledProfiles(dir);
  if (!bundle.available()) throw new Error(`${dir} holds no bundled profile set (run npm run profiles:build)`);
  for (const entry of bundle.list()) {
    const data = bundle.load(entry.key);
    if (!data) throw new Error(`${dir}: ${entry.key} is listed but does not load`);
    yield data;
  }
}

export function writeKnownLayouts(profilesDir: string): number {
  const layouts = deriveKnownLayouts(bundledProfiles(profilesDir));
  writeFileSync(KNOWN_LAYOUTS_FILE, renderKnownLayouts(layouts));
  return layouts.length;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const dir = process.argv[2] ?? join(REPO_ROOT, 'profiles');
    const n = writeKnownLayouts(dir);
    process.stdout.write(`${n} distinct x64 layouts from ${dir} written to ${KNOWN_LAYOUTS_FILE}\n`);
  } catch (err) {
    process.stderr.write(`profiles:layouts failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
