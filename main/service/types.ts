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
  /** Electron's native folder dialog (Export evidence…); absent in the bridge (pickFolder answers `unsupported`). */
  readonly pickFolder?: () => Promise<string | null>;
  /**
   * A caller may name the folder exportEvidence writes into: the bridge (its user types a folder on the
   * host `memscope serve` runs on) and Electron (main lets through only folders its dialog returned).
   * Otherwise `out` is refused and the host chooses the folder.
   */
  readonly namedEvidenceFolder?: boolean;
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
  /**
   * A connection of its own (a WebSocket): the sessions it opens are its own (other connections get
   * `not-found`), it hears only its own runs' events, and close() closes what it opened. `handle`
   * and `onEvent` above are the service's default connection's and every run's (Electron's window).
   */
  connect(): ServiceConnection;
  /** What is open now (the limits' tests, the bridge's shutdown). */
  stats(): ServiceStats;
}

export interface ServiceConnection {
  /** As ContractService.handle, within this connection's sessions and limits. */
  handle(method: string, rawArgs: unknown): Promise<Envelope<unknown>>;
  /** Events of the runs this connection started, in order. Returns the unsubscribe function. */
  onEvent(listener: (event: RunEvent) => void): () => void;
  /** Sessions this connection holds open. */
  sessionCount(): number;
  /** Cancel this connection's runs and close its sessions (their scan workers and sources); later requests are refused. */
  close(): Promise<void>;
}

export interface ServiceStats {
  readonly sessions: number;
  readonly connections: number;
  readonly runsInFlight: number;
  /** Finished runs still remembered (bounded by ServiceLimits.finishedRuns). */
  readonly runsRemembered: number;
}
