/**
 * Main's side of the engine host: forwards a request to the utility process and resolves with the
 * envelope it answers; re-emits run events. Main never runs analysis itself, so its event loop stays
 * free while a scan runs in the host.
 *
 * A host that dies unasked (a crash, an out-of-memory kill) must not leave the window waiting or
 * unusable: every pending request is answered with a typed `internal` error, every run in flight ends
 * with a `failed` done event that says what happened (the rows it streamed stay on screen), and a
 * fresh host is started so the next Open image works. Its sessions died with it; the error says to
 * open the image again. A host that keeps dying is not restarted forever (RESTART_LIMIT).
 */
import type { Envelope, RunEvent } from '../../common/contract.js';
import type { HostToMain, MainToHost } from './engine-protocol.js';

/** The part of Electron's `UtilityProcess` the client uses (a Node `child_process.fork` stand-in fits too). */
export interface EngineProcess {
  postMessage(message: MainToHost): void;
  on(event: 'message', listener: (message: HostToMain) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

/** Starts a host; called once at start and again for each restart (`restart` is 0 for the first). */
export type SpawnEngine = (restart: number) => EngineProcess;

/** How long dispose waits for the host to cancel its scans and close its sessions before killing it. */
const DISPOSE_GRACE_MS = 5000;
/** At most this many restarts within the window; past it the engine stays stopped and says so. */
export const RESTART_LIMIT = { count: 3, windowMs: 60_000 } as const;

interface RunInFlight {
  readonly startedAt: number;
  /** Keys of the rows it streamed (psxview re-sends a row as sources complete). */
  readonly keys: Set<string>;
  bytesDone: number;
  bytesTotal: number;
}

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, { method: string; resolve: (response: Envelope<unknown>) => void }>();
  private readonly listeners = new Set<(event: RunEvent) => void>();
  private readonly runs = new Map<string, RunInFlight>();
  private child: EngineProcess;
  private exited = false;
  private exitCode: number | null = null;
  private readonly exitWaiters: (() => void)[] = [];
  private disposing: Promise<void> | null = null;
  private readonly crashes: number[] = [];
  private restartCount = 0;

  constructor(private readonly spawn: SpawnEngine, private readonly now: () => number = Date.now) {
    this.child = this.attach(spawn(0));
  }

  request(method: string, args: unknown): Promise<Envelope<unknown>> {
    if (this.exited || this.disposing) {
      return Promise.resolve({ ok: false, error: { code: 'internal', message: `${method}: the analysis engine has stopped` } });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, {
        method,
        resolve: (response) => {
          const value = response.ok ? (response.value as { runId?: unknown } | null) : null;
          if (method === 'startRun' && typeof value?.runId === 'string') this.track(value.runId);
          resolve(response);
        },
      });
      this.child.postMessage({ id, method, args });
    });
  }

  onEvent(listener: (event: RunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get running(): boolean {
    return !this.exited;
  }

  /** How many times a crashed host has been replaced. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Cancel every scan and close every session in the host, then end it (killed if it does not exit in time). */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      if (this.exited) return;
      const gone = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
      this.child.postMessage({ control: 'dispose' });
      const timer = setTimeout(() => this.child.kill(), DISPOSE_GRACE_MS);
      await gone;
      clearTimeout(timer);
    })();
    return this.disposing;
  }

  get lastExitCode(): number | null {
    return this.exitCode;
  }

  private attach(child: EngineProcess): EngineProcess {
    child.on('message', (m) => { if (this.child === child) this.receive(m); });
    child.on('exit', (code) => { if (this.child === child) this.onExit(code); });
    return child;
  }

  private track(runId: string): RunInFlight {
    let run = this.runs.get(runId);
    if (!run) {
      run = { startedAt: this.now(), keys: new Set(), bytesDone: 0, bytesTotal: 0 };
      this.runs.set(runId, run);
    }
    return run;
  }

  private emit(event: RunEvent): void {
    for (const l of this.listeners) l(event);
  }

  private receive(m: HostToMain): void {
    if ('event' in m) {
      const e = m.event;
      if (e.type === 'done') this.runs.delete(e.runId);
      else if (e.type !== 'open-progress') { // an open's progress belongs to no run
        const run = this.track(e.runId);
        if (e.type === 'row') run.keys.add(e.key);
        else if (e.type === 'progress') { run.bytesDone = e.bytesDone; run.bytesTotal = e.bytesTotal; }
      }
      this.emit(e);
    } else if ('response' in m && m.id !== null) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m.response);
    }
    // lifecycle (ready / disposed) and unaddressed answers need nothing: exit is what dispose waits for
  }

  private onExit(code: number): void {
    this.exitCode = code;
    const asked = this.disposing !== null;
    const t = this.now();
    if (!asked) this.crashes.push(t);
    while (this.crashes.length && t - this.crashes[0]! > RESTART_LIMIT.windowMs) this.crashes.shift();
    const restart = !asked && this.crashes.length <= RESTART_LIMIT.count;
    const what = asked ? 'the analysis engine stopped' : `the analysis engine stopped unexpectedly (exit code ${code})`;
    const next = asked ? '' : restart ? '; it was restarted: open the image again' : `; it stopped ${this.crashes.length} times in a minute and was not restarted: restart MemScope`;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.resolve({ ok: false, error: { code: 'internal', message: `${p.method}: ${what}${next}` } });
    }
    for (const [runId, run] of this.runs) {
      this.runs.delete(runId);
      this.emit({
        type: 'done', runId, outcome: 'failed',
        error: `${what} during this run, after ${run.keys.size} rows${next}`,
        rows: run.keys.size, ms: t - run.startedAt, bytesDone: run.bytesDone, bytesTotal: run.bytesTotal,
      });
    }
    if (restart) {
      this.restartCount++;
      this.child = this.attach(this.spawn(this.restartCount));
      return;
    }
    this.exited = true;
    for (const w of this.exitWaiters.splice(0)) w();
  }
}
