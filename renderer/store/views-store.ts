/**
 * State of the memory views beside the process screen: which screen is shown, the DTB inspector's run
 * and discovery candidates (kept per session: switching screens never rescans), and the hex view's
 * place with its Back / Forward history. The process rows and the selection stay in the app store
 * (app-store.ts); this store reads them, so the selected process carries across screens.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DiscoveryCandidates, DtbRow, MemScopeApi, ProcessTableRow, RunEvent, RunOutcome, SpaceRef } from '../../common/contract.js';
import type { AppStore } from './app-store.js';

export type Screen = 'processes' | 'dtb' | 'hex' | 'timeline';

/** Where the hex view is: a space, an address, and optionally a type laid over it. */
export interface HexPlace {
  readonly space: SpaceRef;
  readonly address: string;
  readonly type: string | null;
  /** What the view's header calls it ("_EPROCESS of LockApp.exe (PID 4812)"). */
  readonly title: string | null;
}

export interface DtbRunState {
  readonly sessionId: string;
  readonly runId: string | null;
  readonly state: 'starting' | 'running' | RunOutcome;
  readonly rows: ReadonlyMap<string, DtbRow>;
  readonly order: readonly string[];
  readonly error: string | null;
  readonly warnings: readonly string[];
}

export interface ViewsState {
  readonly screen: Screen;
  readonly dtb: DtbRunState | null;
  readonly discovery: { readonly sessionId: string; readonly report: DiscoveryCandidates | null; readonly error: string | null } | null;
  readonly hex: { readonly sessionId: string | null; readonly place: HexPlace | null; readonly back: readonly HexPlace[]; readonly forward: readonly HexPlace[] };
}

export interface ViewsActions {
  setScreen(screen: Screen): void;
  /** Start the dtb run and fetch discovery's candidates once per session (later calls keep them). */
  ensureDtb(): Promise<void>;
  /** Show `place` in the hex view, pushing the current place on Back (unless `replace`). */
  go(place: HexPlace, replace?: boolean): void;
  goBack(): void;
  goForward(): void;
  /** The hex view of a process's _EPROCESS, in its own address space when its DirBase is known. */
  openProcess(row: ProcessTableRow): void;
}

export type ViewsStore = StoreApi<ViewsState & ViewsActions>;

const HISTORY = 100;

/** The space a process's structures are best read in: its own (PEB and other user pointers follow), else the kernel's. */
export const processSpace = (row: ProcessTableRow): SpaceRef => (row.process?.dtb ? { kind: 'process', dtb: row.process.dtb } : { kind: 'kernel' });

export const processTitle = (row: ProcessTableRow): string => `_EPROCESS of ${row.psxview.name ?? 'an unnamed process'}${row.psxview.pid === null ? '' : ` (PID ${row.psxview.pid})`}`;

/** Where the hex view shows a process: its _EPROCESS in its own space (null: only its physical bytes are known, see openProcess). */
export function processPlace(row: ProcessTableRow): HexPlace | null {
  if (row.psxview.offset === null) return null;
  return { space: processSpace(row), address: row.psxview.offset, type: '_EPROCESS', title: processTitle(row) };
}

export function createViewsStore(api: MemScopeApi | null, app: AppStore): ViewsStore {
  const store = createStore<ViewsState & ViewsActions>()((set, get) => {
    const sessionId = (): string | null => app.getState().session?.sessionId ?? null;

    /** Events that may belong to the dtb run whose startRun answer has not arrived (IPC may reorder). */
    let early: RunEvent[] = [];
    const onEvent = (e: RunEvent): void => {
      const d = get().dtb;
      if (!d || e.type === 'open-progress') return;
      if (d.runId === null) { if (d.state === 'starting') early.push(e); return; }
      if (e.runId !== d.runId) return;
      if (e.type === 'row' && e.plugin === 'dtb') {
        const rows = new Map(d.rows);
        const order = rows.has(e.key) ? d.order : [...d.order, e.key];
        rows.set(e.key, e.row);
        set({ dtb: { ...d, rows, order } });
      } else if (e.type === 'warning') set({ dtb: { ...d, warnings: [...d.warnings, e.message] } });
      else if (e.type === 'done') set({ dtb: { ...d, state: e.outcome, error: e.error } });
    };
    api?.onEvent(onEvent);

    // a new image: the views of the old one go (their addresses mean nothing in the new one)
    app.subscribe((s, prev) => {
      if (s.session?.sessionId === prev.session?.sessionId) return;
      set({ dtb: null, discovery: null, hex: { sessionId: s.session?.sessionId ?? null, place: null, back: [], forward: [] }, screen: 'processes' });
    });

    return {
      screen: 'processes',
      dtb: null,
      discovery: null,
      hex: { sessionId: null, place: null, back: [], forward: [] },

      setScreen(screen) {
        set({ screen });
        if (screen === 'dtb') void get().ensureDtb();
      },

      async ensureDtb() {
        const id = sessionId();
        if (!api || !id) return;
        if (get().discovery?.sessionId !== id) {
          set({ discovery: { sessionId: id, report: null, error: null } });
          void api.discoveryReport({ sessionId: id }).then((r) => {
            if (get().discovery?.sessionId !== id) return;
            set({ discovery: { sessionId: id, report: r.ok ? r.value : null, error: r.ok ? null : r.error.message } });
          });
        }
        const d = get().dtb;
        if (d?.sessionId === id && d.state !== 'cancelled' && d.state !== 'failed') return;
        set({ dtb: { sessionId: id, runId: null, state: 'starting', rows: new Map(), order: [], error: null, warnings: [] } });
        const r = await api.startRun({ sessionId: id, request: { plugin: 'dtb' } });
        const cur = get().dtb;
        if (cur?.sessionId !== id) return;
        if (!r.ok) { set({ dtb: { ...cur, state: 'failed', error: r.error.message } }); return; }
        set({ dtb: { ...cur, runId: r.value.runId, state: 'running' } });
        const mine = early.filter((e) => e.type !== 'open-progress' && e.runId === r.value.runId);
        early = [];
        for (const e of mine) onEvent(e);
      },

      go(place, replace = false) {
        const h = get().hex;
        const back = h.place && !replace ? [...h.back, h.place].slice(-HISTORY) : h.back;
        set({ hex: { sessionId: sessionId(), place, back, forward: replace ? h.forward : [] }, screen: 'hex' });
      },

      goBack() {
        const h = get().hex;
        const prev = h.back[h.back.length - 1];
        if (!prev) return;
        set({ hex: { ...h, place: prev, back: h.back.slice(0, -1), forward: h.place ? [h.place, ...h.forward] : h.forward } });
      },

      goForward() {
        const h = get().hex;
        const next = h.forward[0];
        if (!next) return;
        set({ hex: { ...h, place: next, forward: h.forward.slice(1), back: h.place ? [...h.back, h.place] : h.back } });
      },

      openProcess(row) {
        if (row.psxview.offset === null) {
          // a remnant in an unmapped page: only its physical bytes are known
          const pa = row.process?.physicalOffset;
          if (pa) get().go({ space: { kind: 'physical' }, address: pa, type: '_EPROCESS', title: `${processTitle(row)} (physical: no virtual address)` });
          return;
        }
        get().go(processPlace(row)!);
      },
    };
  });
  return store;
}
