/**
 * `memscope verify DIR`: recompute the SHA-256 of every file of an evidence bundle and say which, if
 * any, changed — against SHA256SUMS (which covers manifest.json, so an edited manifest is caught) and
 * against the manifest's own list (so SHA256SUMS edited alone is caught too). A missing file, a file
 * no list names, and a bundle whose manifest says it is incomplete are problems as well.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ioError } from '../errors.js';
import { sha256File } from './hash.js';
import { MANIFEST, SUMS, parseSums, type Manifest } from './manifest.js';

export interface VerifyResult {
  readonly ok: boolean;
  /** Files whose hash was recomputed and matched. */
  readonly verified: number;
  /** One sentence each, naming the file and the fault. */
  readonly problems: readonly string[];
}

export async function verifyBundle(dir: string): Promise<VerifyResult> {
  let names: string[];
  try { names = readdirSync(dir); } catch (e) { throw ioError(dir, e); }
  const problems: string[] = [];
  const actual = new Map<string, { sha256: string; size: number } | null>();
  const hashOf = async (name: string) => {
    if (!actual.has(name)) actual.set(name, names.includes(name) ? await sha256File(join(dir, name)).catch(() => null) : null);
    return actual.get(name) ?? null;
  };

  let sums: { path: string; sha256: string }[] = [];
  if (!names.includes(SUMS)) problems.push(`${SUMS} is missing: nothing to check the files against`);
  else {
    const parsed = parseSums(readFileSync(join(dir, SUMS), 'utf8'));
    sums = parsed.entries;
    problems.push(...parsed.problems);
  }
  let manifest: Manifest | null = null;
  if (!names.includes(MANIFEST)) problems.push(`${MANIFEST} is missing`);
  else {
    try { manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest; } catch (e) {
      problems.push(`${MANIFEST} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  let verified = 0;
  for (const e of sums) {
    if (e.path.includes('/') || e.path.includes('\\') || e.path === '..') { problems.push(`${SUMS} names ${e.path}, outside the bundle`); continue; }
    const h = await hashOf(e.path);
    if (h === null) problems.push(`${e.path} is missing (listed in ${SUMS})`);
    else if (h.sha256 !== e.sha256) {
      problems.push(e.path === MANIFEST
        ? `${MANIFEST} was edited: its SHA-256 is ${h.sha256}, ${SUMS} says ${e.sha256}`
        : `${e.path} changed: its SHA-256 is ${h.sha256}, ${SUMS} says ${e.sha256}`);
    } else verified++;
  }
  if (names.includes(MANIFEST) && sums.length && !sums.some((e) => e.path === MANIFEST)) problems.push(`${SUMS} does not cover ${MANIFEST}`);

  if (manifest) {
    if (manifest.complete !== true) problems.push(`${MANIFEST} says the bundle is incomplete: ${manifest.incompleteReason ?? 'no reason given'}`);
    for (const f of Array.isArray(manifest.files) ? manifest.files : []) {
      const inSums = sums.find((e) => e.path === f.path);
      if (sums.length && !inSums) problems.push(`${f.path} is in ${MANIFEST} but not in ${SUMS}`);
      else if (inSums && inSums.sha256 !== f.sha256) problems.push(`${f.path}: ${MANIFEST} and ${SUMS} disagree on its SHA-256`);
      const h = await hashOf(f.path);
      if (h !== null && h.size !== f.size) problems.push(`${f.path} is ${h.size} bytes, ${MANIFEST} says ${f.size}`);
      if (!sums.length && h !== null && h.sha256 !== f.sha256) problems.push(`${f.path} changed: its SHA-256 is ${h.sha256}, ${MANIFEST} says ${f.sha256}`);
      if (!sums.length && h === null) problems.push(`${f.path} is missing (listed in ${MANIFEST})`);
    }
  }
  const listed = new Set([SUMS, ...sums.map((e) => e.path), ...(manifest && Array.isArray(manifest.files) ? manifest.files.map((f) => f.path) : [])]);
  for (const n of names) if (!listed.has(n)) problems.push(`${n} is not part of the bundle (no list names it)`);
  return { ok: problems.length === 0, verified, problems: [...new Set(problems)] };
}
