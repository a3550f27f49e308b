/**
 * The host loop on the real contract service, through an in-memory parentPort: request frames are
 * answered by id, a malformed frame gets the typed invalid-request answer (never a crash), and
 * dispose ends with `disposed` and exit.
 */
import { describe, expect, it } from 'vitest';
import { createContractService } from '../service/service.js';
import { electronServiceHost } from './electron-service-host.js';
import { runEngineHost, type HostPort } from './engine-host-loop.js';
import type { HostToMain } from './engine-protocol.js';

function port() {
  const posted: HostToMain[] = [];
  let listener: ((m: { data: unknown }) => void) | null = null;
  const p: HostPort = {
    on: (_event, l) => { listener = l; },
    postMessage: (m) => { posted.push(m); },
  };
  const send = (data: unknown) => listener!({ data });
  const next = async (n: number) => {
    for (let i = 0; i < 500 && posted.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    return posted;
  };
  return { p, send, next };
}

describe('engine host loop', () => {
  it('answers frames by id, malformed ones typed, and disposes on request', async () => {
    const { p, send, next } = port();
    let exited = false;
    runEngineHost(p, createContractService(electronServiceHost({ platform: 'linux' })), () => { exited = true; });
    expect(await next(1)).toEqual([{ control: 'ready' }]);

    send({ id: 7, method: 'capabilities', args: {} });
    send({ id: 8, method: 'openSession', args: { path: 42 } });
    send({ nonsense: true });
    send('not even an object');
    send({ id: 9, method: 'no-such-method', args: {} });
    const got = await next(6);
    expect(got).toContainEqual({ id: 7, response: { ok: true, value: expect.objectContaining({ host: 'electron' }) } });
    expect(got).toContainEqual({ id: 8, response: { ok: false, error: expect.objectContaining({ code: 'invalid-request' }) } });
    expect(got).toContainEqual({ id: 9, response: { ok: false, error: expect.objectContaining({ code: 'unknown-method' }) } });
    expect(got.filter((m) => 'id' in m && m.id === null)).toHaveLength(2);

    send({ control: 'dispose' });
    expect((await next(7)).at(-1)).toEqual({ control: 'disposed' });
    expect(exited).toBe(true);
  });
});
