/**
 * Every way the engine host ends unloads the driver exactly once (a fake process), and the Electron
 * host offers live memory from the simulated device only when main passed it (never from the
 * environment: a packaged build ignores MEMSCOPE_SIMULATED_PMEM).
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { guardRelease, type ProcessLike } from './live-driver.js';
import { electronServiceHost } from './electron-service-host.js';

function fakeProcess(): ProcessLike & EventEmitter & { exits: number[] } {
  const p = new EventEmitter() as EventEmitter & ProcessLike & { exits: number[] };
  p.exits = [];
  p.exit = ((code?: number) => { p.exits.push(code ?? 0); }) as ProcessLike['exit'];
  return p;
}

describe('driver release on every exit path', () => {
  for (const [event, arg, code] of [['exit', 0, null], ['disconnect', undefined, null], ['SIGINT', 'SIGINT', 130], ['SIGTERM', 'SIGTERM', 143], ['uncaughtException', new Error('boom'), 1]] as const) {
    it(`${event}: released once${code === null ? '' : `, then exit ${code}`}`, () => {
      const p = fakeProcess();
      let released = 0;
      const warnings: string[] = [];
      guardRelease(() => { released++; return ['DeleteService failed']; }, p, (w) => warnings.push(w));
      p.emit(event, arg);
      p.emit('exit', 0); // the exit that follows a signal does not release twice
      expect(released).toBe(1);
      expect(warnings[0]).toBe('DeleteService failed');
      expect(p.exits).toEqual(code === null ? [] : [code]);
      if (event === 'uncaughtException') expect(warnings[1]).toMatch(/uncaught error: boom/);
    });
  }
});

describe('Electron host live memory', () => {
  it('off Windows without a simulated device: unavailable, with the reason', () => {
    process.env['MEMSCOPE_SIMULATED_PMEM'] = '/nonexistent.raw'; // the host never reads the environment
    try {
      const h = electronServiceHost({ platform: 'linux' });
      expect(h.capabilities().live).toEqual({ available: false, reason: expect.stringMatching(/needs MemScope running on Windows as administrator/) });
      expect(h.liveRef).toBeUndefined();
    } finally {
      delete process.env['MEMSCOPE_SIMULATED_PMEM'];
    }
  });

  it('with the simulated device main passed: available, says simulated, pre-flight passes', async () => {
    const h = electronServiceHost({ platform: 'linux', simulatedPmem: '/tmp/x.raw' });
    expect(h.capabilities().live).toEqual({ available: true, reason: 'Simulated WinPmem device serving /tmp/x.raw (MEMSCOPE_SIMULATED_PMEM)' });
    expect(await h.liveRef!()).toEqual({ kind: 'simulated', image: '/tmp/x.raw' });
    const pf = await h.livePreflight!();
    expect(pf.simulated).toBe(true);
    expect(pf.checks.find((c) => c.id === 'memory')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/x\.raw/) });
    expect(pf.canStart).toBe(false);
  });
});
