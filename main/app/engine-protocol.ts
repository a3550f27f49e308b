/**
 * Messages between Electron's main process and the engine host (a utility process running the
 * contract service). Requests and answers are the contract's own frames (common/contract.ts
 * ClientFrame / ServerFrame, answered by main/service/frames.ts as the bridge's are); besides them
 * only the host's lifecycle travels: `ready`, and `dispose` → `disposed`. Structured-clone values only.
 */
import type { ClientFrame, ServerFrame } from '../../common/contract.js';

export type HostControl =
  /** Cancel every run, close every session, then say `disposed` and exit. */
  | { readonly control: 'dispose' };

export type HostLifecycle = { readonly control: 'ready' } | { readonly control: 'disposed' };

export type MainToHost = ClientFrame | HostControl;
export type HostToMain = ServerFrame | HostLifecycle;
