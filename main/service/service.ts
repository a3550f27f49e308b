/**
 * The one implementation of every contract method (common/contract.ts) over engine sessions, shared
 * by the bridge's WebSocket and Electron's engine host. Every argument goes through parseArgs; every
 * answer is an envelope: MemScopeError kinds become `analysis` / `io` / `invalid-request`, an unknown
 * session or run `not-found`, anything else `internal` with a sentence. It never throws.
 *
 * Sessions and runs belong to the connection that opened them (connect(); the default connection
 * serves `handle`): another connection gets `not-found`, run events go to their connection only, and
 * a connection's close closes what it opened. Sessions are capped per connection and in all
 * (limits.ts); finished runs are pruned; exports are de-duplicated, chunked and capped (export.ts).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  ContractError, parseArgs, type ContractErrorInfo, type Envelope, type Method, type ResultOf, type RunEvent,
  type requests,
} from '../../common/contract.js';
import type { z } from 'zod';
import { MemScopeError } from '../engine/errors.js';
import { AnalysisSession, newId, openSession, type OpenSessionOptions } from '../engine/session/session.js';
import type { OpenStageFn } from '../engine/session/open-stages.js';
import type { PhysicalSource } from '../engine/sources/physical-source.js';
import { exportCapped } from './export.js';
import { DEFAULT_LIMITS, type ServiceLimits } from './limits.js';
import type { ContractService, ServiceConnection, ServiceHost } from './types.js';
import { liveHandlers } from './live.js';
import { memoryViewHandlers } from './memory-views.js';
import { evidenceHandlers } from './evidence.js';

export interface ServiceOptions {
  /** Options for every session opened (tests: workers, a profile store). */
  readonly session?: Omit<OpenSessionOptions, 'id' | 'path' | 'signal'>;
  /** Caps on sessions, runs remembered and export size (default DEFAULT_LIMITS). */
  readonly limits?: Partial<ServiceLimits>;
}

/** Methods whose success opens a session (counted against the caps before they run). */
const OPENS_SESSION: ReadonlySet<string> = new Set(['openSession', 'openLive']);

/** One connection's own: its sessions, its pending opens, its event listeners. */
interface Owner {
  readonly sessionIds: Set<string>;
  pending: number;
  closed: boolean;
  readonly listeners: Set<(event: RunEvent) => void>;
}

type Args<M extends Method> = z.infer<(typeof requests)[M]['args']>;
type Handlers = { [M in Method]: (args: Args<M>) => Promise<ResultOf<M>> };

interface Run {
  readonly sessionId: string;
  readonly controller: AbortController;
  finished: boolean;
}

/** The contract's error of a failure: its code and one sentence. */
export function errorInfo(e: unknown): ContractErrorInfo {
  if (e instanceof ContractError) return { code: e.code, message: e.message };
  if (e instanceof MemScopeError) {
    const code = e.kind === 'io' ? 'io' : e.kind === 'usage' ? 'invalid-request' : 'analysis';
    return { code, message: e.message };
  }
  const what = e instanceof Error ? e.message : String(e);
  return { code: 'internal', message: `internal error: ${what || 'unknown failure'}` };
}

export function createContractService(host: ServiceHost, options: ServiceOptions = {}): ContractService {
  const sessions = new Map<string, AnalysisSession>();
  const runs = new Map<string, Run>();
  /** Opens in flight that the client named (openSession's openId), to cancel by that id. */
  const opens = new Map<string, AbortController>();
  const listeners = new Set<(event: RunEvent) => void>();
  let disposed = false;
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const owners = new Set<Owner>();
  /** sessionId → its connection; runId → its connection (in flight, and the finished ones remembered). */
  const sessionOwner = new Map<string, Owner>();
  const runOwner = new Map<string, Owner>();
  /** openId → the connection that named it (its open-progress events go there only). */
  const openOwner = new Map<string, Owner>();
  /** The loop of each run in flight (closing a session waits for its runs' last events). */
  const runLoops = new Map<string, Promise<void>>();
  /** Finished runs remembered, oldest first (cancelRun of one is harmless); bounded by limits.finishedRuns. */
  const finishedRuns = new Set<string>();
  let pendingOpens = 0;

  const emit = (event: RunEvent): void => {
    const own = event.type === 'open-progress' ? openOwner.get(event.openId) : runOwner.get(event.runId);
    for (const l of [...listeners, ...(own?.listeners ?? [])]) {
      try { l(event); } catch { /* a transport's listener failing must not stop the run or the others */ }
    }
  };
  const rememberFinished = (runId: string): void => {
    runs.delete(runId);
    runLoops.delete(runId);
    finishedRuns.add(runId);
    for (const old of finishedRuns) {
      if (finishedRuns.size <= limits.finishedRuns) break;
      finishedRuns.delete(old);
      runOwner.delete(old);
    }
  };
  /** Close one session: cancel its runs, wait for their last events, close it (pool, workers, source). */
  const closeSessionById = async (sessionId: string): Promise<void> => {
    const s = sessions.get(sessionId);
    if (!s) return;
    sessions.delete(sessionId);
    sessionOwner.get(sessionId)?.sessionIds.delete(sessionId);
    sessionOwner.delete(sessionId);
    const loops: Promise<void>[] = [];
    for (const [runId, r] of runs) {
      if (r.sessionId !== sessionId) continue;
      r.controller.abort();
      const loop = runLoops.get(runId);
      if (loop) loops.push(loop);
    }
    await s.close();
    await Promise.allSettled(loops);
  };
  const sessionOf = (sessionId: string): AnalysisSession => {
    const s = sessions.get(sessionId);
    if (!s) throw new ContractError('not-found', `no open session ${sessionId} (it was closed or never opened)`);
    return s;
  };
  const adopt = async (open: () => Promise<AnalysisSession>) => {
    const s = await open();
    if (disposed) { await s.close(); throw new ContractError('unsupported', 'the service is shutting down'); }
    sessions.set(s.id, s);
    return s.info;
  };

  /** An open under a client-chosen id: its stages go out as `open-progress` events, cancelOpen aborts it. */
  const trackedOpen = async (openId: string, open: (more: { signal: AbortSignal; onStage: OpenStageFn }) => Promise<AnalysisSession>) => {
    const controller = new AbortController(); // an openId in flight was refused by checkOwnership
    opens.set(openId, controller);
    const t0 = performance.now();
    const onStage: OpenStageFn = (stage, bytes) => emit({
      type: 'open-progress', openId, stage, ms: Math.round(performance.now() - t0), bytesDone: bytes?.done ?? null, bytesTotal: bytes?.total ?? null,
    });
    const cancelledOpen = (): ContractError => new ContractError('analysis', 'the open was cancelled; nothing was kept');
    try {
      return await adopt(async () => {
        const s = await open({ signal: controller.signal, onStage });
        // cancelled after discovery's last check: the session is not wanted
        if (controller.signal.aborted) { await s.close(); throw cancelledOpen(); }
        return s;
      });
    } catch (e) {
      if (controller.signal.aborted) throw cancelledOpen();
      throw e;
    } finally {
      opens.delete(openId);
    }
  };

  const { stopAll: stopAcquisitions, ...live } = liveHandlers(host, sessionOf);
  const handlers: Handlers = {
    ...live,
    capabilities: async () => host.capabilities(),
    pickImage: async () => {
      if (!host.pickImage) throw new ContractError('unsupported', 'this host has no file dialog: type the path of the image to open');
      return { path: await host.pickImage() };
    },
    openSession: async ({ path, openId }) => {
      if (openId === undefined) return adopt(() => openSession(path, { warmScan: true, ...options.session })); // as typed: errors name the file the user gave
      return trackedOpen(openId, (more) => openSession(path, { warmScan: true, ...options.session, ...more }));
    },
    cancelOpen: async ({ openId }) => {
      const c = opens.get(openId);
      if (!c) throw new ContractError('not-found', `no open ${openId} in flight (it finished or was never started)`);
      c.abort();
      return {};
    },
    openLive: async () => {
      const ref = host.liveRef;
      if (ref) return adopt(async () => openSession(await ref(), { warmScan: true, ...options.session })); // workers open the device themselves
      const open = host.openLive;
      if (!open) throw new ContractError('unsupported', host.capabilities().live.reason);
      return adopt(async () => {
        const source: PhysicalSource = await open();
        return openSession(source, { warmScan: true, ...options.session });
      });
    },
    closeSession: async ({ sessionId }) => {
      sessionOf(sessionId);
      await closeSessionById(sessionId);
      return {};
    },
    startRun: async ({ sessionId, request }) => {
      const s = sessionOf(sessionId);
      const runId = newId();
      const run: Run = { sessionId, controller: new AbortController(), finished: false };
      runs.set(runId, run);
      runLoops.set(runId, (async () => {
        await nextTurn(); // the transport sends this request's answer (the runId) before the run's first event
        try {
          for await (const ev of s.run(request, run.controller.signal, runId)) emit(ev);
        } finally {
          run.finished = true;
          rememberFinished(runId); // the runs map holds runs in flight only
        }
      })());
      return { runId };
    },
    cancelRun: async ({ runId }) => {
      const r = runs.get(runId);
      if (!r && finishedRuns.has(runId)) return {}; // finished: nothing to cancel
      if (!r) throw new ContractError('not-found', `no run ${runId}`);
      r.controller.abort(); // a run already finished keeps its outcome
      return {};
    },
    exportTable: async ({ sessionId, table, format, keys }) => {
      const out = await exportCapped(sessionOf(sessionId), table, format, keys, limits, host.capabilities().host);
      return { kind: 'download', ...out };
    },
    // memory views: readMemory, cancelRequest, layStruct, resolveSymbol, listTypes, mappedRanges, discoveryReport
    ...memoryViewHandlers(sessionOf),
    // evidence bundle (issue 21): into the folder chosen, else under $MEMSCOPE_HOME/evidence/
    ...evidenceHandlers(sessionOf, host),
    pickFolder: async () => {
      if (!host.pickFolder) throw new ContractError('unsupported', 'this host has no folder dialog: type the folder to write the evidence into');
      return { path: await host.pickFolder() };
    },
  };

  const dispatch = async (method: string, rawArgs: unknown, owner: Owner): Promise<Envelope<unknown>> => {
    try {
      if (disposed) return { ok: false, error: { code: 'unsupported', message: 'the service is shutting down' } };
      if (owner.closed) return { ok: false, error: { code: 'unsupported', message: 'this connection is closed' } };
      const parsed = parseArgs(method, rawArgs);
      if (!parsed.ok) return parsed;
      checkOwnership(parsed.value.method, parsed.value.args, owner);
      const h = handlers[parsed.value.method] as (args: unknown) => Promise<unknown>;
      if (!OPENS_SESSION.has(parsed.value.method)) {
        const value = await h(parsed.value.args);
        const runId = (value as { runId?: unknown } | null)?.runId;
        if (typeof runId === 'string') runOwner.set(runId, owner); // before the run's first event (it waits a turn)
        return { ok: true, value };
      }
      checkSessionCaps(owner);
      const { openId } = parsed.value.args as { openId?: string };
      if (openId !== undefined) openOwner.set(openId, owner); // free: checkOwnership refused one in flight
      owner.pending++;
      pendingOpens++;
      let info: { sessionId: string };
      try {
        info = await h(parsed.value.args) as { sessionId: string };
      } finally {
        owner.pending--;
        pendingOpens--;
        if (openId !== undefined) openOwner.delete(openId);
      }
      if (owner.closed) { // the connection went away while the image opened
        await closeSessionById(info.sessionId);
        return { ok: false, error: { code: 'unsupported', message: 'this connection is closed' } };
      }
      owner.sessionIds.add(info.sessionId);
      sessionOwner.set(info.sessionId, owner);
      return { ok: true, value: info };
    } catch (e) {
      return { ok: false, error: errorInfo(e) };
    }
  };

  /**
   * A session, run or open of another connection is, to this one, not there at all; only an open
   * under an openId in flight is refused as what it is (the id is taken: its own, or another's).
   */
  const checkOwnership = (method: Method, args: unknown, owner: Owner): void => {
    const { sessionId, runId, openId } = (args ?? {}) as { sessionId?: unknown; runId?: unknown; openId?: unknown };
    if (typeof openId === 'string' && openOwner.has(openId)) {
      const mine = openOwner.get(openId) === owner;
      if (OPENS_SESSION.has(method)) {
        throw new ContractError('invalid-request', mine ? `an open ${openId} is already in flight` : `open ${openId} belongs to another connection: name this open with another openId`);
      }
      if (!mine) throw new ContractError('not-found', `no open ${openId} in flight (it finished or was never started)`);
    }
    if (typeof sessionId === 'string' && sessions.has(sessionId) && sessionOwner.get(sessionId) !== owner) {
      throw new ContractError('not-found', `no open session ${sessionId} (it was closed or never opened)`);
    }
    if (typeof runId === 'string' && runOwner.has(runId) && runOwner.get(runId) !== owner) throw new ContractError('not-found', `no run ${runId}`);
  };

  const checkSessionCaps = (owner: Owner): void => {
    const bridge = host.capabilities().host === 'bridge';
    if (owner.sessionIds.size + owner.pending >= limits.sessionsPerConnection) {
      throw new ContractError('limit', `at most ${limits.sessionsPerConnection} sessions may be open per connection: close one${bridge ? ' (or reload the page)' : ''} before opening another`);
    }
    if (sessions.size + pendingOpens >= limits.sessions) {
      throw new ContractError('limit', `at most ${limits.sessions} sessions may be open at once ${bridge ? 'on this server' : 'in this app'}: close one before opening another`);
    }
  };

  const connect = (): ServiceConnection => {
    const owner: Owner = { sessionIds: new Set(), pending: 0, closed: false, listeners: new Set() };
    owners.add(owner);
    return {
      handle: (method, rawArgs) => dispatch(method, rawArgs, owner),
      onEvent(listener) {
        if (!owner.closed) owner.listeners.add(listener);
        return () => { owner.listeners.delete(listener); };
      },
      sessionCount: () => owner.sessionIds.size,
      async close() {
        owner.closed = true;
        owner.listeners.clear();
        owners.delete(owner);
        await Promise.allSettled([...owner.sessionIds].map((id) => closeSessionById(id)));
      },
    };
  };
  const main = connect();

  return {
    handle: main.handle,
    onEvent(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    async dispose() {
      disposed = true;
      for (const o of owners) o.closed = true;
      stopAcquisitions();
      for (const r of runs.values()) r.controller.abort();
      for (const c of opens.values()) c.abort();
      const all = [...sessions.keys()];
      await Promise.allSettled(all.map((id) => closeSessionById(id)));
    },
    connect,
    stats: () => ({ sessions: sessions.size, connections: owners.size, runsInFlight: runs.size, runsRemembered: finishedRuns.size }),
  };
}
