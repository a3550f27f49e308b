/**
 * The evidence bundle's record of itself: `manifest.json` (every file with size and SHA-256, plus
 * provenance) and `SHA256SUMS` (the `sha256sum -c` format: 64 lower-case hex digits, two spaces, the
 * file name, `\n`). SHA256SUMS covers manifest.json too, so an edited manifest is detected.
 */
import type { ImageTime } from '../../../common/contract.js';
import type { LiveProvenance } from './live-provenance.js';

export const MANIFEST = 'manifest.json';
export const SUMS = 'SHA256SUMS';
export const BUNDLE_FORMAT = 'memscope-evidence-bundle/1';

export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** What it holds, in words. */
  readonly what: string;
}

export interface Manifest {
  readonly format: typeof BUNDLE_FORMAT;
  /** false until every file is written and hashed; a bundle cut short (error, disk full, cancel) stays false. */
  readonly complete: boolean;
  readonly incompleteReason: string | null;
  readonly tool: { readonly name: 'memscope'; readonly version: string; readonly commit: string | null };
  readonly host: string;
  readonly user: string;
  readonly startTime: string;
  readonly endTime: string | null;
  readonly source: {
    readonly kind: 'image' | 'live';
    /** The image file, or the live device. */
    readonly path: string;
    readonly size: number | null;
    readonly sha256: string | null;
    /** "computed while the analysis ran" | "acquisition sidecar <path>" | why it is missing (live: LIVE_SHA256_FROM). */
    readonly sha256From: string;
    readonly format: string | null;
    /** Live memory only: the host, device, driver and GET_INFO facts. */
    readonly live?: LiveProvenance;
  };
  readonly kernel: {
    readonly build: number | null;
    readonly kernelBase: string;
    readonly dtb: string;
    readonly dtbRaw: string;
    readonly dtbMethod: string;
    readonly profile: string;
    readonly profileSource: string | null;
  } | null;
  readonly time: ImageTime | null;
  readonly warnings: readonly string[];
  readonly files: readonly ManifestFile[];
}

export function renderManifest(m: Manifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}

/** SHA256SUMS as `sha256sum -c` reads it (text mode: two spaces). */
export function renderSums(entries: readonly { readonly path: string; readonly sha256: string }[]): string {
  return entries.map((e) => `${e.sha256}  ${e.path}\n`).join('');
}

/** Lines of SHA256SUMS; a malformed line is returned as a problem (never skipped silently). */
export function parseSums(text: string): { entries: { path: string; sha256: string }[]; problems: string[] } {
  const entries: { path: string; sha256: string }[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) problems.push(`${SUMS} line ${i + 1} is not "<sha256>  <file>"`);
    else entries.push({ sha256: m[1]!, path: m[2]! });
  });
  return { entries, problems };
}
