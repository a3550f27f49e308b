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
import type { PluginName, RunEvent, RunRequest, SessionInfo } from '../../../common/contract.js';
import { MemScopeError } from '../errors.js';
import { describeRef, fileRef, openSourceRef, type SourceRef } from '../sources/source-ref.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { ScanPool } from '../scan/scan-pool.js';
import { inProcessScan, poolScan, type PhysicalScanFn } from '../scan/scan-fn.js';
import { discoverKernel } from '../windows/discovery/discover.js';
import type { ProfileProviders } from '../windows/discovery/profile-resolve.js';
import type { DiscoveryReport } from '../windows/discovery/types.js';
import type { WindowsKernel } from '../windows/kernel.js';
import type { HeuristicResult } from '../windows/heuristic-profile/index.js';
import { EventQueue } from './event-queue.js';
import { exportTable, type ExportedTable } from './export.js';
import { sessionInfo } from './header.js';
import { openStages, type OpenStageFn } from './open-stages.js';
import { profileProviders } from './profile-providers.js';
import { cancelledError, doneEvent, PluginRuns, type KeptPlugin, type KeptRun } from './runs.js';
import { readStruct, type StructRead } from './struct-read.js';
import { SessionSpaces, type MemorySpace, type SpaceRef } from './spaces.js';
import { resolveKernelSymbol, type ResolvedSymbol } from './symbols.js';
import { ProcessSpaces } from '../translate/process-spaces.js';
import type { ExportFormat } from './tables.js';
import { dtbRowWire, processRowWire, psxEntryWire, structDumpWire } from './wire.js';

export type { KeptPlugin, KeptRun } from './runs.js';

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
  /** Told each stage of the open as it begins (and a scanning stage's bytes): open-stages.ts. */
  readonly onStage?: OpenStageFn;
}

const ID_BYTES = 12;
export const newId = (): string => randomBytes(ID_BYTES).toString('hex');

/**
 * One open image: its header, its kept plugin runs (runs.ts), table export (export.ts) and struct
 * reads (struct-read.ts). close() cancels the runs in flight, waits for them, then closes the pool
 * and the source.
 */
export class AnalysisSession {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  private closed: Promise<void> | null = null;
  private readonly runs: PluginRuns;
  private readonly spaces: SessionSpaces;

  constructor(
    readonly id: string,
    /** The header as opened (a live session's count of unreadable pages is added by `info`). */
    private readonly openedInfo: SessionInfo,
    readonly source: PhysicalSource,
    readonly kernel: WindowsKernel,
    readonly report: DiscoveryReport,
    /** Scan workers over the source (null for an already-open source without a reference: scans run in-process). */
    readonly scanPool: ScanPool | null,
    /** The one scan function of this session (on `scanPool`, or in-process), handed to every plugin. */
    readonly scan: PhysicalScanFn,
  ) {
    this.runs = new PluginRuns(kernel, scan, this.closing.signal, (plugin, e) => this.failureMessage(plugin, e));
    this.spaces = new SessionSpaces(kernel, kernel.processSpaces ?? new ProcessSpaces(kernel.source));
  }

  /**
   * The session header. A live session's warnings end with the pages the device could not read so
   * far: those this thread's reads met (the source counts them) or, when more, those the largest
   * scan met (a whole-memory scan reads every page once).
   */
  get info(): SessionInfo {
    const info = this.openedInfo;
    if (!info.source.live) return info;
    const failures = (this.source as PhysicalSource & { readFailures?: () => { pages: number } }).readFailures?.().pages ?? 0;
    const pages = Math.max(failures, this.runs.mostUnreadable);
    return pages > 0 ? { ...info, warnings: [...info.warnings, unreadableWarning(pages)] } : info;
  }

  /** A kept result of a plugin (completed, cancelled or failed), if it has run. */
  result<P extends KeptPlugin>(plugin: P): KeptRun<P> | undefined {
    return this.runs.result(plugin);
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
  exportTable(table: KeptPlugin, format: ExportFormat, keys: readonly string[] | null): ExportedTable {
    return exportTable(this.runs, this.info.source.path, table, format, keys);
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

  /** A profile type laid over memory at a kernel VA or a PA, with its bytes (`??` where unreadable). */
  struct(type: string, address: bigint, space: 'virtual' | 'physical'): StructRead {
    return this.structIn(space === 'virtual' ? { kind: 'kernel' } : { kind: 'physical' }, type, address);
  }

  // -- memory views (spaces.ts, struct-read.ts, symbols.ts) ------------------------------------

  /** Physical memory, the kernel's space, or a process's (its DirBase, checked to be a page table). */
  space(ref: SpaceRef): MemorySpace {
    return this.spaces.space(ref);
  }

  /** A profile type laid over any space at `address`, with its bytes. */
  structIn(ref: SpaceRef, type: string, address: bigint): StructRead {
    return readStruct(this.kernel, this.source, this.space(ref), type, address);
  }

  /** A kernel symbol's VA: `PsActiveProcessHead` or `nt!PsActiveProcessHead`. */
  symbol(name: string): ResolvedSymbol {
    return resolveKernelSymbol(this.kernel, name);
  }

  /** Every type name of the profile, sorted (the "lay type" picker). */
  typeNames(): string[] {
    return Object.keys(this.kernel.profile.data.types).sort();
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

  // -------------------------------------------------------------------------------------------

  /** One sentence naming the file and the fault: the engine's own message, or the file and plugin for a bug. */
  private failureMessage(plugin: PluginName, e: unknown): string {
    if (e instanceof MemScopeError) return e.message;
    return `${this.info.source.fileName}: ${plugin} stopped on an internal error: ${messageOf(e)}`;
  }

  private async execute(request: RunRequest, signal: AbortSignal, runId: string, q: EventQueue<RunEvent>): Promise<void> {
    switch (request.plugin) {
      case 'pslist': return this.runs.keptRun('pslist', runId, q, signal, processRowWire);
      case 'psscan': return this.runs.keptRun('psscan', runId, q, signal, processRowWire);
      case 'psxview': return this.runs.keptRun('psxview', runId, q, signal, psxEntryWire);
      case 'dtb': return this.runs.keptRun('dtb', runId, q, signal, dtbRowWire);
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
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Open an image read-only (a path) or take over an already-open source, discover the kernel,
 * resolve its profile, and start the session's scan pool (image paths only: workers reopen the file).
 * On failure everything opened is closed and the error (a MemScopeError naming the file) is thrown.
 */
export async function openSession(pathOrSource: string | PhysicalSource | SourceRef, opts: OpenSessionOptions = {}): Promise<AnalysisSession> {
  const t0 = performance.now();
  const id = opts.id ?? newId();
  const ref = refOf(pathOrSource);
  const path = ref ? describeRef(ref) : (opts.path ?? (pathOrSource as PhysicalSource).name);
  const stages = opts.onStage ? openStages(opts.onStage) : null;
  stages?.begin('header');
  const source = ref ? openSourceRef(ref) : (pathOrSource as PhysicalSource);
  let pool: ScanPool | null = null;
  try {
    if (ref) {
      // a live device is read by the pool's one reader thread, its workers scan what it read (feed.ts)
      pool = new ScanPool({ ref, ...(opts.workers !== undefined ? { workers: opts.workers } : {}) });
      if (opts.warmScan) pool.warm().catch(() => undefined); // a failed start is reported by the scan itself
    }
    // the one scan function: discovery, the heuristic profile and every plugin are handed this
    const scan = pool ? poolScan(pool) : inProcessScan(source);
    const store = opts.store ?? (ref
      ? profileProviders({ source, scan, ...(opts.onHeuristic ? { onResult: opts.onHeuristic } : {}), ...(opts.heuristicOnly ? { heuristicOnly: true } : {}) })
      : profileProviders());
    const { kernel, report } = await discoverKernel(source, {
      store,
      scan,
      ...(opts.allowNetwork ? { allowNetwork: true } : {}),
      ...(opts.exhaustive ? { exhaustive: true } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(stages ? { onProgress: stages.onDiscovery } : {}),
    });
    // the session owns the per-process translators, over the kernel's page-cached source
    const owned: WindowsKernel = { ...kernel, processSpaces: new ProcessSpaces(kernel.source) };
    const info = sessionInfo(id, path, source, owned, report, performance.now() - t0, ref?.kind === 'file' ? ref.path : null);
    return new AnalysisSession(id, ref && ref.kind !== 'file' ? liveSessionInfo(info, ref, source) : info, source, owned, report, pool, scan);
  } catch (e) {
    await pool?.close();
    source.close();
    throw e;
  }
}

// ── live sources (SourceRef) ───────────────────────────────────────────────────────────────────

const isRef = (x: unknown): x is SourceRef =>
  typeof x === 'object' && x !== null && !('read' in x) && ['file', 'winpmem', 'simulated'].includes((x as { kind?: unknown }).kind as string);

/** The reference a session reopens in its scan workers (null: an open source without one, scanned in-process). */
function refOf(x: string | PhysicalSource | SourceRef): SourceRef | null {
  if (typeof x === 'string') return fileRef(x);
  return isRef(x) ? x : null;
}

/**
 * The header of a live session says what it is: "SIMULATED live memory (image)" or "live memory
 * (\\.\pmem)" as the file name, the DTB method as the driver's GET_INFO CR3 when discovery verified
 * that hint, and the live notes as warnings.
 */
function liveSessionInfo(info: SessionInfo, ref: Exclude<SourceRef, { kind: 'file' }>, source: PhysicalSource): SessionInfo {
  const simulated = ref.kind === 'simulated';
  const fileName = simulated ? `SIMULATED live memory (${basename(ref.image)})` : `live memory (${ref.device})`;
  const dtbMethod = info.kernel.dtbMethod === 'source-cr3' ? 'GET_INFO CR3, verified' : info.kernel.dtbMethod;
  return { ...info, source: { ...info.source, fileName }, kernel: { ...info.kernel, dtbMethod }, warnings: [...info.warnings, ...liveNotes(source, simulated)] };
}

/** Header warnings for a live source: simulated or not, the acquisition mode notes (unreadable pages: AnalysisSession.info). */
function liveNotes(source: PhysicalSource, simulated: boolean): string[] {
  const live = source as PhysicalSource & { notes?: readonly string[] };
  const out: string[] = [];
  if (simulated) out.push(`simulated live memory: the WinPmem driver protocol served from ${source.name.replace(/^simulated WinPmem device \((.*)\)$/, '$1')}`);
  out.push(...(live.notes ?? []));
  return out;
}

export const unreadableWarning = (pages: number): string => `${pages} pages could not be read from the device (zero-filled; see the run warnings)`;
