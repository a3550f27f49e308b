/**
 * The engine host's message loop, run inside the utility process: every `request` from main goes to
 * the contract service (which validates it and never throws) and its envelope goes back under the
 * same id; every run event is posted as it happens. `dispose` cancels runs and closes sessions before
 * the host says `disposed`, so main can end the process knowing no scan is left running.
 */
import type { Envelope } from '../../common/contract.js';
import type { ContractService } from '../service/types.js';
import type { HostToMain, MainToHost } from './engine-protocol.js';

/** Electron's `process.parentPort` as the loop needs it (messages arrive as `{ data }`). */
export interface HostPort {
  on(event: 'message', listener: (message: { data: unknown }) => void): unknown;
  postMessage(message: HostToMain): void;
}

function isMainToHost(m: unknown): m is MainToHost {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  if (t === 'dispose') return true;
  return t === 'request' && typeof (m as { id?: unknown }).id === 'number' && typeof (m as { method?: unknown }).method === 'string';
}

export function runEngineHost(port: HostPort, service: ContractService, exit: () => void): void {
  service.onEvent((event) => port.postMessage({ type: 'event', event }));
  let disposing = false;
  port.on('message', ({ data }) => {
    if (!isMainToHost(data)) return; // only main talks to this port; anything else is not a request
    if (data.type === 'dispose') {
      if (disposing) return;
      disposing = true;
      void service.dispose().finally(() => {
        port.postMessage({ type: 'disposed' });
        exit();
      });
      return;
    }
    const { id, method, args } = data;
    void service.handle(method, args).then(
      (response) => port.postMessage({ type: 'response', id, response }),
      (e: unknown) => {
        // handle() promises never to throw; if it does, the renderer still gets a typed answer.
        const response: Envelope<never> = { ok: false, error: { code: 'internal', message: `${method}: ${e instanceof Error ? e.message : String(e)}` } };
        port.postMessage({ type: 'response', id, response });
      },
    );
  });
  port.postMessage({ type: 'ready' });
}
