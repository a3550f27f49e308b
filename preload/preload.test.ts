/**
 * The preload bundle, built by the same script `npm run build` runs (to a temporary file), loaded the way a
 * sandboxed Electron preload runs: one CommonJS script whose only `require` is `electron`. Asserts
 * what it exposes through contextBridge: exactly the contract's methods plus onEvent, each invoking
 * its own channel, and no raw ipcRenderer.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { channelOf, EVENT_CHANNEL, METHODS, type MemScopeApi, type RunEvent } from '../common/contract.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'memscope-preload-'));

let code: string;
beforeAll(() => {
  const bundle = join(out, 'preload.cjs');
  execFileSync(process.execPath, ['scripts/build-preload.mjs', bundle], { cwd: root, stdio: 'inherit' });
  code = readFileSync(bundle, 'utf8');
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

function load() {
  const exposed = new Map<string, unknown>();
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  const ipcRenderer = {
    invoke: vi.fn(async (channel: string, args: unknown) => ({ ok: true, value: { channel, args } })),
    on: vi.fn((channel: string, l: (...a: unknown[]) => void) => { (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)!).add(l); }),
    removeListener: vi.fn((channel: string, l: (...a: unknown[]) => void) => { listeners.get(channel)?.delete(l); }),
    send: vi.fn(),
    sendSync: vi.fn(),
  };
  const electron = { contextBridge: { exposeInMainWorld: vi.fn((key: string, api: unknown) => exposed.set(key, api)) }, ipcRenderer };
  const required: string[] = [];
  const module = { exports: {} };
  const sandboxRequire = (name: string): unknown => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`a sandboxed preload cannot require ${name}`);
  };
  // A script in its own context with only require/module/exports: what a sandboxed preload gets.
  vm.runInNewContext(`(function (require, module, exports) {${code}\n})`, { console })(sandboxRequire, module, module.exports);
  return { exposed, ipcRenderer, listeners, required };
}

describe('preload bundle', () => {
  it('is one CommonJS file whose only require is electron', () => {
    expect(code).not.toMatch(/^\s*(import|export)\s/m);
    const requires = [...code.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
    expect(requires.length).toBeGreaterThan(0);
    expect(new Set(requires)).toEqual(new Set(['electron']));
    const { required } = load();
    expect(required).toEqual(['electron']);
  });

  it('exposes window.memscope with exactly the contract methods plus onEvent', () => {
    const { exposed } = load();
    expect([...exposed.keys()]).toEqual(['memscope']);
    const api = exposed.get('memscope') as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([...METHODS, 'onEvent'].sort());
    for (const k of Object.keys(api)) expect(typeof api[k], k).toBe('function');
    expect(Object.values(api)).not.toContain(undefined);
  });

  it('each method invokes its own channel with the arguments as given', async () => {
    const { exposed, ipcRenderer } = load();
    const api = exposed.get('memscope') as Record<string, (args: unknown) => Promise<unknown>>;
    for (const m of METHODS) {
      const args = { probe: m };
      expect(await api[m]!(args)).toEqual({ ok: true, value: { channel: channelOf(m), args } });
    }
    expect(ipcRenderer.invoke).toHaveBeenCalledTimes(METHODS.length);
    expect(ipcRenderer.send).not.toHaveBeenCalled();
    expect(ipcRenderer.sendSync).not.toHaveBeenCalled();
  });

  it('onEvent delivers run events without the IPC event, and unsubscribes', () => {
    const { exposed, listeners } = load();
    const api = exposed.get('memscope') as MemScopeApi;
    const got: unknown[][] = [];
    const off = api.onEvent((...a: unknown[]) => got.push(a));
    const ev: RunEvent = { type: 'warning', runId: 'r1', message: 'pslist: list loops' };
    const ipcEvent = { sender: { send: () => {} }, ports: [] };
    for (const l of listeners.get(EVENT_CHANNEL)!) l(ipcEvent, ev);
    expect(got).toEqual([[ev]]);
    off();
    expect(listeners.get(EVENT_CHANNEL)!.size).toBe(0);
  });
});
