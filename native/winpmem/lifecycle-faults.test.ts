/**
 * With the simulated live device the driver is still unloaded after each fault (issue 22 part 6,
 * issue 20's device faults). One app run per fault, on the app's own live path: windowsLiveHost
 * loads the driver through the lifecycle (a fake Service Control Manager, the private copy in a temp
 * directory) at the first Start and hooks its release to the engine host's process with
 * guardRelease; the contract service opens Live memory — the simulated WinPmem device serving a
 * sample image, through the fault injector — and runs pslist, psscan and psxview; the fault strikes;
 * the session is closed, Live memory opened again without the fault and psscan re-run (the clean
 * rows, the driver not loaded twice); then the app quits by one of its exit paths. After each: the
 * service is stopped and deleted, the private copy and the marker are gone.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capabilities, Envelope, RunEvent, SessionInfo } from '../../common/contract.js';
import { guardRelease, type ProcessLike } from '../../main/app/live-driver.js';
import { exitSmear, listSmear, RANDOM_FAULTS } from '../../main/engine/plugins/testing/smear-plans.js';
import { buildSample, type GroundTruth } from '../../main/engine/sample/index.js';
import { openSession } from '../../main/engine/session/session.js';
import { FaultInjectingSource, type FaultPlan } from '../../main/engine/sources/fault-injecting.js';
import { createContractService } from '../../main/service/service.js';
import { WinPmemSource, type PmemDevice } from './device.js';
import { defaultLifecycleFs } from './lifecycle.js';
import { windowsLiveHost } from './live-host.js';
import { simulatedMachine } from './live-ref.js';
import type { PreflightApi } from './preflight.js';
import { INFO_OFFSETS, PMEM_IOCTLS, RUN_SIZE } from './protocol.js';
import { SimulatedDeviceError, SimulatedPmemDevice, type SimulatedPmemOptions } from './simulated-device.js';
import { fakeDriver, fakeScm } from './testing/fake-scm.js';
import { WIN32 } from './win32-errors.js';

const PAGE = 4096;
const ERROR_DEVICE_NOT_CONNECTED = 1167;

/** What goes wrong with the device itself (issue 20's bad input). */
interface DeviceFault {
  /** GET_INFO's reply rewritten, or the IOCTL failing. */
  readonly info?: SimulatedPmemOptions['tamperInfo'] | 'fails';
  /** Once armed (the session open), after this many more reads: every 8th page fails, or the device is gone. */
  readonly reads?: { readonly after: number; readonly then: 'pages-fail' | 'gone' };
}

interface FaultCase {
  readonly name: string;
  /** The fault injector's plan, armed once the live session is open (discovery reads clean memory). */
  readonly plan?: (kernelPlans: KernelPlans) => FaultPlan;
  readonly device?: DeviceFault;
  /** Opening Live memory fails with this (the device's GET_INFO); else it opens and the scans run. */
  readonly openFails?: RegExp;
  /** The scans in this order (default pslist, psscan, psxview). */
  readonly order?: readonly ('pslist' | 'psscan' | 'psxview')[];
}

interface KernelPlans { list: FaultPlan; exit: FaultPlan }

/** The simulated device's handle, with the device faults of a case. */
class FaultyDevice implements PmemDevice {
  readonly name: string;
  /** Reads since armed (null: not armed). */
  private reads: number | null = null;
  constructor(private readonly inner: SimulatedPmemDevice, private readonly fault: DeviceFault) {
    this.name = inner.name;
  }

  arm(): void {
    this.reads = 0;
  }

  private struck(then: 'pages-fail' | 'gone'): boolean {
    const r = this.fault.reads;
    return r !== undefined && r.then === then && this.reads !== null && this.reads > r.after;
  }

  private gone(): boolean {
    return this.struck('gone');
  }

  ioctl(code: number, input: Uint8Array, outLength: number): Uint8Array {
    if (this.gone()) throw new SimulatedDeviceError('the device is no longer connected', ERROR_DEVICE_NOT_CONNECTED);
    if (code === PMEM_IOCTLS.getInfo && this.fault.info === 'fails') throw new SimulatedDeviceError('STATUS_IO_DEVICE_ERROR', WIN32.ERROR_IO_DEVICE);
    return this.inner.ioctl(code, input, outLength);
  }

  readAt(pa: number, length: number): Uint8Array {
    if (this.reads !== null) this.reads++;
    if (this.gone()) throw new SimulatedDeviceError('the device is no longer connected', ERROR_DEVICE_NOT_CONNECTED);
    if (this.struck('pages-fail')) {
      for (let page = Math.floor(pa / PAGE); page * PAGE < pa + length; page++) {
        if (page % 8 === 3) throw new SimulatedDeviceError(`cannot map physical page 0x${(page * PAGE).toString(16)}`, WIN32.ERROR_IO_DEVICE);
      }
    }
    return this.inner.readAt(pa, length);
  }

  close(): void {
    this.inner.close();
  }
}

/** The engine host's process as guardRelease sees it. */
function fakeProcess(): ProcessLike & EventEmitter & { exits: number[] } {
  const p = new EventEmitter() as EventEmitter & ProcessLike & { exits: number[] };
  p.exits = [];
  p.exit = ((code?: number) => { p.exits.push(code ?? 0); }) as ProcessLike['exit'];
  return p;
}

const elevated: PreflightApi = { isElevated: () => true, windowsVersion: () => ({ major: 10, minor: 0, build: 19041 }), hklmDword: () => 0 };

/** The ways the engine host ends (main/app/live-driver.ts), one per case in turn. */
const EXITS = [['exit', 0], ['SIGTERM', 'SIGTERM'], ['disconnect', undefined], ['SIGINT', 'SIGINT'], ['uncaughtException', new Error('boom')]] as const;

const rewrite = (edit: (v: DataView) => void) => (reply: Uint8Array): Uint8Array => {
  const c = Uint8Array.from(reply);
  edit(new DataView(c.buffer));
  return c;
};
const runStart = (i: number) => INFO_OFFSETS.Run + i * RUN_SIZE;

let dir = '';
let image = '';
let sys = '';
let truth: GroundTruth;
let plans: KernelPlans;
const clean = new Map<string, string[]>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memscope-live-faults-'));
  image = join(dir, 's19041.raw');
  sys = join(dir, 'winpmem_x64.sys');
  fakeDriver(sys);
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 5, processes: 10 });
  // the smear plans are physical addresses: computed on the image, they apply to the device serving it
  const s = await openSession(image, { workers: 1 });
  try {
    plans = { list: (await listSmear(s.kernel)).plan, exit: exitSmear(s.kernel, truth).plan };
    for (const plugin of ['pslist', 'psscan', 'psxview'] as const) clean.set(plugin, [...(await s.runToEnd(plugin)).rows.keys()].sort());
  } finally {
    await s.close();
  }
}, 180_000);

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface Run { outcome: string; error: string | null; keys: string[]; warnings: string[] }

/** One app run on the live path: Start, the fault, the scans, a clean re-run, quit by `exitPath`. */
async function appRun(c: FaultCase, exitPath: (typeof EXITS)[number]): Promise<string> {
  const scm = fakeScm();
  const proc = fakeProcess();
  const released: string[] = [];
  const root = join(dir, c.name.replace(/\W+/g, '-'), 'ProgramData', 'MemScope', 'driver'); // a machine of its own
  let device: DeviceFault | null = c.device ?? null;
  let handle: FaultyDevice | null = null;
  const openDevice = (): WinPmemSource => {
    const sim = SimulatedPmemDevice.open(image, { ...simulatedMachine(image), ...(device?.info && device.info !== 'fails' ? { tamperInfo: device.info } : {}) });
    return WinPmemSource.open(device ? (handle = new FaultyDevice(sim, device)) : sim, { mode: 'auto' });
  };
  const parts = windowsLiveHost(sys, 'test', () => elevated, (release) => guardRelease(release, proc, (w) => released.push(w)), {
    lifecycle: { api: scm.api, fs: defaultLifecycleFs(root), pid: 4242, pidAlive: () => false, sleep: () => undefined },
    openDevice,
  });
  let faults: FaultInjectingSource | null = null;
  const caps: Capabilities = { host: 'electron', nativeDialogs: false, live: { available: true, reason: parts.reason }, initialImage: null, sampleImage: null };
  const service = createContractService({
    capabilities: () => caps,
    livePreflight: parts.livePreflight,
    // the app's Start: the driver loaded once (the first time), the device probed, then opened for the session
    openLive: async () => {
      await parts.liveRef();
      return (faults = new FaultInjectingSource(openDevice()));
    },
  });
  const events: RunEvent[] = [];
  service.onEvent((e) => events.push(e));
  const run = async (sessionId: string, plugin: 'pslist' | 'psscan' | 'psxview'): Promise<Run> => {
    const r = await service.handle('startRun', { sessionId, request: { plugin } }) as Envelope<{ runId: string }>;
    if (!r.ok) throw new Error(`${plugin}: ${r.error.message}`);
    const mine = () => events.filter((e) => e.runId === r.value.runId);
    await expect.poll(() => mine().some((e) => e.type === 'done'), { timeout: 60_000, interval: 20 }).toBe(true);
    const done = mine().find((e) => e.type === 'done')!;
    if (done.type !== 'done') throw new Error('unreachable');
    return {
      outcome: done.outcome,
      error: done.error,
      keys: [...new Set(mine().flatMap((e) => (e.type === 'row' ? [e.key] : [])))].sort(),
      warnings: mine().flatMap((e) => (e.type === 'warning' ? [e.message] : [])),
    };
  };
  const tally: string[] = [];

  const first = await service.handle('openLive', {}) as Envelope<SessionInfo>;
  // the driver is loaded from the first Start on, whatever the device then does
  expect(scm.services.get('winpmem')?.running).toBe(true);
  if (c.openFails) {
    expect(first).toMatchObject({ ok: false, error: { code: expect.stringMatching(/^(io|analysis)$/), message: expect.stringMatching(c.openFails) } });
    tally.push(`open failed: ${first.ok ? '' : first.error.message}`);
  } else {
    if (!first.ok) throw new Error(`openLive: ${first.error.message}`);
    expect(first.value.source.live).toBe(true);
    // the fault strikes once the session is open
    if (c.plan) faults!.inject(c.plan(plans));
    (handle as FaultyDevice | null)?.arm();
    for (const plugin of c.order ?? ['pslist', 'psscan', 'psxview'] as const) {
      const r = await run(first.value.sessionId, plugin);
      if (r.outcome === 'failed') {
        expect(r.error, plugin).toMatch(/injected I\/O error|not readable|cannot|could not|no longer connected|failed/);
      } else {
        expect(r.outcome, plugin).toBe('completed');
        const known = truth.processes.flatMap((p) => [p.offset, p.physicalOffset]);
        expect(r.keys.filter((k) => !known.some((o) => k.includes(o))), `${plugin} invented rows`).toEqual([]);
        if (r.keys.length < clean.get(plugin)!.length) expect(r.warnings.length, `${plugin} lost ${clean.get(plugin)!.filter((k) => !r.keys.includes(k))} silently`).toBeGreaterThan(0);
        if (!c.plan && !c.device) expect(r, plugin).toMatchObject({ keys: clean.get(plugin), warnings: [] });
      }
      tally.push(`${plugin} ${r.outcome} ${r.keys.length} rows ${r.warnings.length} warnings`);
    }
    expect(await service.handle('closeSession', { sessionId: first.value.sessionId })).toEqual({ ok: true, value: {} });
    if (c.plan) tally.push(`injected ${JSON.stringify(faults!.counts)}`);
  }

  // the fault is over: Start again in the same app run, and the scan re-runs clean
  device = null;
  const again = await service.handle('openLive', {}) as Envelope<SessionInfo>;
  if (!again.ok) throw new Error(`openLive again: ${again.error.message}`);
  const rerun = await run(again.value.sessionId, 'psscan');
  expect(rerun).toEqual({ outcome: 'completed', error: null, keys: clean.get('psscan'), warnings: [] });
  expect(await service.handle('closeSession', { sessionId: again.value.sessionId })).toEqual({ ok: true, value: {} });

  // quit: the service closes what is open, then the engine host's process ends
  await service.dispose();
  expect(scm.services.get('winpmem')?.running).toBe(true); // loaded until the process ends
  proc.emit(exitPath[0], exitPath[1]);
  expect(scm.services.size).toBe(0);
  expect(scm.log.filter((l) => l.startsWith('create ')).length).toBe(1); // loaded once for both Starts
  expect(scm.log.slice(-2)).toEqual(['stop winpmem', 'delete winpmem']);
  expect(existsSync(root) ? readdirSync(root) : []).toEqual([]); // the private copy's directory and the marker
  expect(released).toEqual(exitPath[0] === 'uncaughtException' ? ['uncaught error: boom'] : []);
  return tally.join('; ');
}

const CASES: readonly FaultCase[] = [
  { name: 'no fault (the clean rows)' },
  { name: 'a process exits during pslist (list links rewritten mid-walk)', plan: (p) => p.list },
  // psscan first: the block is cleared once the scan has read its tag, not before (then the process had simply gone)
  { name: 'a process exits during psscan (its pool block cleared)', plan: (p) => p.exit, order: ['psscan', 'pslist', 'psxview'] },
  ...RANDOM_FAULTS.map((f): FaultCase => ({ name: f.name, plan: () => f })),
  { name: 'GET_INFO fails', device: { info: 'fails' }, openFails: /GET_INFO failed: STATUS_IO_DEVICE_ERROR/ },
  { name: 'a short GET_INFO reply', device: { info: (r) => r.subarray(0, 1000) }, openFails: /GET_INFO reply: truncated: 1000 bytes/ },
  { name: 'more runs than the info block holds', device: { info: rewrite((v) => v.setBigInt64(INFO_OFFSETS.NumberOfRuns, 5000n, true)) }, openFails: /NumberOfRuns 5000 exceeds/ },
  { name: 'overlapping runs', device: { info: rewrite((v) => v.setBigInt64(runStart(1), v.getBigInt64(runStart(0), true) + 0x1000n, true)) }, openFails: /runs overlap or are unsorted/ },
  { name: 'a run past 2^52', device: { info: rewrite((v) => v.setBigInt64(runStart(1), 1n << 52n, true)) }, openFails: /below 2\^52/ },
  { name: 'reads fail mid-scan', device: { reads: { after: 50, then: 'pages-fail' } } },
  { name: 'the device disappears mid-scan', device: { reads: { after: 50, then: 'gone' } } },
];

describe('the simulated live device: the driver is unloaded after each fault', () => {
  CASES.forEach((c, i) => {
    const exitPath = EXITS[i % EXITS.length]!;
    it(`${c.name}: the app survives, the scan re-runs clean, and on ${exitPath[0]} the driver service is stopped and deleted and its copy removed`, async () => {
      const tally = await appRun(c, exitPath);
      console.log(`live fault "${c.name}" (${exitPath[0]}): ${tally}`);
    }, 120_000);
  });
});
