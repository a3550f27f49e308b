import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { formatError, ioError } from '../errors.js';
import { readJsonBytes } from './decompress.js';
import { isfToProfile, looksLikeIsf } from './isf-import.js';
import type { ProfileData } from './model.js';
import { MSF_MAGIC, pdbToProfile } from './pdb/index.js';
import { looksLikeRekall, rekallToProfile } from './rekall-import.js';
import { checkKernelProfile } from './validate.js';

export type ImportKind = 'isf' | 'rekall' | 'pdb';

/**
 * Import any supported profile file: a PDB (MSF 7.0, recognised by its magic), or JSON — plain, gzip or
 * xz — that is either Volatility 3 ISF or a Rekall profile (recognised by shape, not file name).
 * Kernel profiles must hold the process structures, so a truncated ISF is refused with the missing piece named.
 */
export async function importProfileFile(path: string, opts: { readonly build?: string } = {}): Promise<{ data: ProfileData; kind: ImportKind }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    throw ioError(path, err);
  }
  return importProfileBytes(bytes, path, opts);
}

export async function importProfileBytes(bytes: Uint8Array, what: string, opts: { readonly build?: string } = {}): Promise<{ data: ProfileData; kind: ImportKind }> {
  if (startsWith(bytes, MSF_MAGIC)) {
    const name = basename(what).toLowerCase().endsWith('.pdb') ? basename(what) : 'ntkrnlmp.pdb';
    const data = pdbToProfile(bytes, { name, label: what, ...(opts.build ? { build: opts.build } : {}) });
    checkKernelProfile(data, what);
    return { data, kind: 'pdb' };
  }
  const json = await readJsonBytes(bytes, what);
  let data: ProfileData;
  let kind: ImportKind;
  if (looksLikeIsf(json)) {
    data = isfToProfile(json, what, opts);
    kind = 'isf';
  } else if (looksLikeRekall(json)) {
    data = rekallToProfile(json, what, opts);
    kind = 'rekall';
  } else {
    throw formatError(what, 'is neither a Volatility 3 ISF (metadata + user_types) nor a Rekall profile ($METADATA + $STRUCTS) nor a PDB');
  }
  checkKernelProfile(data, what);
  return { data, kind };
}

function startsWith(bytes: Uint8Array, magic: Uint8Array | string): boolean {
  const m = typeof magic === 'string' ? new TextEncoder().encode(magic) : magic;
  if (bytes.length < m.length) return false;
  for (let i = 0; i < m.length; i++) if (bytes[i] !== m[i]) return false;
  return true;
}
