/**
 * The live-memory methods of the contract (issue 20): pre-flight, and acquisition of a live
 * session's memory to a file in a worker thread, polled by the renderer (progress, MB/s, time
 * left), cancellable, its partial file and sidecar kept.
 */
import { ContractError, type AcquireState, type LivePreflight } from '../../common/contract.js';
import { acquireInWorker } from '../engine/acquire/index.js';
import { MemScopeError } from '../engine/errors.js';
import { newId, type AnalysisSession } from '../engine/session/session.js';
import type { ServiceHost } from './types.js';

interface Acquisition {
  state: AcquireState;
  readonly controller: AbortController;
}

export function liveHandlers(host: ServiceHost, sessionOf: (id: string) => AnalysisSession) {
  const acquisitions = new Map<string, Acquisition>();
  return {
    livePreflight: async (): Promise<LivePreflight> => {
      if (!host.livePreflight) throw new ContractError('unsupported', host.capabilities().live.reason);
      return host.livePreflight();
    },
    acquireStart: async ({ sessionId, out, format }: { sessionId: string; out: string; format: 'raw' | 'elf' }): Promise<{ acquireId: string }> => {
      const s = sessionOf(sessionId);
      const ref = s.scanPool?.ref;
      if (!host.acquire || !ref || ref.kind === 'file') throw new ContractError('unsupported', 'Acquire writes live memory to a file: open Live memory first (a saved image is already a file)');
      const acquireId = newId();
      const a: Acquisition = {
        controller: new AbortController(),
        state: { state: 'running', out, bytesDone: 0, bytesTotal: 0, mbPerSecond: 0, secondsLeft: null, unreadablePages: 0, sha256: null, sidecar: null, error: null },
      };
      acquisitions.set(acquireId, a);
      const job = { ref, out, format, tool: host.acquire.tool, driverSha256: host.acquire.driverSha256() };
      try {
        void acquireInWorker(job, {
          signal: a.controller.signal,
          onProgress: (p) => { a.state = { ...a.state, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, mbPerSecond: p.mbPerSecond, secondsLeft: p.secondsLeft, unreadablePages: p.unreadablePages }; },
        }).then(
          (sc) => { a.state = { ...a.state, state: 'complete', bytesDone: sc.fileSize, bytesTotal: sc.fileSize, secondsLeft: 0, unreadablePages: sc.unreadablePages, sha256: sc.sha256, sidecar: `${out}.json` }; },
          (e: unknown) => {
            const partial = e instanceof MemScopeError && e.kind === 'cancelled';
            a.state = { ...a.state, state: partial ? 'partial' : 'failed', secondsLeft: null, sidecar: `${out}.json`, error: e instanceof Error ? e.message : String(e) };
          },
        );
      } catch (e) {
        acquisitions.delete(acquireId);
        throw e;
      }
      return { acquireId };
    },
    acquireStatus: async ({ acquireId }: { acquireId: string }): Promise<AcquireState> => {
      const a = acquisitions.get(acquireId);
      if (!a) throw new ContractError('not-found', `no acquisition ${acquireId}`);
      return a.state;
    },
    acquireCancel: async ({ acquireId }: { acquireId: string }): Promise<Record<string, never>> => {
      const a = acquisitions.get(acquireId);
      if (!a) throw new ContractError('not-found', `no acquisition ${acquireId}`);
      a.controller.abort();
      return {};
    },
    /** Stop every acquisition (service disposed). */
    stopAll: (): void => { for (const a of acquisitions.values()) a.controller.abort(); },
  };
}
