/**
 * The renderer's state, one zustand store: capabilities, the open session, the process run (psxview:
 * rows stream in and are updated by key as its sources complete), and UI state (filter, sort, columns,
 * tree, selection). Data flows transport events → this store → screens; screens read from here and call
 * the actions below, never the engine directly.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  Capabilities, ContractErrorInfo, EvidenceResult, ExportResult, MemScopeApi, ProcessStatus, ProcessTableRow, RunEvent, RunOutcome, SessionInfo,
} from '../../common/contract.js';
import { addSample, type RateSample } from './scan-rate.js';

export interface ScanRun {
  readonly runId: string;
  readonly state: 'running' | RunOutcome;
  readonly stage: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly samples: readonly RateSample[];
  /** performance.now() when the run started, and its length once done (from the engine). */
  readonly startedAt: number;
  readonly ms: number | null;
  readonly error: string | null;
  readonly warnings: readonly string[];
  /** Pages the run's scans could not read (a live device's refused pages, scanned as zeros); from `done`. */
  readonly unreadablePages?: number;
}

export type SortDir = 'asc' | 'desc';
export interface SortSpec { readonly id: string; readonly desc: boolean }

export interface UiState {
  readonly filter: string;
  readonly sorting: readonly SortSpec[];
  /** Column id → shown (false hides it), as @tanstack/react-table keeps it. */
  readonly visibility: Readonly<Record<string, boolean>>;
  readonly tree: boolean;
  readonly selectedKey: string | null;
  /** Only rows of this status (the status summary's count buttons), or null for every row. */
  readonly status: ProcessStatus | null;
  /** The filter also searches verdicts, image paths and command lines (default: identity fields only). */
  readonly searchVerdicts: boolean;
}

/** An open in flight that the user can watch and abandon: its stage (from `open-progress` events). */
export interface OpenStatus {
  readonly openId: string;
  /** performance.now() when the open began (the screen ticks the elapsed time from it). */
  readonly startedAt: number;
  readonly stage: string;
  readonly bytesDone: number | null;
  readonly bytesTotal: number | null;
}

/** The connection to the engine (the bridge's WebSocket): up, or lost since a moment and why. */
export interface LinkState {
  readonly up: boolean;
  /** Date.now() when it last changed. */
  readonly since: number;
  readonly reason: string | null;
  /** Up again after a loss: the server's sessions of the old connection are gone. */
  readonly restored: boolean;
}
export interface LinkStatus { readonly up: boolean; readonly reason: string | null }
/** A transport that can lose its connection and get it back says so (the bridge; Electron's IPC cannot). */
export interface LinkEvents { readonly onLink?: (listener: (s: LinkStatus) => void) => () => void }

/** What the error panel shows: one sentence, and what was kept. */
export interface Problem { readonly message: string; readonly kept: string | null }

export interface AppState {
  readonly capabilities: Capabilities | null;
  readonly session: SessionInfo | null;
  /** The path being opened, while openSession runs. */
  readonly opening: string | null;
  /** The open's stage and start, while it runs (null for an open the host cannot report on). */
  readonly openStatus: OpenStatus | null;
  readonly link: LinkState;
  readonly problem: Problem | null;
  /** A plain notice (live memory unavailable, export saved). */
  readonly notice: string | null;
  readonly run: ScanRun | null;
  readonly rows: ReadonlyMap<string, ProcessTableRow>;
  /** Keys in arrival order: the engine's order, the table's default. */
  readonly order: readonly string[];
  readonly ui: UiState;
}

export interface AppActions {
  init(): Promise<void>;
  openImage(path: string): Promise<void>;
  pickAndOpen(): Promise<void>;
  openLive(): Promise<void>;
  cancelScan(): Promise<void>;
  /** Abandon the open in flight: the screen stops waiting at once, the engine stops when it can. */
  cancelOpen(): void;
  /** Scan the open image again (after a cancel or failure): from the start, keeping the rows shown. */
  rescan(): Promise<void>;
  /** Open the current image again (after the connection came back and its session was gone). */
  reopen(): Promise<void>;
  exportTable(format: 'csv' | 'json', keys: readonly string[] | null): Promise<ExportResult | null>;
  /**
   * Export evidence…: the host writes the bundle (image or live session) into `out` — the folder the
   * native dialog returned, or typed over the bridge — or, without one, a new folder it chooses; the
   * notice names it (issue 21).
   */
  exportEvidence(out?: string | null): Promise<EvidenceResult | null>;
  /** Electron's native folder dialog for Export evidence… (null: cancelled, or no dialog on this host). */
  pickEvidenceFolder(): Promise<string | null>;
  dismissProblem(): void;
  dismissNotice(): void;
  setUi(patch: Partial<UiState>): void;
  /** Apply events as one update (the transport's events are batched per frame). */
  applyEvents(events: readonly RunEvent[]): void;
  /** The live-memory methods (pre-flight, acquisition) for the Live memory panel; null without a transport. */
  liveApi(): LiveApi | null;
}

/** The contract methods the Live memory panel calls directly (issue 20). */
export type LiveApi = Pick<MemScopeApi, 'livePreflight' | 'acquireStart' | 'acquireStatus' | 'acquireCancel'>;

export type AppStore = StoreApi<AppState & AppActions>;

const initialUi: UiState = { filter: '', sorting: [], visibility: { imagePath: false, commandLine: false, physicalOffset: false, dtb: false, sessionId: false, wow64: false }, tree: false, selectedKey: null, status: null, searchVerdicts: false };

/** A new image starts unfiltered, flat and in the default order: the last image's filter, status
 *  filter, sort and tree mode would hide rows of this one without saying so. Columns and the filter's
 *  scope are the user's preferences and stay. */
export const uiForNewImage = (ui: UiState): UiState => ({ ...ui, filter: '', sorting: [], tree: false, selectedKey: null, status: null });

const sentence = (e: ContractErrorInfo): string => e.message;

const newOpenId = (): string => (typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `open-${Date.now()}-${Math.floor(Math.random() * 1e9)}`);

export function createAppStore(api: (MemScopeApi & LinkEvents) | null): AppStore {
  /** Events of a run whose startRun reply has not arrived yet (the stream may overtake the reply). */
  let awaiting = false;
  const early: RunEvent[] = [];
  let queue: RunEvent[] = [];
  let scheduled = false;

  const store = createStore<AppState & AppActions>()((set, get) => {
    const schedule = (soon: boolean): void => {
      if (scheduled) return;
      scheduled = true;
      if (soon) queueMicrotask(flush);
      // One store update per frame however fast rows arrive; a hidden tab still flushes (setTimeout).
      else if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') requestAnimationFrame(flush);
      else setTimeout(flush, 16);
    };
    const flush = (): void => {
      scheduled = false;
      // The rows before a run's end are shown (one frame at least) before the end is: a fast scan
      // still shows its rows arriving, and the final state never replaces rows the user never saw.
      const end = queue.findIndex((e) => e.type === 'done');
      const now = end > 0 ? queue.slice(0, end) : queue;
      queue = end > 0 ? queue.slice(end) : [];
      if (now.length) get().applyEvents(now);
      if (queue.length) schedule(false);
    };
    const enqueue = (e: RunEvent): void => {
      if (e.type === 'open-progress') { openProgress(e); return; }
      if (awaiting) { early.push(e); return; }
      queue.push(e);
      // The first row goes on screen at once; later ones are batched per frame.
      schedule(e.type === 'row' && get().rows.size === 0);
    };

    const startProcessRun = async (sessionId: string): Promise<void> => {
      if (!api) return;
      awaiting = true;
      const r = await api.startRun({ sessionId, request: { plugin: 'psxview' } });
      awaiting = false;
      if (get().session?.sessionId !== sessionId) { early.length = 0; return; } // another image was opened meanwhile
      if (!r.ok) {
        early.length = 0;
        set({ problem: { message: sentence(r.error), kept: 'The session header is kept.' } });
        return;
      }
      set({ run: { runId: r.value.runId, state: 'running', stage: 'starting', bytesDone: 0, bytesTotal: 0, samples: [], startedAt: performance.now(), ms: null, error: null, warnings: [] } });
      const mine = early.splice(0).filter((e) => e.runId === r.value.runId);
      for (const e of mine) enqueue(e);
    };

    const linkChanged = ({ up, reason }: LinkStatus): void => {
      const s = get();
      if (up === s.link.up) return;
      if (up) { set({ link: { up, since: Date.now(), reason: null, restored: true } }); return; }
      // The rows stay; a scan in flight ends here, as far as this page can know.
      const run = s.run?.state === 'running' ? { ...s.run, state: 'failed' as const, error: 'the connection to the server was lost' } : s.run;
      set({ link: { up, since: Date.now(), reason, restored: false }, run });
    };

    const closeCurrent = (): void => {
      const { session, run } = get();
      if (!api) return;
      if (run && run.state === 'running') void api.cancelRun({ runId: run.runId });
      if (session) void api.closeSession({ sessionId: session.sessionId });
    };

    const openProgress = (e: Extract<RunEvent, { type: 'open-progress' }>): void => {
      const st = get().openStatus;
      if (st?.openId !== e.openId) return; // an open this page abandoned, or another page's
      set({ openStatus: { ...st, stage: e.stage, bytesDone: e.bytesDone, bytesTotal: e.bytesTotal } });
    };

    const openWith = async (path: string, opener: (openId: string) => Promise<{ ok: true; value: SessionInfo } | { ok: false; error: ContractErrorInfo }>): Promise<void> => {
      const hadRows = get().rows.size > 0;
      const openId = newOpenId();
      // an error about the last file must not stand beside the open of another
      set({ opening: path, openStatus: { openId, startedAt: performance.now(), stage: 'starting', bytesDone: null, bytesTotal: null }, notice: null, problem: null });
      performance.mark('memscope:open');
      const r = await opener(openId);
      if (get().openStatus?.openId !== openId) {
        // abandoned (Cancel, Esc) or overtaken by another open: a session that opened anyway is closed
        if (r.ok && api) void api.closeSession({ sessionId: r.value.sessionId });
        return;
      }
      if (!r.ok) {
        // The previous session (if any) stays on screen and usable.
        set({ opening: null, openStatus: null, problem: { message: sentence(r.error), kept: hadRows ? 'The previous image and its results are still shown.' : null } });
        return;
      }
      closeCurrent();
      set({ opening: null, openStatus: null, problem: null, session: r.value, run: null, rows: new Map(), order: [], ui: uiForNewImage(get().ui), link: { ...get().link, restored: false } });
      await startProcessRun(r.value.sessionId);
    };

    return {
      capabilities: null,
      session: null,
      opening: null,
      openStatus: null,
      link: { up: true, since: Date.now(), reason: null, restored: false },
      problem: null,
      notice: null,
      run: null,
      rows: new Map(),
      order: [],
      ui: initialUi,

      async init() {
        if (!api) return;
        api.onEvent(enqueue);
        api.onLink?.(linkChanged);
        const caps = await api.capabilities({});
        if (!caps.ok) { set({ problem: { message: sentence(caps.error), kept: null } }); return; }
        set({ capabilities: caps.value });
        if (caps.value.initialImage) await get().openImage(caps.value.initialImage);
      },

      async openImage(path) {
        if (!api) return;
        const p = path.trim();
        if (!p) { set({ problem: { message: 'Type the path of a memory image to open (raw, ELF core or Windows crash dump).', kept: null } }); return; }
        await openWith(p, (openId) => api.openSession({ path: p, openId }));
      },

      async pickAndOpen() {
        if (!api) return;
        const r = await api.pickImage({});
        if (!r.ok) { set({ problem: { message: sentence(r.error), kept: null } }); return; }
        if (r.value.path) await get().openImage(r.value.path);
      },

      liveApi: () => api,

      async openLive() {
        if (!api) return;
        const r = await api.openLive({});
        // Where live memory cannot work (not Windows, not administrator, the bridge) the service says why.
        if (!r.ok && r.error.code === 'unsupported') { set({ notice: r.error.message }); return; }
        await openWith('live memory', async () => r);
      },

      async cancelScan() {
        const run = get().run;
        if (!api || !run || run.state !== 'running') return;
        set({ run: { ...run, stage: 'cancelling' } });
        await api.cancelRun({ runId: run.runId });
      },

      cancelOpen() {
        const { openStatus: st, opening, rows } = get();
        if (!st) return;
        const secs = ((performance.now() - st.startedAt) / 1000).toFixed(1);
        set({
          opening: null, openStatus: null,
          notice: `Opening ${opening ?? 'the image'} cancelled after ${secs} s, while ${st.stage}.${rows.size ? ' The previous image and its results are still shown.' : ''}`,
        });
        if (api) void api.cancelOpen({ openId: st.openId });
      },

      async rescan() {
        const { session, run } = get();
        if (!session || run?.state === 'running') return;
        set({ problem: null });
        await startProcessRun(session.sessionId);
      },

      async reopen() {
        const session = get().session;
        if (!session) return;
        if (session.source.live) await get().openLive();
        else await get().openImage(session.source.path);
      },

      async exportTable(format, keys) {
        const session = get().session;
        if (!api || !session) return null;
        const r = await api.exportTable({ sessionId: session.sessionId, table: 'psxview', format, keys: keys ? [...keys] : null });
        if (!r.ok) { set({ problem: { message: sentence(r.error), kept: 'The table is unchanged.' } }); return null; }
        if (r.value.kind === 'saved') set({ notice: `Exported ${format.toUpperCase()} to ${r.value.path}` });
        return r.value;
      },

      async exportEvidence(out) {
        const session = get().session;
        if (!api || !session) return null;
        const folder = out?.trim();
        set({ notice: `Writing the evidence bundle of ${session.source.fileName}…` });
        const r = await api.exportEvidence({ sessionId: session.sessionId, ...(folder ? { out: folder } : {}) });
        if (!r.ok) { set({ notice: null, problem: { message: sentence(r.error), kept: 'Nothing was passed off as a whole bundle: a folder cut short says so in its manifest.json.' } }); return null; }
        const v = r.value;
        const hash = session.source.live
          ? 'no image SHA-256: live memory changes while it is read; every file is hashed'
          : `image SHA-256 ${v.imageSha256 ? `${v.imageSha256.slice(0, 16)}…` : 'unknown'} in manifest.json`;
        set({ notice: `Evidence bundle written to ${v.dir} (${v.files} files; ${hash}). Check it with memscope verify.` });
        return v;
      },

      async pickEvidenceFolder() {
        if (!api) return null;
        const r = await api.pickFolder({});
        if (!r.ok) { set({ problem: { message: sentence(r.error), kept: null } }); return null; }
        return r.value.path;
      },

      dismissProblem() { set({ problem: null }); },
      dismissNotice() { set({ notice: null }); },
      setUi(patch) { set({ ui: { ...get().ui, ...patch } }); },

      applyEvents(events) {
        const s = get();
        let run = s.run;
        if (!run) return;
        let rows: Map<string, ProcessTableRow> | null = null;
        let order: string[] | null = null;
        for (const e of events) {
          if (e.runId !== run.runId) continue;
          switch (e.type) {
            case 'row': {
              if (e.plugin !== 'psxview') break;
              rows ??= new Map(s.rows);
              if (!rows.has(e.key)) (order ??= [...s.order]).push(e.key);
              rows.set(e.key, e.row);
              break;
            }
            case 'progress': {
              // A new stage that counts its bytes from zero starts its own rate (the last stage's would be negative).
              const sample: RateSample = { t: performance.now(), bytes: e.bytesDone };
              run = { ...run, stage: e.stage, bytesDone: e.bytesDone, bytesTotal: e.bytesTotal, samples: e.bytesDone < run.bytesDone ? [sample] : addSample(run.samples, sample) };
              break;
            }
            case 'warning':
              run = { ...run, warnings: [...run.warnings, e.message] };
              break;
            case 'done':
              run = { ...run, state: e.outcome, ms: e.ms, error: e.error, bytesDone: e.bytesDone, bytesTotal: e.bytesTotal, ...(e.unreadablePages ? { unreadablePages: e.unreadablePages } : {}) };
              break;
          }
        }
        const patch: { -readonly [K in keyof AppState]?: AppState[K] } = { run };
        if (rows) patch.rows = rows;
        if (order) patch.order = order;
        if (run.state === 'failed' && s.run?.state !== 'failed') {
          const n = (rows ?? s.rows).size;
          patch.problem = { message: run.error ?? 'The scan failed.', kept: n ? `The ${n} processes found before the failure are kept.` : null };
        }
        set(patch);
      },
    };
  });
  return store;
}
