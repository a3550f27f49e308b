import { Inflate } from 'pako';
import xz from 'xz-decompress';
import { formatError } from '../errors.js';
import { concatBytes, readStreamCapped } from '../util/read-stream.js';

/**
 * Profile files arrive plain, gzip (RFC 1952) or xz (tukaani .xz format) compressed. The container is
 * recognised by its magic bytes, not the file name, and output is capped so a decompression bomb is a
 * clear format error instead of an unbounded allocation.
 */

/** Largest decompressed profile we accept: real ntkrnlmp ISF files are ~6-9 MB of JSON. */
export const MAX_PROFILE_BYTES = 256 * 1024 * 1024;

export type Container = 'gzip' | 'xz' | 'plain';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

export function detectContainer(bytes: Uint8Array): Container {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (bytes.length >= 6 && XZ_MAGIC.every((b, i) => bytes[i] === b)) return 'xz';
  return 'plain';
}

/** gunzip with an output cap; `what` names the file in errors. */
export function gunzipBounded(bytes: Uint8Array, what: string, maxBytes = MAX_PROFILE_BYTES): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let overflow = false;
  const inflater = new Inflate();
  inflater.onData = (chunk: Uint8Array) => {
    total += chunk.length;
    if (total > maxBytes) overflow = true;
    else chunks.push(chunk);
  };
  try {
    inflater.push(bytes, true);
  } catch (err) {
    throw formatError(what, `corrupt gzip data (${err instanceof Error ? err.message : String(err)})`);
  }
  if (overflow) throw formatError(what, `gzip data expands beyond ${maxBytes} bytes`);
  if (inflater.err) throw formatError(what, `corrupt gzip data (${inflater.msg || `zlib error ${inflater.err}`})`);
  if (!inflater.ended) throw formatError(what, 'truncated gzip data (stream ends early)');
  return concatBytes(chunks, total);
}

/** xz decode via the pure-WASM xz-decompress package, with an output cap. */
export async function unxzBounded(bytes: Uint8Array, what: string, maxBytes = MAX_PROFILE_BYTES): Promise<Uint8Array> {
  const stream = new xz.XzReadableStream(new Blob([bytes]).stream());
  try {
    return await readStreamCapped(stream.getReader(), maxBytes, () => formatError(what, `xz data expands beyond ${maxBytes} bytes`));
  } catch (err) {
    if (err instanceof Error && err.name === 'MemScopeError') throw err;
    throw formatError(what, `corrupt or truncated xz data (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Decompress by magic bytes (plain input is returned as is). */
export async function decompressAuto(bytes: Uint8Array, what: string, maxBytes = MAX_PROFILE_BYTES): Promise<Uint8Array> {
  switch (detectContainer(bytes)) {
    case 'gzip': return gunzipBounded(bytes, what, maxBytes);
    case 'xz': return unxzBounded(bytes, what, maxBytes);
    case 'plain':
      if (bytes.length > maxBytes) throw formatError(what, `file is larger than ${maxBytes} bytes`);
      return bytes;
  }
}

/** Decompress (if needed) and parse JSON; a parse failure names the file. */
export async function readJsonBytes(bytes: Uint8Array, what: string): Promise<unknown> {
  const plain = await decompressAuto(bytes, what);
  return parseJsonText(plain, what);
}

export function parseJsonText(plain: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    throw formatError(what, 'is not UTF-8 text (expected JSON)');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw formatError(what, `is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

