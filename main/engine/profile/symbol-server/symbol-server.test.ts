import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../../errors.js';
import { pdbToProfile } from '../pdb/index.js';
import { SHARED_PDB_DIR } from '../pdb/testing/fixtures.js';
import { fetchProfile, fetchProfileDetailed, parseSymbolPath } from './index.js';

const PDB_NAME = 'CrashWithException.pdb';
const PDB = readFileSync(join(SHARED_PDB_DIR, PDB_NAME));
const OTHER_PDB = readFileSync(join(SHARED_PDB_DIR, 'crash.pdb'));
const KEY = 'F535C5FB2AE84BB8AA206C30BE566C5A1'; // GUID+age of CrashWithException.pdb (its Breakpad MODULE line)
const PATH = `/symbols/${PDB_NAME}/${KEY}/${PDB_NAME}`;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
let handler: Handler;
let requests: string[] = [];
let bytesSent = 0;
const homes: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => { requests.push(req.url ?? ''); handler(req, res); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/symbols`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});
afterEach(() => { requests = []; bytesSent = 0; server.closeAllConnections(); });

const newHome = (): string => { const h = mkdtempSync(join(tmpdir(), 'memscope-symsrv-')); homes.push(h); return h; };
const filesUnder = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);
const serve = (body: Uint8Array, type = 'application/octet-stream'): Handler => (req, res) => {
  if (req.url !== PATH) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'content-type': type, 'content-length': body.length }).end(body);
};
const opts = (home: string, extra: object = {}) => ({ symbolPath: `srv*${base}`, cacheDir: home, pdbName: PDB_NAME, timeoutMs: 5_000, env: {}, ...extra });

async function rejection(p: Promise<unknown>): Promise<MemScopeError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(MemScopeError);
  expect((e as MemScopeError).message).not.toContain('\n');
  return e as MemScopeError;
}

describe('_NT_SYMBOL_PATH parsing', () => {
  it('reads srv*cache*url, srv*url, cache*, plain dirs and several entries', () => {
    expect(parseSymbolPath('srv*C:\\cache*https://msdl.microsoft.com/download/symbols/;SRV*http://h/s;cache*/c;/plain/dir;symsrv*symsrv.dll*/d*https://x/y')).toEqual([
      { kind: 'local', dir: 'C:\\cache', layout: 'symstore' },
      { kind: 'http', url: 'https://msdl.microsoft.com/download/symbols' },
      { kind: 'http', url: 'http://h/s' },
      { kind: 'local', dir: '/c', layout: 'symstore' },
      { kind: 'local', dir: '/plain/dir', layout: 'flat' },
      { kind: 'local', dir: '/d', layout: 'symstore' },
      { kind: 'http', url: 'https://x/y' },
    ]);
    expect(() => parseSymbolPath('srv*')).toThrow(/names no store/);
    expect(() => parseSymbolPath('foo*bar')).toThrow(/not srv/);
  });
});

describe('fetchProfile against a local symbol server', () => {
  it('downloads by GUID+age, verifies, converts and caches; the second call is served from the cache', async () => {
    handler = serve(PDB);
    const home = newHome();
    const first = await fetchProfileDetailed(KEY, opts(home));
    expect(first.source).toBe('symbol-server');
    expect(requests).toEqual([PATH]);
    expect(first.profile).toEqual(pdbToProfile(new Uint8Array(PDB), { name: PDB_NAME }));
    expect(first.profile.pdb).toEqual({ name: PDB_NAME, guid: KEY.slice(0, 32), age: 1 });
    expect(readFileSync(join(home, 'symbols', PDB_NAME, KEY, PDB_NAME)).equals(PDB)).toBe(true);
    expect(filesUnder(home).sort()).toEqual([PDB_NAME, `${KEY}.json.gz`]); // no temp files left behind

    const again = await fetchProfileDetailed(KEY.toLowerCase(), opts(home));
    expect(again.source).toBe('cache');
    expect(again.profile).toEqual(first.profile);
    expect(requests).toEqual([PATH]);
  });

  it('offline mode never touches the network (option or MEMSCOPE_OFFLINE=1), yet uses the cache', async () => {
    handler = serve(PDB);
    const home = newHome();
    expect((await rejection(fetchProfile(KEY, opts(home, { offline: true })))).message).toMatch(/offline mode forbids the symbol server/);
    expect((await rejection(fetchProfile(KEY, opts(home, { env: { MEMSCOPE_OFFLINE: '1' } })))).kind).toBe('analysis');
    expect(requests).toEqual([]);
    await fetchProfile(KEY, opts(home)); // fills the cache
    requests = [];
    expect((await fetchProfile(KEY, opts(home, { offline: true }))).pdb.guid).toBe(KEY.slice(0, 32));
    expect(requests).toEqual([]);
  });

  it('reconverts the cached PDB when the cached profile is corrupt, without the network', async () => {
    handler = serve(PDB);
    const home = newHome();
    const first = await fetchProfile(KEY, opts(home));
    const profileFile = join(home, 'profiles', PDB_NAME, `${KEY}.json.gz`);
    writeFileSync(profileFile, Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    requests = [];
    const r = await fetchProfileDetailed(KEY, opts(home, { offline: true }));
    expect(r.source).toBe('local-pdb');
    expect(r.profile).toEqual(first);
    expect(requests).toEqual([]);
    expect((await fetchProfileDetailed(KEY, opts(home, { offline: true }))).source).toBe('cache');
  });

  it('uses a PDB found in a local store of the symbol path without any request', async () => {
    handler = serve(PDB);
    const home = newHome();
    const store = newHome();
    mkdirSync(join(store, PDB_NAME, KEY), { recursive: true });
    writeFileSync(join(store, PDB_NAME, KEY, PDB_NAME), PDB);
    const r = await fetchProfileDetailed(KEY, opts(home, { symbolPath: `srv*${store}*${base}` }));
    expect(r.source).toBe('local-pdb');
    expect(requests).toEqual([]);
  });

  it('rejects a PDB whose own GUID+age differ from the requested ones and caches nothing', async () => {
    handler = serve(OTHER_PDB);
    const home = newHome();
    const e = await rejection(fetchProfile(KEY, opts(home)));
    expect(e.kind).toBe('format');
    expect(e.message).toMatch(/PDB is 3249D99D0C4049318610F4E4FB0B6936 age 1, not the requested F535C5FB2AE84BB8AA206C30BE566C5A age 1; not cached/);
    expect(filesUnder(home)).toEqual([]);
  });

  it('rejects HTML (by content type or by body), a CAB and a non-PDB body, caching nothing', async () => {
    const home = newHome();
    handler = serve(new TextEncoder().encode('<html><body>Sign in</body></html>'), 'text/html; charset=utf-8');
    expect((await rejection(fetchProfile(KEY, opts(home)))).message).toMatch(/returned an HTML page, not a PDB/);
    handler = serve(new TextEncoder().encode('<!DOCTYPE html><html></html>'.padEnd(64)));
    expect((await rejection(fetchProfile(KEY, opts(home)))).message).toMatch(/HTML\/XML page, not a PDB/);
    handler = serve(new TextEncoder().encode('MSCF\0\0\0\0'.padEnd(64, '\0')));
    expect((await rejection(fetchProfile(KEY, opts(home)))).message).toMatch(/compressed CAB \(\.pd_\).*cannot unpack/);
    handler = serve(PDB.subarray(0, 100).map((b, i) => (i < 4 ? 0x41 : b)));
    expect((await rejection(fetchProfile(KEY, opts(home)))).message).toMatch(/not a PDB \(no MSF 7\.0 signature/);
    handler = serve(PDB.subarray(0, 70_000)); // MSF magic but truncated
    expect((await rejection(fetchProfile(KEY, opts(home)))).message).toMatch(/truncated/);
    expect(filesUnder(home)).toEqual([]);
  });

  it('refuses a huge body without buffering it all (declared or streamed)', async () => {
    const home = newHome();
    handler = (_req, res) => { res.writeHead(200, { 'content-length': String(2 ** 40) }); res.write(PDB.subarray(0, 4096)); };
    expect((await rejection(fetchProfile(KEY, opts(home, { maxBytes: 1 << 20 })))).message).toMatch(/body too large: 1099511627776 bytes declared/);
    const chunk = Buffer.concat([PDB.subarray(0, 65536)]);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked, no length
      const pump = (): void => {
        while (bytesSent < 1 << 30) {
          bytesSent += chunk.length;
          if (!res.write(chunk)) { res.once('drain', pump); return; }
        }
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    };
    const e = await rejection(fetchProfile(KEY, opts(home, { maxBytes: 2 << 20 })));
    expect(e.message).toMatch(/body too large: more than 2097152 bytes/);
    expect(bytesSent).toBeLessThan(64 << 20); // the client stopped reading long before 1 GiB
    expect(filesUnder(home)).toEqual([]);
  });

  it('reports 404 as "not on symbol server" and other statuses clearly', async () => {
    const home = newHome();
    handler = (_req, res) => res.writeHead(404).end('nope');
    const e = await rejection(fetchProfile(KEY, opts(home)));
    expect(e.message).toBe(`${PDB_NAME} ${KEY}: not on symbol server ${base} (HTTP 404)`);
    handler = (_req, res) => res.writeHead(503).end();
    expect((await rejection(fetchProfile(KEY, opts(home)))).message).toMatch(/answered HTTP 503/);
    expect(filesUnder(home)).toEqual([]);
  });

  it('tries the next server after a 404', async () => {
    handler = (req, res) => (req.url?.startsWith('/symbols/') ? serve(PDB)(req, res) : res.writeHead(404).end());
    const home = newHome();
    const r = await fetchProfileDetailed(KEY, opts(home, { symbolPath: `srv*${base.replace('/symbols', '/empty')};srv*${base}` }));
    expect(r.source).toBe('symbol-server');
    expect(requests).toHaveLength(2);
  });

  it('times out on a server that never answers', async () => {
    handler = () => undefined; // accept the request, never respond
    const home = newHome();
    const t0 = Date.now();
    const e = await rejection(fetchProfile(KEY, opts(home, { timeoutMs: 300 })));
    expect(e.message).toMatch(/symbol server timed out after 300 ms/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(filesUnder(home)).toEqual([]);
  });

  it('rejects a malformed GUID+age as a usage error', async () => {
    const e = await rejection(fetchProfile('XYZ', opts(newHome())));
    expect(e.kind).toBe('usage');
    expect(requests).toEqual([]);
  });
});
