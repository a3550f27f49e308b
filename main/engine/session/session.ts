/**
 * The engine's analysis session: the one place that wires open → discover → profile → scan pool,
 * and runs every plugin (pslist, psscan, psxview, dtb, struct) as a cancellable stream of contract
 * run events. The CLI, the bench and the app (through main/service) all use it.
 *
 * Results are kept per session: a plugin run to completion is replayed on the next request, never
 * rescanned (switching screens in the app, or dtb reusing pslist + psscan); a cancelled or failed
 * run is re-run. An aborted run ends with `cancelled` and the bytes it covered, never as if it had
 * finished. close() cancels the runs in flight, waits for them, then closes the pool and the source.
 */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { PluginName, RowOf, RunEvent, RunOutcome, RunRequest, SessionInfo } from '../../../common/contract.js';
import { MemScopeError, usageError } from '../errors.js';
import { openSource } from '../sources/detect.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { ScanPool } from '../scan/scan-pool.js';
import { discoverKernel } from '../windows/discovery/discover.js';
import { readImageTime } from '../windows/image-time.js';
import { isCrashDumpSource } from '../sources/crashdump.js';
import { readAcquisitionSidecar } from '../sources/acquisition-sidecar.js';
import type { ProfileProviders } from '../windows/discovery/profile-resolve.js';
import type { DiscoveryReport } from '../windows/discovery/types.js';
import type { WindowsKernel } from '../windows/kernel.js';
import type { HeuristicResult } from '../windows/heuristic-profile/index.js';
import type { ProcessRow } from '../windows/eprocess.js';
import { pslist } from '../plugins/pslist/index.js';
import { psscan } from '../plugins/psscan/index.js';
import { psxview, type PsxViewEntry } from '../plugins/psxview/index.js';
import { inspectDtbs, type DtbInspectRow } from '../plugins/dtb-inspect/index.js';
import { dumpStruct, physicalMemory, type StructDump } from '../plugins/struct/index.js';
import { hex } from '../util/hex.js';
import { EventQueue } from './event-queue.js';
import { profileProviders } from './profile-providers.js';
import { processKey, psscanOrder, psxviewOrder, renderDtbRows, renderProcesses, renderPsxview, type ExportFormat } from './tables.js';
import { dtbRowWire, processRowWire, psxEntryWire, structBytes, structDumpWire } from './wire.js';

export interface OpenSessionOptions {
  /** Session id (letters, digits, _ and -); a random one by default. */
  readonly id?: string;
  /** Fetch a missing kernel profile from the symbol server. */
  readonly allowNetwork?: boolean;
  /** Start the scan workers at open, so their start-up overlaps discovery (the app, psscan, psxview). */
  readonly warmScan?: boolean;
  readonly workers?: number;
  /** Validate every DTB candidate of every method (`memscope dtb`). */
  readonly exhaustive?: boolean;
  readonly signal?: AbortSignal;
  /** Profile providers; default the one wiring (profile-providers.ts). */
  readonly store?: ProfileProviders;
  /** Told the derived profile when the heuristic one serves (`info` reports its confidence). */
  readonly onHeuristic?: (r: HeuristicResult) => void;
  /** Derive the profile from memory only, skipping bundled / cache / symbol server (`info --heuristic-profile`). */
  readonly heuristicOnly?: boolean;
  /** What to call an already-open source in the session header (default its name). */
  readonly path?: string;
}

/** The plugins whose results a session keeps (struct is per address, cheap, and not kept). */
export type KeptPlugin = Exclude<PluginName, 'struct'>;

/** What each kept plugin keeps: engine rows, for the export render the CLI shares. */
interface EngineRowOf {
  pslist: ProcessRow;
  psscan: ProcessRow;
  psxview: PsxViewEntry;
  dtb: DtbInspectRow;
}

export interface KeptRun<P extends KeptPlugin> {
  readonly outcome: RunOutcome;
  /** By key, in arrival order (psxview: the final default order once completed). */
  readonly rows: ReadonlyMap<string, EngineRowOf[P]>;
  readonly warnings: readonly string[];
  readonly error: string | null;
  /** What a failed run threw (the CLI rethrows it for its exit code). */
  readonly failure: unknown;
  readonly ms: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

interface Sink<R> {
  row(key: string, row: R): void;
  warning(message: string): void;
  progress(stage: string, bytesDone: number, bytesTotal: number): void;
}

type Runner<R> = (sink: Sink<R>, signal: AbortSignal) => Promise<void>;

/** A plugin run in flight: what it found so far, and the runs (screens) joined to it. */
interface Live<P extends KeptPlugin> {
  readonly rows: Map<string, EngineRowOf[P]>;
  readonly warnings: string[];
  lastProgress: { stage: string; bytesDone: number; bytesTotal: number } | null;
  readonly sinks: Set<Sink<EngineRowOf[P]>>;
  readonly controller: AbortController;
  result: Promise<KeptRun<P>>;
}

const ID_BYTES = 12;
export const newId = (): string => randomBytes(ID_BYTES).toString('hex');

const cancelledError = (what: string): MemScopeError => new MemScopeError('cancelled', `${what} cancelled`);

export class AnalysisSession {
  private readonly kept: { [P in KeptPlugin]?: KeptRun<P> } = {};
  private readonly live: { [P in KeptPlugin]?: Live<P> } = {};
  private readonly inFlight = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  private closed: Promise<void> | null = null;

  constructor(
    readonly id: string,
    readonly info: SessionInfo,
    readonly source: PhysicalSource,
    readonly kernel: WindowsKernel,
    readonly report: DiscoveryReport,
    /** Scan workers over the image (null for an already-open source without a path: scans run in-process). */
    readonly scanPool: ScanPool | null,
  ) {}

  /** A kept result of a plugin (completed, cancelled or failed), if it has run. */
  result<P extends KeptPlugin>(plugin: P): KeptRun<P> | undefined {
    return this.kept[plugin] as KeptRun<P> | undefined;
  }

  /**
   * Run a plugin as a stream of events ending in exactly one `done`. Starts at once; a plugin
   * already run to completion replays its kept rows instead of running again.
   */
  run(request: RunRequest, signal?: AbortSignal, runId: string = newId()): AsyncIterable<RunEvent> {
    const q = new EventQueue<RunEvent>();
    if (this.closed) {
      q.push(doneEvent(runId, 'failed', `session ${this.id} is closed`, 0, 0, 0, 0));
      q.end();
      return q;
    }
    const combined = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
    const task = this.execute(request, combined, runId, q).catch((e: unknown) => {
      q.push(doneEvent(runId, 'failed', messageOf(e), 0, 0, 0, 0)); // execute reports its own failures; this is a last resort
    }).finally(() => {
      q.end();
      this.inFlight.delete(task);
    });
    this.inFlight.add(task);
    return q;
  }

  /** Every event of a run, collected (the CLI's use). */
  async collect(request: RunRequest, signal?: AbortSignal): Promise<RunEvent[]> {
    const out: RunEvent[] = [];
    for await (const ev of this.run(request, signal)) out.push(ev);
    return out;
  }

  /**
   * A kept table as the CLI writes it: `keys` null = every row in the default order (byte for byte
   * `memscope <table> --format csv|json`); otherwise exactly those rows in that order.
   */
  exportTable(table: KeptPlugin, format: ExportFormat, keys: readonly string[] | null): { fileName: string; mime: string; text: string } {
    // a run in flight exports what it has found so far (what is on screen); else the kept result
    const kept = this.live[table] ?? this.kept[table];
    if (!kept) throw usageError(`${table} has not been run in this session; run it before exporting`);
    const pick = <R>(rows: ReadonlyMap<string, R>, order: (all: R[]) => R[]): R[] => {
      if (keys === null) return order([...rows.values()]);
      const out: R[] = [];
      for (const k of keys) {
        const r = rows.get(k);
        if (r === undefined) throw usageError(`${table} has no row with key ${JSON.stringify(k)}`);
        out.push(r);
      }
      return out;
    };
    let text: string;
    switch (table) {
      case 'psxview': text = renderPsxview(format, pick((kept as KeptRun<'psxview'>).rows, psxviewOrder).map((e) => e.row)); break;
      case 'pslist': text = renderProcesses(format, pick((kept as KeptRun<'pslist'>).rows, (r) => r)); break;
      case 'psscan': text = renderProcesses(format, pick((kept as KeptRun<'psscan'>).rows, psscanOrder)); break;
      case 'dtb': text = renderDtbRows(format, pick((kept as KeptRun<'dtb'>).rows, (r) => r)); break;
    }
    const stem = basename(this.info.source.path).replace(/[^A-Za-z0-9._-]+/g, '_') || 'memory';
    return {
      fileName: `${stem}.${table}.${format}`,
      mime: format === 'csv' ? 'text/csv;charset=utf-8' : format === 'jsonl' ? 'application/x-ndjson' : 'application/json',
      text,
    };
  }

  /** Cancel every run in flight, wait for them to end, close the pool and the source. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing.abort();
      await Promise.allSettled([...this.inFlight]);
      await this.scanPool?.close();
      this.source.close();
    })();
    return this.closed;
  }

  // -------------------------------------------------------------------------------------------

  /** One sentence naming the file and the fault: the engine's own message, or the file and plugin for a bug. */
  private failureMessage(plugin: PluginName, e: unknown): string {
    if (e instanceof MemScopeError) return e.message;
    return `${this.info.source.fileName}: ${plugin} stopped on an internal error: ${messageOf(e)}`;
  }

  private async execute(request: RunRequest, signal: AbortSignal, runId: string, q: EventQueue<RunEvent>): Promise<void> {
    switch (request.plugin) {
      case 'pslist': return this.keptRun('pslist', runId, q, signal, processRowWire);
      case 'psscan': return this.keptRun('psscan', runId, q, signal, processRowWire);
      case 'psxview': return this.keptRun('psxview', runId, q, signal, psxEntryWire);
      case 'dtb': return this.keptRun('dtb', runId, q, signal, dtbRowWire);
      case 'struct': {
        const t0 = performance.now();
        try {
          const { key, dump, bytes } = this.struct(request.type, BigInt(request.address), request.space);
          q.push({ type: 'row', runId, plugin: 'struct', key, row: structDumpWire(dump, bytes) });
          q.push(doneEvent(runId, signal.aborted ? 'cancelled' : 'completed', null, 1, performance.now() - t0, 0, 0));
        } catch (e) {
          q.push(doneEvent(runId, 'failed', this.failureMessage('struct', e), 0, performance.now() - t0, 0, 0));
        }
        return;
      }
    }
  }

  /** Replay a completed result, or join (or start) the plugin's run, stream its events and keep what it found. */
  private async keptRun<P extends KeptPlugin>(
    plugin: P, runId: string, q: EventQueue<RunEvent>, signal: AbortSignal, wire: (r: EngineRowOf[P]) => RowOf[P],
  ): Promise<void> {
    const rowEvent = (key: string, r: EngineRowOf[P]) => ({ type: 'row', runId, plugin, key, row: wire(r) }) as RunEvent;
    const done = this.kept[plugin] as KeptRun<P> | undefined;
    if (done?.outcome === 'completed') {
      for (const message of done.warnings) q.push({ type: 'warning', runId, message });
      for (const [key, r] of done.rows) q.push(rowEvent(key, r));
      q.push(doneEvent(runId, 'completed', null, done.rows.size, done.ms, done.bytesDone, done.bytesTotal));
      return;
    }
    const result = await this.join(plugin, signal, {
      row: (key, r) => q.push(rowEvent(key, r)),
      warning: (message) => q.push({ type: 'warning', runId, message }),
      progress: (stage, bytesDone, bytesTotal) => q.push({ type: 'progress', runId, stage, bytesDone, bytesTotal }),
    });
    q.push(doneEvent(runId, result.outcome, result.error, result.rows.size, result.ms, result.bytesDone, result.bytesTotal));
  }

  /**
   * Join the plugin's run in flight, or start one: `sink` first gets what was found so far (latest
   * version of each row), then the rest as it comes. One scan however many screens ask for it;
   * cancelling any of the joined runs stops that one scan, so all of them end `cancelled`.
   */
  private join<P extends KeptPlugin>(plugin: P, signal: AbortSignal, sink: Sink<EngineRowOf[P]>): Promise<KeptRun<P>> {
    const live = (this.live[plugin] as Live<P> | undefined) ?? this.startLive(plugin);
    for (const m of live.warnings) sink.warning(m);
    for (const [k, r] of live.rows) sink.row(k, r);
    if (live.lastProgress) sink.progress(live.lastProgress.stage, live.lastProgress.bytesDone, live.lastProgress.bytesTotal);
    live.sinks.add(sink);
    const onAbort = () => live.controller.abort();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    return live.result.finally(() => {
      live.sinks.delete(sink);
      signal.removeEventListener('abort', onAbort);
    });
  }

  private startLive<P extends KeptPlugin>(plugin: P): Live<P> {
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, this.closing.signal]);
    const live: Live<P> = {
      rows: new Map(), warnings: [], lastProgress: null, sinks: new Set(), controller,
      result: Promise.resolve(null as unknown as KeptRun<P>),
    };
    const fan: Sink<EngineRowOf[P]> = {
      row: (k, r) => { live.rows.set(k, r); for (const s of live.sinks) s.row(k, r); },
      warning: (m) => { live.warnings.push(m); for (const s of live.sinks) s.warning(m); },
      progress: (stage, d, t) => { live.lastProgress = { stage, bytesDone: d, bytesTotal: t }; for (const s of live.sinks) s.progress(stage, d, t); },
    };
    live.result = this.runAndKeep(plugin, signal, this.runnerOf(plugin), fan, live).finally(() => {
      if (this.live[plugin] === live) delete this.live[plugin];
    });
    (this.live as Record<KeptPlugin, Live<KeptPlugin>>)[plugin] = live as unknown as Live<KeptPlugin>;
    return live;
  }

  private runnerOf<P extends KeptPlugin>(plugin: P): Runner<EngineRowOf[P]> {
    const runners: { [Q in KeptPlugin]: () => Runner<EngineRowOf[Q]> } = {
      pslist: () => this.pslistRunner(), psscan: () => this.psscanRunner(), psxview: () => this.psxviewRunner(), dtb: () => this.dtbRunner(),
    };
    return runners[plugin]() as Runner<EngineRowOf[P]>;
  }

  private async runAndKeep<P extends KeptPlugin>(plugin: P, signal: AbortSignal, runner: Runner<EngineRowOf[P]>, out: Sink<EngineRowOf[P]>, live: Live<P>): Promise<KeptRun<P>> {
    const t0 = performance.now();
    let outcome: RunOutcome = 'completed';
    let error: string | null = null;
    let failure: unknown = null;
    try {
      if (signal.aborted) throw cancelledError(plugin);
      await runner(out, signal);
      if (signal.aborted) outcome = 'cancelled'; // a plugin that stops quietly on abort has not finished
    } catch (e) {
      if (signal.aborted || (e instanceof MemScopeError && e.kind === 'cancelled')) outcome = 'cancelled';
      else { outcome = 'failed'; error = this.failureMessage(plugin, e); failure = e; }
    }
    const p = live.lastProgress;
    const kept: KeptRun<P> = {
      outcome, rows: live.rows, warnings: live.warnings, error, failure, ms: performance.now() - t0,
      bytesDone: p?.bytesDone ?? 0, bytesTotal: p?.bytesTotal ?? 0,
    };
    (this.kept as Record<KeptPlugin, KeptRun<KeptPlugin>>)[plugin] = kept as unknown as KeptRun<KeptPlugin>;
    return kept;
  }

  /** Rows of a plugin for another plugin's use (dtb): kept when completed, else joined or run now, and kept. */
  private async rowsOf<P extends 'pslist' | 'psscan'>(plugin: P, signal: AbortSignal, progress: Sink<unknown>['progress']): Promise<KeptRun<P>> {
    const done = this.kept[plugin] as KeptRun<P> | undefined;
    if (done?.outcome === 'completed') return done;
    const r = await this.join(plugin, signal, { row: () => undefined, warning: () => undefined, progress });
    if (r.outcome === 'cancelled') throw cancelledError(plugin);
    if (r.outcome === 'failed') throw r.failure;
    return r;
  }

  private scanOptions(signal: AbortSignal) {
    return this.scanPool ? { pool: this.scanPool, signal } : { signal };
  }

  private pslistRunner(): Runner<ProcessRow> {
    return async (sink, signal) => {
      for await (const ev of pslist(this.kernel, { signal })) {
        if (ev.type === 'row') sink.row(processKey(ev.row), ev.row);
        else sink.warning(ev.message);
      }
    };
  }

  private psscanRunner(): Runner<ProcessRow> {
    return async (sink, signal) => {
      for await (const ev of psscan(this.kernel, this.scanOptions(signal))) {
        if (ev.type === 'row') sink.row(processKey(ev.row), ev.row);
        else if (ev.type === 'warning') sink.warning(ev.message);
        else if (ev.type === 'progress') sink.progress('psscan', ev.bytesDone, ev.bytesTotal);
      }
    };
  }

  /** psxview streams: pslist's rows at once, then each row again as the other sources complete. */
  private psxviewRunner(): Runner<PsxViewEntry> {
    return async (sink, signal) => {
      let total = 0;
      await psxview(this.kernel, {
        ...this.scanOptions(signal),
        onEvent: (ev) => {
          if (ev.type === 'progress') { total = ev.bytesTotal; sink.progress('psscan+thrdscan', ev.bytesDone, ev.bytesTotal); }
          else if (ev.type === 'warning') sink.warning(ev.message);
          else {
            for (const e of ev.entries) sink.row(e.key, e);
            if (ev.done.includes('thrdscan')) sink.progress(`${ev.stage} complete`, total, total);
          }
        },
      });
    };
  }

  /** Every process pslist or psscan found (union by key, PID order), its DirBase inspected. */
  private dtbRunner(): Runner<DtbInspectRow> {
    return async (sink, signal) => {
      const listed = await this.rowsOf('pslist', signal, (_s, d, t) => sink.progress('pslist', d, t));
      const scanned = await this.rowsOf('psscan', signal, (_s, d, t) => sink.progress('psscan', d, t));
      // an unusable list or scan says so here, not by a short table
      for (const m of [...listed.warnings, ...scanned.warnings]) sink.warning(m);
      const byKey = new Map(listed.rows);
      for (const [k, r] of scanned.rows) if (!byKey.has(k)) byKey.set(k, r);
      const procs = [...byKey.entries()].sort((a, b) => (a[1].pid ?? 0) - (b[1].pid ?? 0));
      const { rows } = inspectDtbs(this.kernel, procs.map(([, r]) => r));
      rows.forEach((r, i) => sink.row(procs[i]![0], r));
    };
  }

  /** A profile type laid over memory at a kernel VA or a PA, with its bytes (`??` where unreadable). */
  struct(type: string, address: bigint, space: 'virtual' | 'physical'): { key: string; dump: StructDump; bytes: string } {
    const k = this.kernel;
    if (!k.profile.hasType(type)) throw usageError(`profile ${k.profile.label} has no type ${type}`);
    const size = k.profile.sizeOf(type);
    if (space === 'physical' && address + BigInt(size) > BigInt(this.source.size)) {
      throw usageError(`${type} at PA ${hex(address)} would end past the end of physical memory (${this.source.size} bytes)`);
    }
    const memory = space === 'virtual' ? k.kernel : physicalMemory(this.source);
    const dump = dumpStruct(k.profile, type, memory, address, space, k.kernel);
    return { key: `${space}:${hex(address)}:${type}`, dump, bytes: structBytes(memory, address, size) };
  }

  /**
   * Run a kept plugin to its end (progress to `onProgress`) and return what it kept; a failed run
   * rethrows what it threw, a cancelled one throws `cancelled`. The CLI's use.
   */
  async runToEnd<P extends KeptPlugin>(plugin: P, onProgress?: (bytesDone: number, bytesTotal: number) => void, signal?: AbortSignal): Promise<KeptRun<P>> {
    for await (const ev of this.run({ plugin } as RunRequest, signal)) if (ev.type === 'progress') onProgress?.(ev.bytesDone, ev.bytesTotal);
    const r = this.result(plugin);
    if (!r) throw new MemScopeError('analysis', `${plugin} did not run: session ${this.id} is closed`);
    if (r.outcome === 'failed') throw r.failure;
    if (r.outcome === 'cancelled') throw cancelledError(plugin);
    return r;
  }
}

function doneEvent(runId: string, outcome: RunOutcome, error: string | null, rows: number, ms: number, bytesDone: number, bytesTotal: number): RunEvent {
  return { type: 'done', runId, outcome, error, rows, ms: Math.round(ms * 10) / 10, bytesDone, bytesTotal };
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Capture and boot time from the kernel, cross-checked with the dump header or the acquisition sidecar (image paths). */
function imageTime(path: string | null, source: PhysicalSource, kernel: WindowsKernel): { time: NonNullable<SessionInfo['time']>; warnings: string[] } {
  const side = path === null ? { sidecar: null, problem: null } : readAcquisitionSidecar(path);
  const dumpTime = isCrashDumpSource(source) ? source.crash.systemTime : undefined;
  const t = readImageTime({
    kernel: kernel.kernel, profile: kernel.profile, kernelBase: kernel.kernelBase, live: source.kind === 'winpmem',
    ...(dumpTime !== undefined ? { dumpHeaderTime: dumpTime } : {}),
    ...(side.sidecar ? { sidecar: side.sidecar } : {}),
  });
  const { warnings, ...time } = t;
  return { time, warnings: side.problem ? [side.problem, ...warnings] : [...warnings] };
}

function sessionInfo(id: string, path: string, source: PhysicalSource, kernel: WindowsKernel, report: DiscoveryReport, openMs: number, imagePath: string | null): SessionInfo {
  const acc = report.accepted;
  const { time, warnings: timeWarnings } = imageTime(imagePath, source, kernel);
  return {
    sessionId: id,
    source: { path, fileName: basename(path), format: source.kind, size: source.size, runs: source.runs().length, live: source.kind === 'winpmem' },
    kernel: {
      kernelBase: hex(kernel.kernelBase),
      dtb: hex(kernel.dtb),
      dtbRaw: hex(kernel.dtbRaw),
      dtbMethod: kernel.dtbMethod,
      build: kernel.buildNumber,
      pdb: acc?.pdb ? { name: acc.pdb.name, guid: acc.pdb.guid, age: acc.pdb.age } : null,
      profileLabel: kernel.profile.label,
      profileSource: acc?.profileSource ?? kernel.profileSource,
    },
    timings: { ...report.timings, open: Math.round(openMs * 10) / 10 },
    warnings: [...report.warnings, ...timeWarnings],
    time,
  };
}

/**
 * Open an image read-only (a path) or take over an already-open source, discover the kernel,
 * resolve its profile, and start the session's scan pool (image paths only: workers reopen the file).
 * On failure everything opened is closed and the error (a MemScopeError naming the file) is thrown.
 */
export async function openSession(pathOrSource: string | PhysicalSource, opts: OpenSessionOptions = {}): Promise<AnalysisSession> {
  const t0 = performance.now();
  const id = opts.id ?? newId();
  const path = typeof pathOrSource === 'string' ? pathOrSource : (opts.path ?? pathOrSource.name);
  const source = typeof pathOrSource === 'string' ? openSource(pathOrSource) : pathOrSource;
  let pool: ScanPool | null = null;
  try {
    if (typeof pathOrSource === 'string') {
      pool = new ScanPool({ sourcePath: pathOrSource, ...(opts.workers !== undefined ? { workers: opts.workers } : {}) });
      if (opts.warmScan) pool.warm().catch(() => undefined); // a failed start is reported by the scan itself
    }
    const store = opts.store ?? (typeof pathOrSource === 'string'
      ? profileProviders({ source, path: pathOrSource, ...(opts.onHeuristic ? { onResult: opts.onHeuristic } : {}), ...(opts.heuristicOnly ? { heuristicOnly: true } : {}) })
      : profileProviders());
    const { kernel, report } = await discoverKernel(source, {
      store,
      ...(pool ? { sourcePath: pool.sourcePath, scanPool: pool } : {}),
      ...(opts.allowNetwork ? { allowNetwork: true } : {}),
      ...(opts.exhaustive ? { exhaustive: true } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return new AnalysisSession(id, sessionInfo(id, path, source, kernel, report, performance.now() - t0, typeof pathOrSource === 'string' ? pathOrSource : null), source, kernel, report, pool);
  } catch (e) {
    await pool?.close();
    source.close();
    throw e;
  }
}
