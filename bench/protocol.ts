/** What bench.ts asks a child runner (runner.ts) to measure, and what comes back. */

export type ChildTask =
  | { readonly task: 'analyze'; readonly image: string; readonly bundledDir: string | null; /** psscan workers; null = skip psscan */ readonly workers: number | null; /** through the simulated WinPmem device serving the image */ readonly live?: boolean }
  /** Copy every run of the image to `out`: plainly (read + write), or as `memscope acquire` (simulated device, SHA-256, sidecar). */
  | { readonly task: 'copy'; readonly image: string; readonly out: string; readonly acquire: boolean }
  | { readonly task: 'discover'; readonly image: string; readonly bundledDir: string | null; /** every method validated (false: as the CLI runs it) */ readonly exhaustive: boolean }
  | { readonly task: 'scan'; readonly image: string; readonly workers: number; readonly tags: readonly string[] }
  | { readonly task: 'translate'; readonly image: string; readonly dtb: string; readonly addresses: number }
  | { readonly task: 'psxview'; readonly image: string; readonly bundledDir: string | null; readonly workers: number };

export interface AnalyzeResult {
  readonly task: 'analyze';
  /** openSource returned → discoverKernel resolved. */
  readonly discoveryMs: number;
  readonly dtbMethod: string;
  readonly profileSource: string;
  readonly discoveryTimings: Record<string, number>;
  /** openSource returned → first pslist row (discovery included). */
  readonly firstPslistRowMs: number | null;
  /** discoverKernel resolved → first pslist row. */
  readonly firstPslistRowAfterKernelMs: number | null;
  readonly pslistMs: number;
  readonly pslistRows: number;
  readonly workers: number | null;
  /** psscan() called → its last event (page map, workers, validation included). */
  readonly psscanMs: number | null;
  readonly psscanRows: number;
  readonly psscanRejected: number;
  readonly psscanWarnings: number;
  /** psscan run a second time on the same session pool (workers already started). */
  readonly psscanAgainMs: number | null;
  readonly psscanAgainRows: number;
  readonly rssBeforeScanMiB: number;
  /** process.resourceUsage().maxRSS at the end: the whole process, worker threads included. */
  readonly maxRssMiB: number;
}

/** The app's process screen as the engine serves it: a session's psxview run, streamed. */
export interface PsxviewStreamResult {
  readonly task: 'psxview';
  /** openSession called → first psxview row event (what the app shows first). */
  readonly firstRowMs: number | null;
  /** openSession called → the run's done event. */
  readonly doneMs: number;
  readonly outcome: string;
  /** Distinct rows (keys) and row events (each row is re-sent as sources complete). */
  readonly rows: number;
  readonly rowEvents: number;
}

export interface DiscoverResult {
  readonly task: 'discover';
  readonly totalMs: number;
  readonly dtbMethod: string;
  /** What was found (hex), to check against the image's truth. */
  readonly dtb: string;
  readonly kernelBase: string;
  readonly timings: Record<string, number>;
  /** Milliseconds per method name (summed when a method ran more than once). */
  readonly methods: Record<string, number>;
  readonly methodOk: Record<string, boolean>;
}

export interface TranslateResult {
  readonly task: 'translate';
  /** Distinct mapped 4 KiB pages found in the kernel half and used. */
  readonly pages: number;
  /** Fresh address space (empty TLB and table cache), each page translated once. */
  readonly coldPerSec: number;
  /** A working set that fits the TLB, translated over and over. */
  readonly cachedPerSec: number;
  /** Same working set with the TLB off (table-page cache only). */
  readonly tableCachedPerSec: number;
}

export interface ScanResult {
  readonly task: 'scan';
  readonly tags: readonly string[];
  /** scanPhysical called → last event (worker start-up included). */
  readonly ms: number;
  /** → first progress event: worker start-up plus one chunk. */
  readonly firstEventMs: number;
  readonly hits: number;
  /** CPU time of the process during the scan (every thread: workers included), user and kernel. */
  readonly userMs: number;
  readonly systemMs: number;
}

/** A copy of the image's runs to a file: a plain read + write loop, or the acquisition pipeline. */
export interface CopyResult {
  readonly task: 'copy';
  readonly ms: number;
  readonly bytes: number;
}
