/**
 * The session's plugin runs and their cache: each kept plugin (pslist, psscan, psxview, dtb) runs at
 * most once to completion per session; later requests replay its kept rows, and requests made while
 * it runs join the one run in flight. A cancelled or failed run is kept as such and re-run on demand.
 */
import type { PluginName, RowOf, RunEvent, RunOutcome } from '../../../common/contract.js';
import { MemScopeError } from '../errors.js';
import type { PhysicalScanFn, ScanFnOptions } from '../scan/scan-fn.js';
import type { ScanEvent, ScanHit, ScannerSpec } from '../scan/types.js';
import type { WindowsKernel } from '../windows/kernel.js';
import type { ProcessRow } from '../windows/eprocess.js';
import { pslist } from '../plugins/pslist/index.js';
import { psscan } from '../plugins/psscan/index.js';
import { psxview, type PsxViewEntry } from '../plugins/psxview/index.js';
import { inspectDtbs, type DtbInspectRow } from '../plugins/dtb-inspect/index.js';
import type { EventQueue } from './event-queue.js';
import { processKey } from './tables.js';

/** The plugins whose results a session keeps (struct is per address, cheap, and not kept). */
export type KeptPlugin = Exclude<PluginName, 'struct'>;

/** What each kept plugin keeps: engine rows, for the export render the CLI shares. */
export interface EngineRowOf {
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
  /** Pages the run's scans could not read (a live device's refused pages, zero-filled), each counted once. */
  readonly unreadablePages: number;
}

interface Sink<R> {
  row(key: string, row: R): void;
  warning(message: string): void;
  progress(stage: string, bytesDone: number, bytesTotal: number): void;
  /** The run's scan met `pages` more pages it could not read. */
  unreadable?(pages: number): void;
}

type Runner<R> = (sink: Sink<R>, signal: AbortSignal) => Promise<void>;

/** A plugin run in flight: what it found so far, and the runs (screens) joined to it. */
interface Live<P extends KeptPlugin> {
  readonly rows: Map<string, EngineRowOf[P]>;
  readonly warnings: string[];
  lastProgress: { stage: string; bytesDone: number; bytesTotal: number } | null;
  unreadablePages: number;
  readonly sinks: Set<Sink<EngineRowOf[P]>>;
  readonly controller: AbortController;
  result: Promise<KeptRun<P>>;
}

export const cancelledError = (what: string): MemScopeError => new MemScopeError('cancelled', `${what} cancelled`);

export function doneEvent(
  runId: string, outcome: RunOutcome, error: string | null, rows: number, ms: number, bytesDone: number, bytesTotal: number, unreadablePages = 0,
): RunEvent {
  return { type: 'done', runId, outcome, error, rows, ms: Math.round(ms * 10) / 10, bytesDone, bytesTotal, ...(unreadablePages > 0 ? { unreadablePages } : {}) };
}

/** The session's scan function, counting into `sink` the pages each chunk could not read. */
function countedScan(scan: PhysicalScanFn, sink: Sink<unknown>): PhysicalScanFn {
  return async function* <H extends ScanHit>(spec: ScannerSpec<H>, opts: ScanFnOptions): AsyncGenerator<ScanEvent<H>> {
    for await (const ev of scan(spec, opts)) {
      if (ev.type === 'error' && ev.unreadablePages) sink.unreadable?.(ev.unreadablePages);
      yield ev;
    }
  };
}

export class PluginRuns {
  private readonly kept: { [P in KeptPlugin]?: KeptRun<P> } = {};
  /**
   * The most pages any one run's scans could not read. A whole-memory scan reads every page of the
   * runs once (chunks own disjoint ranges), so after one completes this is every unreadable page.
   */
  mostUnreadable = 0;
  private readonly live: { [P in KeptPlugin]?: Live<P> } = {};

  constructor(
    private readonly kernel: WindowsKernel,
    /** The session's scan function, handed to every scanning plugin. */
    private readonly scan: PhysicalScanFn,
    /** Aborted when the session closes: every run in flight stops. */
    private readonly closing: AbortSignal,
    /** One sentence naming the file and the fault of a failed run. */
    private readonly failureMessage: (plugin: PluginName, e: unknown) => string,
  ) {}

  /** A kept result of a plugin (completed, cancelled or failed), if it has run. */
  result<P extends KeptPlugin>(plugin: P): KeptRun<P> | undefined {
    return this.kept[plugin] as KeptRun<P> | undefined;
  }

  /** What a table shows now: the run in flight's rows so far, else the kept result. */
  current<P extends KeptPlugin>(plugin: P): KeptRun<P> | Live<P> | undefined {
    return (this.live[plugin] as Live<P> | undefined) ?? (this.kept[plugin] as KeptRun<P> | undefined);
  }

  /** Replay a completed result, or join (or start) the plugin's run, stream its events and keep what it found. */
  async keptRun<P extends KeptPlugin>(
    plugin: P, runId: string, q: EventQueue<RunEvent>, signal: AbortSignal, wire: (r: EngineRowOf[P]) => RowOf[P],
  ): Promise<void> {
    const rowEvent = (key: string, r: EngineRowOf[P]) => ({ type: 'row', runId, plugin, key, row: wire(r) }) as RunEvent;
    const done = this.kept[plugin] as KeptRun<P> | undefined;
    if (done?.outcome === 'completed') {
      for (const message of done.warnings) q.push({ type: 'warning', runId, message });
      for (const [key, r] of done.rows) q.push(rowEvent(key, r));
      q.push(doneEvent(runId, 'completed', null, done.rows.size, done.ms, done.bytesDone, done.bytesTotal, done.unreadablePages));
      return;
    }
    const result = await this.join(plugin, signal, {
      row: (key, r) => q.push(rowEvent(key, r)),
      warning: (message) => q.push({ type: 'warning', runId, message }),
      progress: (stage, bytesDone, bytesTotal) => q.push({ type: 'progress', runId, stage, bytesDone, bytesTotal }),
    });
    q.push(doneEvent(runId, result.outcome, result.error, result.rows.size, result.ms, result.bytesDone, result.bytesTotal, result.unreadablePages));
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
    const signal = AbortSignal.any([controller.signal, this.closing]);
    const live: Live<P> = {
      rows: new Map(), warnings: [], lastProgress: null, unreadablePages: 0, sinks: new Set(), controller,
      result: Promise.resolve(null as unknown as KeptRun<P>),
    };
    const fan: Sink<EngineRowOf[P]> = {
      row: (k, r) => { live.rows.set(k, r); for (const s of live.sinks) s.row(k, r); },
      warning: (m) => { live.warnings.push(m); for (const s of live.sinks) s.warning(m); },
      progress: (stage, d, t) => { live.lastProgress = { stage, bytesDone: d, bytesTotal: t }; for (const s of live.sinks) s.progress(stage, d, t); },
      unreadable: (pages) => {
        live.unreadablePages += pages;
        this.mostUnreadable = Math.max(this.mostUnreadable, live.unreadablePages);
      },
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
      bytesDone: p?.bytesDone ?? 0, bytesTotal: p?.bytesTotal ?? 0, unreadablePages: live.unreadablePages,
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

  /** What a scanning plugin is handed: the session's scan function (counting into the run's sink) and the signal. */
  private scanOptions(signal: AbortSignal, sink: Sink<unknown>) {
    return { scan: countedScan(this.scan, sink), signal };
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
      for await (const ev of psscan(this.kernel, this.scanOptions(signal, sink))) {
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
        ...this.scanOptions(signal, sink),
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
}
