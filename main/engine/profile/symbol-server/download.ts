import { MemScopeError, formatError } from '../../errors.js';
import { MSF_MAGIC } from '../pdb/index.js';
import { readStreamCapped } from '../../util/read-stream.js';

export type FetchImpl = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<Response>;

export interface DownloadOptions {
  readonly fetchImpl?: FetchImpl;
  readonly signal?: AbortSignal;
  /** Whole request including the body. */
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 120_000;
/** ntkrnlmp.pdb is 8-30 MiB; anything far larger is not the file we asked for. */
export const DEFAULT_MAX_PDB_BYTES = 64 * 1024 * 1024;

/** The server does not have this PDB (HTTP 404): the caller tries the next store. */
export class NotOnServer extends Error {}

/**
 * GET one PDB from a symbol server. The body is streamed with a running size cap (a huge body is
 * refused without buffering it), HTML pages (proxies, login portals) and non-MSF bodies are refused.
 * Returns the raw PDB bytes; the caller verifies GUID+age before using or caching them.
 */
export async function downloadPdb(url: string, opts: DownloadOptions = {}): Promise<Uint8Array> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_PDB_BYTES;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const fetchImpl: FetchImpl = opts.fetchImpl ?? ((u, init) => fetch(u, init));
  const fail = (e: unknown): never => {
    if (e instanceof MemScopeError || e instanceof NotOnServer) throw e;
    if (opts.signal?.aborted) throw new MemScopeError('cancelled', `download of ${url} cancelled`);
    if (timeout.aborted) throw new MemScopeError('io', `symbol server timed out after ${timeoutMs} ms: ${url}`);
    const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
    throw new MemScopeError('io', `symbol server request failed: ${url}: ${cause}`, { cause: e });
  };
  try {
    const res = await fetchImpl(url, { signal, headers: { 'user-agent': 'MemScope symbol fetch', accept: 'application/octet-stream' } });
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      throw new NotOnServer(`HTTP 404 from ${url}`);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new MemScopeError('io', `symbol server answered HTTP ${res.status} ${res.statusText} for ${url}`);
    }
    const type = res.headers.get('content-type') ?? '';
    if (/text\/html/i.test(type)) {
      await res.body?.cancel().catch(() => undefined);
      throw formatError(url, 'symbol server returned an HTML page, not a PDB');
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw formatError(url, `body too large: ${declared} bytes declared, limit ${maxBytes}`);
    }
    const bytes = await readCapped(res, url, maxBytes);
    checkPdbMagic(bytes, url);
    return bytes;
  } catch (e) {
    return fail(e);
  }
}

async function readCapped(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  return readStreamCapped(res.body.getReader(), maxBytes, () => formatError(url, `body too large: more than ${maxBytes} bytes`));
}

function checkPdbMagic(bytes: Uint8Array, url: string): void {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, MSF_MAGIC.length));
  if (head === MSF_MAGIC) return;
  if (head.startsWith('MSCF')) throw formatError(url, 'symbol server sent a compressed CAB (.pd_) file, which MemScope cannot unpack; use a server that serves the plain .pdb');
  if (/^\s*</.test(head)) throw formatError(url, 'symbol server returned an HTML/XML page, not a PDB');
  throw formatError(url, `not a PDB (no MSF 7.0 signature; ${bytes.length} bytes received)`);
}
