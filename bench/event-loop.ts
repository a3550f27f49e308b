/**
 * Bench row: the Electron main process's event loop during a whole-memory scan. The session runs in
 * its engine host child exactly as in the app — the same host module and the same forwarding client
 * main uses (main/app/engine-client.ts), with `child_process.fork` standing in for Electron's
 * `utilityProcess.fork` — while `perf_hooks.monitorEventLoopDelay` samples this (the "main") process.
 * Run events are forwarded as main forwards them to the window (structured clone of every event).
 * Reported: the longest and the 99th-percentile delay over the scan (target: never > 50 ms), and the
 * same watch with no scan running, so a shared machine's own scheduling noise is visible beside it.
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RunEvent, SessionInfo } from '../common/contract.js';
import { EngineClient } from '../main/app/engine-client.js';
import { ENGINE_HOST_MODULE } from '../main/app/engine-host-path.js';
import { forkNodeUtilityProcess } from '../main/app/node-utility-process.js';
import { guidAgeKey } from '../main/engine/profile/model.js';
import type { BenchImage } from './images.js';
import { benchBundledDir } from './profiles.js';
import { makeRow, type BenchRow } from './report.js';

export const MAIN_LOOP_TARGET_MS = 50;

export interface MainLoopSample {
  readonly maxMs: number;
  readonly p99Ms: number;
  readonly scanMs: number;
  readonly rows: number;
  readonly events: number;
  readonly outcome: string;
  /** 1-minute load average at the end (a shared machine's other work also delays the loop). */
  readonly load: number;
  /** The same watch with the host open but idle, as long as the scan (capped): the machine's own noise. */
  readonly idleMaxMs: number;
  readonly idleP99Ms: number;
}

const IDLE_WATCH_CAP_MS = 5000;

async function watchIdle(ms: number): Promise<{ maxMs: number; p99Ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  await new Promise((r) => setTimeout(r, ms));
  h.disable();
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
}

async function ok<T>(p: Promise<{ ok: true; value: unknown } | { ok: false; error: { message: string } }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(`engine host: ${r.error.message}`);
  return r.value as T;
}

/** One psxview run (pool scans of all memory) in the engine host, the parent's event loop watched throughout. */
export async function measureMainLoop(imagePath: string, env: NodeJS.ProcessEnv): Promise<MainLoopSample> {
  const engine = new EngineClient(() => forkNodeUtilityProcess(ENGINE_HOST_MODULE, [], { env }));
  try {
    const info = await ok<SessionInfo>(engine.request('openSession', { path: imagePath }));
    let events = 0;
    const done = new Promise<Extract<RunEvent, { type: 'done' }>>((resolve) => {
      engine.onEvent((e) => {
        events++;
        structuredClone(e); // what webContents.send does with each event
        if (e.type === 'done') resolve(e);
      });
    });
    const h = monitorEventLoopDelay({ resolution: 10 });
    const t0 = performance.now();
    h.enable();
    await ok(engine.request('startRun', { sessionId: info.sessionId, request: { plugin: 'psxview' } }));
    const end = await done;
    h.disable();
    const scanMs = performance.now() - t0;
    const idle = await watchIdle(Math.min(scanMs, IDLE_WATCH_CAP_MS));
    return {
      maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, scanMs, rows: end.rows, events, outcome: end.outcome, load: loadavg()[0]!,
      idleMaxMs: idle.maxMs, idleP99Ms: idle.p99Ms,
    };
  } finally {
    await engine.dispose();
  }
}

export async function mainLoopRows(img: BenchImage, label: string, runs: number, warnings: string[]): Promise<BenchRow[]> {
  const bundledDir = await benchBundledDir(guidAgeKey(img.truth.pdb));
  const env = bundledDir ? { ...process.env, MEMSCOPE_BUNDLED_PROFILES: bundledDir } : process.env;
  const wantPsscan = img.truth.processes.filter((p) => p.foundBy.psscan).length;
  const samples: MainLoopSample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await measureMainLoop(img.path, env));
  for (const s of samples) {
    if (s.outcome !== 'completed') warnings.push(`${label}: main-loop psxview run ended ${s.outcome}`);
    else if (s.rows < wantPsscan) warnings.push(`${label}: main-loop psxview run gave ${s.rows} rows, fewer than the ${wantPsscan} processes psscan must find`);
  }
  const last = samples[samples.length - 1]!;
  return [
    makeRow({
      id: 'main-event-loop-max-ms', image: label, label: 'main event loop, longest block during a psxview scan (engine in a child)',
      unit: 'ms', values: samples.map((s) => s.maxMs), target: { op: '<=', value: MAIN_LOOP_TARGET_MS }, judgedOn: 'max',
      note: `scan ${(last.scanMs / 1000).toFixed(1)} s in the engine host, ${last.events} events forwarded; monitorEventLoopDelay, 10 ms resolution; load average ${last.load.toFixed(1)}`,
    }),
    makeRow({ id: 'main-event-loop-p99-ms', image: label, label: '  main event loop delay, p99', unit: 'ms', values: samples.map((s) => s.p99Ms) }),
    makeRow({
      id: 'main-event-loop-idle-max-ms', image: label, label: '  same process, no scan running: longest block (machine noise)', unit: 'ms',
      values: samples.map((s) => s.idleMaxMs), judgedOn: 'max', note: `p99 ${last.idleP99Ms.toFixed(1)} ms; watched after the scan, host idle, up to ${IDLE_WATCH_CAP_MS / 1000} s`,
    }),
  ];
}
