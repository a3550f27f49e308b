/**
 * Messages between Electron's main process and the engine host (a utility process running the
 * contract service). Main only forwards: a renderer request becomes one `request`, its envelope comes
 * back as one `response`; run events flow back as `event`. Structured-clone values only.
 */
import type { Envelope, RunEvent } from '../../common/contract.js';

export type MainToHost =
  | { readonly type: 'request'; readonly id: number; readonly method: string; readonly args: unknown }
  /** Cancel every run, close every session, then say `disposed` and exit. */
  | { readonly type: 'dispose' };

export type HostToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'response'; readonly id: number; readonly response: Envelope<unknown> }
  | { readonly type: 'event'; readonly event: RunEvent }
  | { readonly type: 'disposed' };
