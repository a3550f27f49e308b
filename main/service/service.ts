/**
 * The one implementation of every contract method (common/contract.ts) over engine sessions, shared
 * by the bridge's WebSocket and Electron's engine host. Every argument goes through parseArgs; every
 * answer is an envelope: MemScopeError kinds become `analysis` / `io` / `invalid-request`, an unknown
 * session or run `not-found`, anything else `internal` with a sentence. It never throws.
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
import type { ContractService, ServiceHost } from './types.js';
import { memoryViewHandlers } from './memory-views.js';
import { evidenceHandlers } from './evidence.js';

export interface ServiceOptions {
  /** Options for every session opened (tests: workers, a profile store). */
  readonly session?: Omit<OpenSessionOptions, 'id' | 'path' | 'signal'>;
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

  const emit = (event: RunEvent): void => {
    for (const l of [...listeners]) {
      try { l(event); } catch { /* a transport's listener failing must not stop the run or the others */ }
    }
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
    if (opens.has(openId)) throw new ContractError('invalid-request', `an open ${openId} is already in flight`);
    const controller = new AbortController();
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

  const handlers: Handlers = {
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
      const open = host.openLive;
      if (!open) throw new ContractError('unsupported', host.capabilities().live.reason);
      return adopt(async () => {
        const source: PhysicalSource = await open();
        return openSession(source, { warmScan: true, ...options.session });
      });
    },
    closeSession: async ({ sessionId }) => {
      const s = sessionOf(sessionId);
      sessions.delete(sessionId);
      for (const r of runs.values()) if (r.sessionId === sessionId) r.controller.abort();
      await s.close();
      return {};
    },
    startRun: async ({ sessionId, request }) => {
      const s = sessionOf(sessionId);
      const runId = newId();
      const run: Run = { sessionId, controller: new AbortController(), finished: false };
      runs.set(runId, run);
      void (async () => {
        await nextTurn(); // the transport sends this request's answer (the runId) before the run's first event
        try {
          for await (const ev of s.run(request, run.controller.signal, runId)) emit(ev);
        } finally {
          run.finished = true;
        }
      })();
      return { runId };
    },
    cancelRun: async ({ runId }) => {
      const r = runs.get(runId);
      if (!r) throw new ContractError('not-found', `no run ${runId}`);
      r.controller.abort(); // a run already finished keeps its outcome
      return {};
    },
    exportTable: async ({ sessionId, table, format, keys }) => {
      const out = sessionOf(sessionId).exportTable(table, format, keys);
      return { kind: 'download', ...out };
    },
    // memory views: readMemory, cancelRequest, layStruct, resolveSymbol, listTypes, mappedRanges, discoveryReport
    ...memoryViewHandlers(sessionOf),
    // evidence bundle (issue 21): written by the host under $MEMSCOPE_HOME/evidence/
    ...evidenceHandlers(sessionOf),
  };

  return {
    async handle(method: string, rawArgs: unknown): Promise<Envelope<unknown>> {
      try {
        if (disposed) return { ok: false, error: { code: 'unsupported', message: 'the service is shutting down' } };
        const parsed = parseArgs(method, rawArgs);
        if (!parsed.ok) return parsed;
        const h = handlers[parsed.value.method] as (args: unknown) => Promise<unknown>;
        return { ok: true, value: await h(parsed.value.args) };
      } catch (e) {
        return { ok: false, error: errorInfo(e) };
      }
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    async dispose() {
      disposed = true;
      for (const r of runs.values()) r.controller.abort();
      for (const c of opens.values()) c.abort();
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.allSettled(all.map((s) => s.close()));
    },
  };
}
