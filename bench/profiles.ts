/**
 * Which profile store the analysis children use. Production (`memscope …`) resolves profiles from
 * the bundled set in profiles/ (written by `npm run profiles:build`). A checkout where that set has
 * not been built would otherwise fall through to decoding the reference ISF (xz JSON) on every
 * open — seconds that no installed MemScope spends — so the bench writes a one-build bundle (the
 * same format, by the same BundleWriter) under .cache/bench/profiles-<key>/ and points discovery
 * at it. Either way the report says which one served (profileSource).
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundledProfiles } from '../main/engine/profile/bundled.js';
import { BundleWriter, INDEX_FILE } from '../main/engine/profile/bundle-writer.js';
import { loadIsfProfile } from '../main/engine/sample/isf-loader.js';
import { sharedIsfDir } from '../main/engine/sample/profile-source.js';
import { benchCacheDir } from './images.js';

/** null → the repo's bundled set has this build (use the CLI's providers as they are). */
export async function benchBundledDir(key: string): Promise<string | null> {
  const repo = new BundledProfiles();
  if (repo.available() && repo.entry(key)) return null;
  const dir = join(benchCacheDir(), `profiles-${key}`);
  if (existsSync(join(dir, INDEX_FILE))) return dir;
  const isf = sharedIsfDir();
  if (!isf) return null; // nothing to bundle from: discovery then reports what it could do
  const writer = new BundleWriter();
  writer.add(await loadIsfProfile(isf, key));
  const { files } = writer.finish();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(tmp, name), bytes);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}
