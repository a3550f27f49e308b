/**
 * The contract served over the engine: one implementation of every `common/contract.ts` method on top
 * of engine sessions, shared by the transports (the bridge's WebSocket, Electron's engine host in a
 * utility process). A transport only frames messages; validation, sessions, runs and export live here.
 */
import type { Capabilities, Envelope, LivePreflight, RunEvent } from '../../common/contract.js';
import type { PhysicalSource } from '../engine/sources/physical-source.js';
import type { SourceRef } from '../engine/sources/source-ref.js';

export interface ServiceHost {
  /** What the host can do: electron (dialogs, live on Windows) or bridge (image-only). */
  readonly capabilities: () => Capabilities;
  /** Electron's native open dialog; absent in the bridge (pickImage answers `unsupported`). */
  readonly pickImage?: () => Promise<string | null>;
  /** Live memory (WinPmem) as an open source the session takes over; absent in the bridge (openLive answers `unsupported` with the reason). */
  readonly openLive?: () => Promise<PhysicalSource>;
  // ── live memory (issue 20) ──
  /** Live memory as a reference the session and its scan workers open themselves (preferred to openLive). */
  readonly liveRef?: () => Promise<SourceRef>;
  /** The pre-flight lines shown before Start. */
  readonly livePreflight?: () => Promise<LivePreflight>;
  /** Acquisition of a live session (Electron; the bridge only on the simulated device). */
  readonly acquire?: { readonly tool: { readonly name: string; readonly version: string }; readonly driverSha256: () => string | null };
}

export interface ContractService {
  /** Validate `rawArgs` against the method's schema and run it; never throws, always an envelope. */
  handle(method: string, rawArgs: unknown): Promise<Envelope<unknown>>;
  /** Run events of every run, in order. Returns the unsubscribe function. */
  onEvent(listener: (event: RunEvent) => void): () => void;
  /** Cancel every run and close every session (window closed, bridge stopped). */
  dispose(): Promise<void>;
}
