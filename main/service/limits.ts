/**
 * What one process serving the contract allows, so a client (a page, a local process holding the
 * token) cannot exhaust memory, threads or file descriptors: each open session holds its source, a
 * scan pool (threads, one fd each) and its kept rows (~30 MB on a small image).
 */
export interface ServiceLimits {
  /** Sessions one connection (a WebSocket, an Electron window) may hold open at once. */
  readonly sessionsPerConnection: number;
  /** Sessions open at once on the whole service, every connection together. */
  readonly sessions: number;
  /** Finished runs remembered (cancelRun of one answers {}); older ones are forgotten (not-found). */
  readonly finishedRuns: number;
  /** The longest export answer, in characters; longer ones are refused with how to export instead. */
  readonly exportChars: number;
  /** Rows an export renders between two turns of the event loop. */
  readonly exportChunkRows: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  sessionsPerConnection: 6,
  sessions: 12,
  finishedRuns: 256,
  exportChars: 32 * 2 ** 20,
  exportChunkRows: 2000,
};
