/**
 * Main's side of the engine host: forwards a request to the utility process and resolves with the
 * envelope it answers; re-emits run events. Main never runs analysis itself, so its event loop stays
 * free while a scan runs in the host. A host that dies answers every pending request with a typed
 * `internal` error instead of leaving the renderer waiting.
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

/** How long dispose waits for the host to cancel its scans and close its sessions before killing it. */
const DISPOSE_GRACE_MS = 5000;

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, (response: Envelope<unknown>) => void>();
  private readonly listeners = new Set<(event: RunEvent) => void>();
  private exited = false;
  private exitCode: number | null = null;
  private readonly exitWaiters: (() => void)[] = [];
  private disposing: Promise<void> | null = null;

  constructor(private readonly child: EngineProcess) {
    child.on('message', (m) => this.receive(m));
    child.on('exit', (code) => this.onExit(code));
  }

  request(method: string, args: unknown): Promise<Envelope<unknown>> {
    if (this.exited || this.disposing) {
      return Promise.resolve({ ok: false, error: { code: 'internal', message: `${method}: the analysis engine has stopped` } });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
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

  private receive(m: HostToMain): void {
    if ('event' in m) {
      for (const l of this.listeners) l(m.event);
    } else if ('response' in m && m.id !== null) {
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      resolve?.(m.response);
    }
    // lifecycle (ready / disposed) and unaddressed answers need nothing: exit is what dispose waits for
  }

  private onExit(code: number): void {
    this.exited = true;
    this.exitCode = code;
    for (const [id, resolve] of this.pending) {
      this.pending.delete(id);
      resolve({ ok: false, error: { code: 'internal', message: `the analysis engine stopped (exit code ${code})` } });
    }
    for (const w of this.exitWaiters.splice(0)) w();
  }

  get lastExitCode(): number | null {
    return this.exitCode;
  }
}
