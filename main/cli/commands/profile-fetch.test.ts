import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../../engine/errors.js';
import { SHARED_PDB_DIR } from '../../engine/profile/pdb/testing/fixtures.js';
import { registerProfileFetch } from './profile-fetch.js';

const PDB_NAME = 'CrashWithException.pdb';
const PDB = readFileSync(join(SHARED_PDB_DIR, PDB_NAME));
const KEY = 'F535C5FB2AE84BB8AA206C30BE566C5A1';
let server: Server;
let url: string;
let requests: string[] = [];
let home: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === `/s/${PDB_NAME}/${KEY}/${PDB_NAME}`) res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(PDB);
    else res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/s`;
  home = mkdtempSync(join(tmpdir(), 'memscope-cli-fetch-'));
});
afterAll(() => { server.close(); rmSync(home, { recursive: true, force: true }); });

/** The `profile` command is helper C's; here a bare one hosts `fetch` so this module is tested on its own. */
async function run(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('memscope').exitOverride();
  registerProfileFetch(program.command('profile'), { out: (t) => { out += t; }, err: () => undefined });
  await program.parseAsync(['profile', 'fetch', ...args], { from: 'user' });
  return out;
}

describe('memscope profile fetch', () => {
  it('refuses the network with --offline when nothing is cached', async () => {
    const e = await run(KEY, '--symbol-path', `srv*${url}`, '--pdb-name', PDB_NAME, '--cache-dir', home, '--offline').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MemScopeError);
    expect((e as MemScopeError).message).toMatch(/offline mode forbids the symbol server/);
    expect(requests).toEqual([]);
  });

  it('downloads, verifies and caches, then answers from the cache (JSON summary)', async () => {
    const args = [KEY, '--symbol-path', `srv*${url}`, '--pdb-name', PDB_NAME, '--cache-dir', home, '--format', 'json'];
    const first = JSON.parse(await run(...args));
    expect(first).toMatchObject({ pdb: PDB_NAME, guid: KEY.slice(0, 32), age: 1, source: 'symbol-server', pointerSize: 8 });
    expect(first.types).toBeGreaterThan(100);
    const second = JSON.parse(await run(...args, '--offline'));
    expect(second).toMatchObject({ source: 'cache', types: first.types, symbols: first.symbols });
    expect(requests).toHaveLength(1);
  });

  it('rejects a bad --timeout as a usage error', async () => {
    const e = await run(KEY, '--timeout', 'soon', '--cache-dir', home).catch((x: unknown) => x);
    expect((e as MemScopeError).kind).toBe('usage');
  });
});
