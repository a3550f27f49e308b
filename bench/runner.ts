/**
 * One benchmark measurement in a fresh child process (spawned by bench.ts through child.ts), so
 * its peak RSS, JIT warm-up and module loading are those of a real `memscope` run, not of the
 * harness. Reads one JSON task from argv[2], prints one line `BENCH-RESULT <json>` on stdout.
 *
 *   analyze:   openSession (as the CLI and the app open an image: one ScanPool per session) →
 *              first pslist row of the session's run → all pslist rows → optionally psscan on N
 *              workers, then psscan again on the same pool; maxRSS of the whole process at the end.
 *   discover:  openSession, as the CLI runs it or `exhaustive` (every method validated,
 *              whole-memory scans run): per-method timings.
 *   scan:      a bare pool-tag scan (psscan's tags, or psxview's), timed.
 *   psxview:   openSession → a psxview run streamed as the app gets it: first row, done.
 *   translate: translation rate through X64AddressSpace on the image's kernel DTB.
 */
import { pageAlignedBytes } from '../main/engine/util/page-aligned.js';
import { profileProviders } from '../main/engine/session/profile-providers.js';
import { psscan } from '../main/engine/plugins/psscan/index.js';
import { openSession } from '../main/engine/session/session.js';
import type { ProfileProviders } from '../main/engine/windows/discovery/profile-resolve.js';
import { defaultProfileProviders } from '../main/engine/windows/discovery/providers.js';
import { poolTagScan, scanPhysical } from '../main/engine/scan/index.js';
import { measureTranslation } from './translate-rate.js';
import type { AnalyzeResult, ChildTask, CopyResult, DiscoverResult, PsxviewStreamResult, ScanResult } from './protocol.js';
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { acquireInWorker } from '../main/engine/acquire/index.js';
import { openSource } from '../main/engine/sources/detect.js';

const RESULT_PREFIX = 'BENCH-RESULT '; // child.ts looks for it

const maxRssMiB = (): number => process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB

function sumByMethod(methods: readonly { method: string; ms: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of methods) out[m.method] = (out[m.method] ?? 0) + m.ms;
  return out;
}

/** The CLI's providers, with the bench's one-build bundle in front when the repo has none (profiles.ts). */
function store(bundledDir: string | null): ProfileProviders {
  const cli = profileProviders();
  return bundledDir ? { ...cli, bundled: defaultProfileProviders({ bundledDir }).bundled } : cli;
}

async function analyze(image: string, bundledDir: string | null, workers: number | null, live = false): Promise<AnalyzeResult> {
  // As `memscope psscan|psxview` open it: the analysis session (one ScanPool per open image, its
  // workers started at open so their start-up overlaps discovery; the discovery and first-row
  // timings below therefore include that contention).
  const tOpen = performance.now();
  if (live) await import('../native/winpmem/live-ref.js'); // registers the simulated device's opener (workers import it too)
  const session = await openSession(live ? { kind: 'simulated', image } : image, { store: store(bundledDir), ...(workers !== null ? { workers, warmScan: true } : {}) });
  try {
    const { kernel, report } = session;
    const tKernel = performance.now();
    let firstRow: number | null = null;
    let pslistRows = 0;
    for await (const ev of session.run({ plugin: 'pslist' })) {
      if (ev.type !== 'row') continue;
      if (firstRow === null) firstRow = performance.now();
      pslistRows++;
    }
    const tPslist = performance.now();
    let psscanMs: number | null = null;
    let psscanRows = 0;
    let psscanRejected = 0;
    let psscanWarnings = 0;
    const rssBeforeScan = maxRssMiB();
    let psscanAgainMs: number | null = null;
    let psscanAgainRows = 0;
    if (workers !== null && session.scanPool) {
      const scan = session.scan; // the session's one scan function, on its pool (`workers` of them)
      const t = performance.now();
      for await (const ev of psscan(kernel, { scan })) {
        if (ev.type === 'row') psscanRows++;
        else if (ev.type === 'rejected') psscanRejected++;
        else if (ev.type === 'warning') psscanWarnings++;
      }
      psscanMs = performance.now() - t;
      // the session would replay a kept scan; the second pass measures the kept pool's warm workers
      const t2 = performance.now();
      for await (const ev of psscan(kernel, { scan })) if (ev.type === 'row') psscanAgainRows++;
      psscanAgainMs = performance.now() - t2;
    }
    return {
      task: 'analyze',
      discoveryMs: tKernel - tOpen,
      dtbMethod: kernel.dtbMethod,
      profileSource: kernel.profileSource,
      discoveryTimings: report.timings,
      firstPslistRowMs: firstRow === null ? null : firstRow - tOpen,
      firstPslistRowAfterKernelMs: firstRow === null ? null : firstRow - tKernel,
      pslistMs: tPslist - tKernel,
      pslistRows,
      workers,
      psscanMs,
      psscanRows,
      psscanRejected,
      psscanWarnings,
      psscanAgainMs,
      psscanAgainRows,
      rssBeforeScanMiB: rssBeforeScan,
      maxRssMiB: maxRssMiB(),
    };
  } finally {
    await session.close();
  }
}

async function discover(image: string, bundledDir: string | null, exhaustive: boolean): Promise<DiscoverResult> {
  const t = performance.now();
  const session = await openSession(image, { store: store(bundledDir), exhaustive });
  try {
    const totalMs = performance.now() - t;
    const { kernel, report } = session;
    return {
      task: 'discover',
      totalMs,
      dtbMethod: kernel.dtbMethod,
      dtb: `0x${kernel.dtb.toString(16)}`,
      kernelBase: `0x${kernel.kernelBase.toString(16)}`,
      timings: report.timings,
      methods: sumByMethod(report.methods),
      methodOk: Object.fromEntries(report.methods.map((m) => [m.method, m.ok])),
    };
  } finally {
    await session.close();
  }
}

/** openSession → a psxview run as the app streams it: first row, done, distinct rows. */
async function psxviewStream(image: string, bundledDir: string | null, workers: number): Promise<PsxviewStreamResult> {
  const t0 = performance.now();
  const session = await openSession(image, { store: store(bundledDir), workers, warmScan: true });
  try {
    let firstRowMs: number | null = null;
    let rowEvents = 0;
    const keys = new Set<string>();
    let outcome = 'none';
    for await (const ev of session.run({ plugin: 'psxview' })) {
      if (ev.type === 'row') {
        firstRowMs ??= performance.now() - t0;
        rowEvents++;
        keys.add(ev.key);
      } else if (ev.type === 'done') outcome = ev.outcome;
    }
    return { task: 'psxview', firstRowMs, doneMs: performance.now() - t0, outcome, rows: keys.size, rowEvents };
  } finally {
    await session.close();
  }
}

/** A bare scan-framework pool-tag scan (workers started for it), no validation. */
async function scanOnly(image: string, workers: number, tags: readonly string[]): Promise<ScanResult> {
  const spec = poolTagScan({ tags });
  const cpu = process.cpuUsage();
  const t = performance.now();
  let first: number | null = null;
  let hits = 0;
  for await (const ev of scanPhysical({ sourcePath: image, scanner: spec, workers })) {
    if (ev.type === 'hit') hits++;
    else if (ev.type === 'progress' && first === null) first = performance.now() - t;
  }
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu); // microseconds
  return { task: 'scan', tags, ms, firstEventMs: first ?? NaN, hits, userMs: used.user / 1000, systemMs: used.system / 1000 };
}

/**
 * The image's runs to `out` (removed afterwards): a plain loop of 8 MiB reads and positioned writes
 * (the baseline), or the acquisition pipeline on the simulated device (device reads, SHA-256 in the
 * stream, sidecar, checkpoints with fsync) in its worker thread.
 */
async function copyRuns(image: string, out: string, acquire: boolean): Promise<CopyResult> {
  rmSync(out, { force: true });
  rmSync(`${out}.json`, { force: true });
  const t = performance.now();
  let bytes = 0;
  try {
    if (acquire) {
      await import('../native/winpmem/live-ref.js');
      const s = await acquireInWorker({ ref: { kind: 'simulated', image }, out, format: 'raw', tool: { name: 'MemScope bench', version: 'bench' } });
      bytes = s.fileSize;
    } else {
      const src = openSource(image);
      const fd = openSync(out, 'wx');
      const buf = pageAlignedBytes(8 * 1024 * 1024); // the plain copy reads as fast as a read can (util/page-aligned.ts)
      try {
        for (const r of src.runs()) {
          for (let a = r.start; a < r.start + r.length;) {
            const n = Math.min(buf.length, r.start + r.length - a);
            const part = buf.subarray(0, n);
            if (src.readInto) src.readInto(a, part); else part.set(src.read(a, n).data);
            for (let off = 0; off < n;) off += writeSync(fd, part, off, n - off, a + off);
            a += n;
            bytes += n;
          }
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
        src.close();
      }
    }
    return { task: 'copy', ms: performance.now() - t, bytes };
  } finally {
    rmSync(out, { force: true });
    rmSync(`${out}.json`, { force: true });
  }
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '{}') as ChildTask;
  let result: unknown;
  switch (task.task) {
    case 'analyze':
      result = await analyze(task.image, task.bundledDir, task.workers, task.live === true);
      break;
    case 'copy':
      result = await copyRuns(task.image, task.out, task.acquire);
      break;
    case 'discover':
      result = await discover(task.image, task.bundledDir, task.exhaustive);
      break;
    case 'scan':
      result = await scanOnly(task.image, task.workers, task.tags);
      break;
    case 'translate':
      result = measureTranslation(task.image, BigInt(task.dtb), task.addresses);
      break;
    case 'psxview':
      result = await psxviewStream(task.image, task.bundledDir, task.workers);
      break;
    default:
      throw new Error(`bench runner: unknown task ${JSON.stringify(task)}`);
  }
  process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + '\n');
}

main().then(
  () => process.exit(0), // do not wait for stray handles: the measurement is done
  (e: unknown) => {
    process.stderr.write(`bench runner: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
