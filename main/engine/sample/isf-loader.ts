import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { analysisError, ioError, usageError } from '../errors.js';
import { importIsfBytes } from '../profile/isf-import.js';
import type { ProfileData } from '../profile/model.js';

/**
 * Profile source for the sample builder when the bundled set lacks a build: the shared ISF
 * reference set (xz JSON per GUID+age, SOURCE-README.md mapping versions to GUIDAGE keys),
 * converted by the profile layer's ISF importer.
 */
export interface IsfCatalogEntry {
  readonly version: string; // e.g. 10.0.19041.508
  readonly key: string; // GUIDAGE upper case
}

/** Parse the `| version | GUIDAGE | OS |` table of SOURCE-README.md. */
export function parseCatalog(markdown: string): IsfCatalogEntry[] {
  const out: IsfCatalogEntry[] = [];
  for (const m of markdown.matchAll(/^\|\s*([0-9.]+)\s*\|\s*([0-9A-Fa-f]{33,40})\s*\|/gm)) {
    out.push({ version: m[1] as string, key: (m[2] as string).toUpperCase() });
  }
  return out;
}

/**
 * Resolve `build` (GUIDAGE, "19041" or "10.0.19041.508") against the shared ISF directory and load it.
 * For a bare build number the lowest revision present is used (stable choice).
 */
export async function loadIsfProfile(dir: string, build: string): Promise<ProfileData> {
  let catalog: IsfCatalogEntry[] = [];
  try {
    catalog = parseCatalog(await readFile(join(dir, '..', 'SOURCE-README.md'), 'utf8'));
  } catch {
    catalog = [];
  }
  const b = build.trim();
  let entry: IsfCatalogEntry | undefined;
  if (/^[0-9A-Fa-f]{33,40}$/.test(b)) {
    entry = catalog.find((e) => e.key === b.toUpperCase()) ?? { version: '', key: b.toUpperCase() };
  } else if (/^\d+\.\d+\.\d+\.\d+$/.test(b)) {
    entry = catalog.find((e) => e.version === b);
  } else if (/^\d+$/.test(b)) {
    const rev = (e: IsfCatalogEntry) => Number(e.version.split('.')[3]);
    entry = catalog.filter((e) => e.version.split('.')[2] === b).sort((x, y) => rev(x) - rev(y))[0];
  } else {
    throw usageError(`--build must be a GUIDAGE, a build number like 19041 or a version like 10.0.19041.508 (got "${build}")`);
  }
  if (!entry) throw analysisError(`build ${build}`, 'no kernel profile for this build in the reference set');
  const files = await readdir(dir).catch((e: unknown) => {
    throw ioError(dir, e);
  });
  const guid = entry.key.slice(0, 32);
  const age = Number.parseInt(entry.key.slice(32), 16);
  const file = files.find((f) => f.toUpperCase() === `${guid}-${age}.JSON.XZ`);
  if (!file) throw analysisError(`build ${build}`, `profile ${guid}-${age}.json.xz not found in ${dir}`);
  const path = join(dir, file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw ioError(path, e);
  }
  return importIsfBytes(bytes, path, entry.version ? { build: entry.version } : {});
}
