/**
 * The acquisition sidecar `<image>.json` (written beside an image by `memscope acquire`, issue 20):
 * what the acquiring tool recorded about the file — its SHA-256 and size, and when it was taken.
 * Read tolerantly (any JSON object; only the fields below are used) and never trusted blindly: it
 * "vouches" for an image only when it names a SHA-256 and the same byte size as the file on disk.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';

export interface AcquisitionSidecar {
  readonly path: string;
  /** Lower-case hex SHA-256 of the image file, as the acquiring tool computed it while writing. */
  readonly sha256: string | null;
  readonly size: number | null;
  /** ISO 8601 start / end of the acquisition (memory was read between them). */
  readonly startTime: string | null;
  readonly endTime: string | null;
  readonly tool: string | null;
  /** The sidecar's SHA-256 and size match the image on disk (size checked here, the hash taken on its word). */
  readonly vouches: boolean;
  /** Why it does not vouch, in words (null when it does). */
  readonly reason: string | null;
}

const str = (o: Record<string, unknown>, ...keys: string[]): string | null => {
  for (const k of keys) if (typeof o[k] === 'string' && o[k] !== '') return o[k] as string;
  return null;
};
const num = (o: Record<string, unknown>, ...keys: string[]): number | null => {
  for (const k of keys) if (typeof o[k] === 'number' && Number.isSafeInteger(o[k])) return o[k] as number;
  return null;
};
const isoOrNull = (s: string | null): string | null => (s !== null && !Number.isNaN(Date.parse(s)) ? new Date(s).toISOString() : null);

/** The sidecar of `imagePath`, or null when there is none (or it is not a JSON object: then `problem` says so). */
export function readAcquisitionSidecar(imagePath: string): { sidecar: AcquisitionSidecar | null; problem: string | null } {
  const path = `${imagePath}.json`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { sidecar: null, problem: null };
  }
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    return { sidecar: null, problem: `${basename(path)}: not JSON (${e instanceof Error ? e.message : String(e)}); ignored` };
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { sidecar: null, problem: `${basename(path)}: not a JSON object; ignored` };
  const rec = o as Record<string, unknown>;
  const hash = str(rec, 'sha256', 'SHA256', 'sha256Hex');
  const sha256 = hash !== null && /^[0-9a-fA-F]{64}$/.test(hash) ? hash.toLowerCase() : null;
  const size = num(rec, 'size', 'fileSize', 'bytes');
  let fileSize: number | null = null;
  try { fileSize = statSync(imagePath).size; } catch { /* the session reports an unreadable image itself */ }
  const reason = sha256 === null ? 'it names no SHA-256'
    : size === null ? 'it names no file size'
      : size !== fileSize ? `it says ${size} bytes, the file has ${fileSize ?? 'unknown'}`
        : null;
  return {
    sidecar: {
      path, sha256, size,
      startTime: isoOrNull(str(rec, 'startTime', 'start', 'acquisitionStart')),
      endTime: isoOrNull(str(rec, 'endTime', 'end', 'acquisitionEnd')),
      tool: str(rec, 'tool', 'toolVersion'),
      vouches: reason === null, reason,
    },
    problem: null,
  };
}
