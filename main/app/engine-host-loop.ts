/**
 * The engine host's message loop, run inside the utility process: every request frame from main is
 * answered by the contract service through the same framing as the bridge (main/service/frames.ts:
 * validated, never throws, a malformed frame gets a typed `invalid-request`); every run event is
 * posted as it happens. `dispose` cancels runs and closes sessions before the host says `disposed`,
 * so main can end the process knowing no scan is left running.
 */
import { answerFrame } from '../service/frames.js';
import type { ContractService } from '../service/types.js';
import type { HostToMain } from './engine-protocol.js';

/** Electron's `process.parentPort` as the loop needs it (messages arrive as `{ data }`). */
export interface HostPort {
  on(event: 'message', listener: (message: { data: unknown }) => void): unknown;
  postMessage(message: HostToMain): void;
}

const isDispose = (m: unknown): boolean => typeof m === 'object' && m !== null && (m as { control?: unknown }).control === 'dispose';

export function runEngineHost(port: HostPort, service: ContractService, exit: () => void): void {
  service.onEvent((event) => port.postMessage({ event }));
  let disposing = false;
  port.on('message', ({ data }) => {
    if (isDispose(data)) {
      if (disposing) return;
      disposing = true;
      void service.dispose().finally(() => {
        port.postMessage({ control: 'disposed' });
        exit();
      });
      return;
    }
    void answerFrame(service, data).then((frame) => port.postMessage(frame));
  });
  port.postMessage({ control: 'ready' });
}
