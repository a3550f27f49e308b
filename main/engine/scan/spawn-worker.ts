/**
 * Start a scan worker from whichever form this module is running as. Compiled (dist/*.js): the
 * worker is scan-worker.js beside this file. Under tsx or vitest (this file is .ts): Node 20 loads
 * a worker's entry module before any `--import` hook in execArgv applies, so the entry is a tiny
 * eval'd script that registers tsx's ESM loader in the worker, then imports scan-worker.ts.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReaderInit, WorkerInit } from './protocol.js';

const here = import.meta.url;

let live = 0;
/** Scan workers started and not yet exited, process-wide (tests assert it returns to 0). */
export const activeScanWorkers = (): number => live;

function tsxRegisterUrl(): string {
  // tsx's package "exports": "./esm/api" → import → ./dist/esm/api/index.mjs (register()).
  const pkg = createRequire(here).resolve('tsx/package.json');
  return pathToFileURL(join(dirname(pkg), 'dist', 'esm', 'api', 'index.mjs')).href;
}

/**
 * Start the worker module `name` (no extension) beside `callerUrl` (the caller's import.meta.url),
 * as .ts through tsx when the caller runs as .ts, else the compiled .js.
 */
export function spawnModuleWorker(callerUrl: string, name: string, workerData: unknown): Worker {
  if (/\.ts$/.test(new URL(callerUrl).pathname)) {
    const target = new URL(`./${name}.ts`, callerUrl).href;
    const code = `import(${JSON.stringify(tsxRegisterUrl())}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(new URL(`./${name}.js`, callerUrl), { workerData });
}

export function spawnScanWorker(init: WorkerInit): Worker {
  return counted(spawnModuleWorker(here, 'scan-worker', init));
}

/** The reader of a fed pool (feed-reader.ts), counted with the scan workers. */
export function spawnFeedReader(init: ReaderInit): Worker {
  return counted(spawnModuleWorker(here, 'feed-reader', init));
}

function counted(worker: Worker): Worker {
  live++;
  worker.once('exit', () => {
    live--;
  });
  return worker;
}
