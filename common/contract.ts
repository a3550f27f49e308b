/**
 * The MemScope IPC contract, typed once: every request the renderer may make (method name, argument
 * schema, result schema) and every event the engine pushes. Electron main (ipcMain handlers), the
 * preload (contextBridge), the browser bridge (WebSocket) and the renderer all derive from this file.
 * Arguments are validated against these schemas wherever they enter a trusted process (main, bridge);
 * results and events travel the other way and are typed, not re-validated.
 *
 * Only the schema library is imported here: no Node, Electron or DOM.
 */
import { z } from 'zod';
import { PROCESS_STATUSES, PSXVIEW_SOURCES } from './process-vocabulary.js';

export { PSXVIEW_SOURCES, type PsxSource } from './process-vocabulary.js';

/** Lower-case `0x…` hex, as every address crosses the wire (bigint does not survive structured clone / JSON). */
export const Hex = z.string().regex(/^0x[0-9a-f]+$/, 'a lower-case 0x… hex string');
const Id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'an id of letters, digits, _ and -');

// ---------------------------------------------------------------------------------------------
// Values

/** One decoded _EPROCESS (engine: windows/eprocess.ts ProcessRow). */
export const ProcessRow = z.object({
  pid: z.number().nullable(),
  ppid: z.number().nullable(),
  name: z.string().nullable(),
  imagePath: z.string().nullable(),
  commandLine: z.string().nullable(),
  /** EPROCESS kernel VA; null for a remnant in a physical page no kernel table maps. */
  offset: Hex.nullable(),
  physicalOffset: Hex.nullable(),
  /** Raw DirectoryTableBase, PCID / KVA-shadow low bits kept (e.g. 0x4e312002 is valid). */
  dtb: Hex.nullable(),
  userDtb: Hex.nullable(),
  createTime: z.string().nullable(),
  exitTime: z.string().nullable(),
  threads: z.number().nullable(),
  sessionId: z.number().nullable(),
  wow64: z.boolean().nullable(),
  missing: z.array(z.string()),
  warnings: z.array(z.string()),
  /** The parent's ImageFileName (the process with PID `ppid` created before this one). */
  parentName: z.string().nullable(),
  /** SeAuditProcessCreationInfo.ImageFileName: the kernel's NT path of the image (survives a paged-out PEB and exit). */
  kernelImagePath: z.string().nullable(),
  /** PEB → ProcessParameters → CurrentDirectory.DosPath. */
  currentDirectory: z.string().nullable(),
  /** Why each absent value is absent, by field, in plain words ("no PEB", "paged out", "exited", "outside the image"). */
  whyAbsent: z.record(z.string(), z.string()),
});
export type ProcessRow = z.infer<typeof ProcessRow>;

/** The one-word reading of a psxview row, first in its verdict; colour only reinforces it. */
export const ProcessStatus = z.enum(PROCESS_STATUSES);
export type ProcessStatus = z.infer<typeof ProcessStatus>;

/** Whether a source saw the process; null when the source was not checked (scan cancelled or still running). */
const Seen = z.boolean().nullable();

/** One psxview row (engine: plugins/psxview PsxViewRow), with the decoded process beside it. */
export const PsxViewRow = z.object({
  offset: Hex.nullable(),
  pid: z.number().nullable(),
  name: z.string().nullable(),
  pslist: Seen,
  psscan: Seen,
  thrdscan: Seen,
  cidtable: Seen,
  csrss: Seen,
  session: Seen,
  exitTime: z.string().nullable(),
  /** The status word followed by why ("hidden: unlinked from the active list but has live threads (DKOM)"). */
  verdict: z.string(),
  /** The verdict's first word, alone (the CSV's last column). */
  status: ProcessStatus,
});
export type PsxViewRow = z.infer<typeof PsxViewRow>;

/** A row of the process screen: the psxview row, its status word, what each source saw, the process. */
export const ProcessTableRow = z.object({
  /** Stable key: the EPROCESS VA, or `pa:0x…` for an unmapped remnant. */
  key: z.string(),
  psxview: PsxViewRow,
  status: ProcessStatus,
  /** Per source, what it saw (list link address, pool hit PA, CID entry …) or why it did not. */
  evidence: z.partialRecord(z.enum(PSXVIEW_SOURCES), z.string()),
  process: ProcessRow.nullable(),
});
export type ProcessTableRow = z.infer<typeof ProcessTableRow>;

/** Per-process DirBase explanation (engine: plugins/dtb-inspect DtbInspectRow). */
export const DtbRow = z.object({
  pid: z.number().nullable(),
  name: z.string().nullable(),
  offset: Hex.nullable(),
  dtb: Hex.nullable(),
  lowBits: Hex.nullable(),
  lowBitsMeaning: z.string(),
  userDtb: Hex.nullable(),
  pml4: Hex.nullable(),
  kernelHalfMatches: z.number().nullable(),
  kernelHalfTotal: z.number().nullable(),
  kernelHalfMatchesSystem: z.boolean().nullable(),
  selfRefIndex: z.number().nullable(),
  selfReferences: z.boolean().nullable(),
  rekallWouldDrop: z.boolean(),
  verdict: z.string(),
});
export type DtbRow = z.infer<typeof DtbRow>;

/** A field's decoded value (engine: plugins/struct DecodedValue), one shape per kind. */
export const DecodedValue = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('int'), value: z.string() }),
  /** `target`: the pointed-to type's name (`void` for an untyped pointer). */
  z.object({ kind: z.literal('pointer'), value: Hex, link: z.literal(true), target: z.string() }),
  z.object({ kind: z.literal('list-entry'), flink: Hex, blink: Hex }),
  z.object({ kind: z.literal('unicode-string'), length: z.number(), maximumLength: z.number(), buffer: Hex, text: z.string().nullable() }),
  /** A FILETIME; `iso` is UTC (null when not a time). */
  z.object({ kind: z.literal('filetime'), raw: Hex, iso: z.string().nullable() }),
  z.object({ kind: z.literal('enum'), value: z.string(), name: z.string().nullable() }),
  z.object({ kind: z.literal('bitfield'), value: Hex, bitPosition: z.number(), bitLength: z.number() }),
  z.object({ kind: z.literal('ex-fast-ref'), object: Hex, refCount: z.number() }),
  z.object({ kind: z.literal('string'), text: z.string() }),
  /** A nested structure: lay `type` at the field's address to expand it. */
  z.object({ kind: z.literal('struct'), type: z.string() }),
  z.object({ kind: z.literal('array'), count: z.number(), elementType: z.string() }),
  z.object({ kind: z.literal('unreadable') }),
]);
export type DecodedValue = z.infer<typeof DecodedValue>;

/** A profile type laid over memory (engine: plugins/struct StructDump). */
export const StructField = z.object({
  name: z.string(),
  offset: z.number(),
  offsetHex: Hex,
  size: z.number(),
  type: z.string(),
  raw: z.string(),
  value: DecodedValue,
});
export type StructField = z.infer<typeof StructField>;
export const StructDump = z.object({
  type: z.string(),
  size: z.number(),
  address: Hex,
  space: z.enum(['virtual', 'physical']),
  fields: z.array(StructField),
  missing: z.array(z.string()),
  /** The bytes of the structure, hex, `??` pairs where unreadable (for the hex view). */
  bytes: z.string(),
});
export type StructDump = z.infer<typeof StructDump>;

/** When the memory was captured and the machine booted (engine: windows/image-time.ts), ISO 8601 UTC. */
export const ImageTime = z.object({
  captureTime: z.string().nullable(),
  /** Where the capture time was read: "KUSER_SHARED_DATA.SystemTime". */
  captureSource: z.string(),
  bootTime: z.string().nullable(),
  /** Which rule gave the boot time: "KeBootTime" | "SystemTime - InterruptTime"; null when unknown. */
  bootRule: z.string().nullable(),
  /** A crash dump header's time or an acquisition sidecar's span the capture time was checked against. */
  crossCheck: z.object({ source: z.string(), time: z.string(), agrees: z.boolean() }).nullable(),
});
export type ImageTime = z.infer<typeof ImageTime>;

/** The session header: what was opened and what discovery found (each value copyable). */
export const SessionInfo = z.object({
  sessionId: Id,
  source: z.object({
    path: z.string(),
    fileName: z.string(),
    /** raw | elf-core | crashdump-full | crashdump-bitmap | winpmem */
    format: z.string(),
    /** Highest physical address served + 1. */
    size: z.number(),
    runs: z.number(),
    live: z.boolean(),
  }),
  kernel: z.object({
    kernelBase: Hex,
    dtb: Hex,
    dtbRaw: Hex,
    dtbMethod: z.string(),
    build: z.number().nullable(),
    pdb: z.object({ name: z.string(), guid: z.string(), age: z.number() }).nullable(),
    profileLabel: z.string(),
    /** bundled | cache | symbol-server | heuristic */
    profileSource: z.string().nullable(),
  }),
  timings: z.record(z.string(), z.number()),
  warnings: z.array(z.string()),
  /** Capture and boot time (absent from hosts older than issue 21). */
  time: ImageTime.optional(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const Capabilities = z.object({
  host: z.enum(['electron', 'bridge']),
  /** Native open/save dialogs (Electron); the bridge opens by path and exports as a download. */
  nativeDialogs: z.boolean(),
  live: z.object({ available: z.boolean(), reason: z.string() }),
  /** An image the host was started with (`memscope serve <image>`), opened by the renderer at start. */
  initialImage: z.string().nullable(),
  /** The bundled sample image, when one is built, for the empty state's "open the sample". */
  sampleImage: z.string().nullable(),
});
export type Capabilities = z.infer<typeof Capabilities>;

// ---------------------------------------------------------------------------------------------
// Plugin runs: one request shape per plugin, one event stream for all

export const PLUGINS = ['pslist', 'psscan', 'psxview', 'dtb', 'struct'] as const;
export type PluginName = (typeof PLUGINS)[number];

export const RunRequest = z.discriminatedUnion('plugin', [
  z.object({ plugin: z.literal('pslist') }),
  z.object({ plugin: z.literal('psscan') }),
  z.object({ plugin: z.literal('psxview') }),
  z.object({ plugin: z.literal('dtb') }),
  z.object({
    plugin: z.literal('struct'),
    type: z.string().min(1).max(256).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a profile type name such as _EPROCESS'),
    address: Hex.max(18),
    space: z.enum(['virtual', 'physical']),
  }),
]);
export type RunRequest = z.infer<typeof RunRequest>;

/** The row type each plugin streams. */
export interface RowOf {
  pslist: ProcessRow;
  psscan: ProcessRow;
  psxview: ProcessTableRow;
  dtb: DtbRow;
  struct: StructDump;
}

export const RunOutcome = z.enum(['completed', 'cancelled', 'failed']);
export type RunOutcome = z.infer<typeof RunOutcome>;

/**
 * Events of one run, in order: any number of progress / row / warning, then exactly one done.
 * A `row` whose key was sent before replaces that row (psxview rows are updated as sources complete).
 * A cancelled or failed run ends with `done` saying so, never as if it had finished.
 */
export type RunEvent =
  | { readonly type: 'progress'; readonly runId: string; readonly stage: string; readonly bytesDone: number; readonly bytesTotal: number }
  | { [P in PluginName]: { readonly type: 'row'; readonly runId: string; readonly plugin: P; readonly key: string; readonly row: RowOf[P] } }[PluginName]
  | { readonly type: 'warning'; readonly runId: string; readonly message: string }
  | {
    readonly type: 'done'; readonly runId: string; readonly outcome: RunOutcome;
    /** One sentence naming the file and the fault, when failed. */
    readonly error: string | null;
    readonly rows: number; readonly ms: number;
    /** Bytes of physical memory the run covered (a cancelled scan says how far it got). */
    readonly bytesDone: number; readonly bytesTotal: number;
    /** Pages the run's scans could not read (a live device's refused pages, zero-filled); absent when none. */
    readonly unreadablePages?: number;
  }
  | OpenProgressEvent;

/**
 * Progress of an `openSession` that was given an `openId`: the stage discovery is in (reading the
 * header, finding the DTB, resolving the profile…), ms since the open began, and bytes for a stage
 * that scans memory. Not part of any run (no runId: a consumer matching events to its run by runId
 * passes over it), it travels on the same stream and ends when openSession answers.
 */
export interface OpenProgressEvent {
  readonly type: 'open-progress';
  readonly runId?: undefined;
  readonly openId: string;
  readonly stage: string;
  readonly ms: number;
  readonly bytesDone: number | null;
  readonly bytesTotal: number | null;
}

export const EXPORT_TABLES = ['psxview', 'pslist', 'psscan', 'dtb'] as const;
export type ExportTable = (typeof EXPORT_TABLES)[number];

export const ExportResult = z.discriminatedUnion('kind', [
  /** Electron: written through a save dialog. */
  z.object({ kind: z.literal('saved'), path: z.string() }),
  /** The user closed the save dialog. */
  z.object({ kind: z.literal('cancelled') }),
  /** Bridge: the renderer offers it as a browser download. */
  z.object({ kind: z.literal('download'), fileName: z.string(), mime: z.string(), text: z.string() }),
]);
export type ExportResult = z.infer<typeof ExportResult>;

// ---------------------------------------------------------------------------------------------
// Live memory: pre-flight and acquisition (issue 20)

/** One pre-flight line: pass / fail / warn / info, with what was found and what it means. */
export const PreflightCheck = z.object({
  id: z.enum(['elevated', 'driver', 'windows', 'vbs', 'memory']),
  status: z.enum(['pass', 'fail', 'warn', 'info']),
  label: z.string(),
  detail: z.string(),
});
export type PreflightCheck = z.infer<typeof PreflightCheck>;

export const LivePreflight = z.object({
  /** The simulated WinPmem device serves an image (MEMSCOPE_SIMULATED_PMEM; never in a packaged build). */
  simulated: z.boolean(),
  checks: z.array(PreflightCheck),
  /** No check failed: Start may load the driver. */
  canStart: z.boolean(),
});
export type LivePreflight = z.infer<typeof LivePreflight>;

/** An acquisition's state (polled): progress while running, then the SHA-256 and sidecar, or why it stopped. */
export const AcquireState = z.object({
  state: z.enum(['running', 'complete', 'partial', 'failed']),
  out: z.string(),
  bytesDone: z.number(),
  bytesTotal: z.number(),
  mbPerSecond: z.number(),
  secondsLeft: z.number().nullable(),
  unreadablePages: z.number(),
  sha256: z.string().nullable(),
  sidecar: z.string().nullable(),
  error: z.string().nullable(),
});
export type AcquireState = z.infer<typeof AcquireState>;

// Memory views (the hex view, the structure overlay, the DTB inspector)

/** Which memory a view reads: physical, the kernel's space (System's DTB), or a process's (its raw DirBase). */
export const SpaceRef = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('physical') }).strict(),
  z.object({ kind: z.literal('kernel') }).strict(),
  z.object({ kind: z.literal('process'), dtb: Hex.max(18) }).strict(),
]);
export type SpaceRef = z.infer<typeof SpaceRef>;

/** Largest readMemory answer (the hex view fetches visible pages, far less). */
export const MAX_READ_MEMORY = 1024 * 1024;

/** Why a page reads as it does: resident and transition pages are readable, the others are not. */
export const PAGE_STATUSES = ['resident', 'transition', 'not-present', 'paged-out', 'outside-image', 'non-canonical'] as const;
export type PageStatus = (typeof PAGE_STATUSES)[number];

/** A run of bytes of one status, relative to the read's start (adjacent pages of one status merged). */
export const PageSpan = z.object({
  offset: z.number(),
  length: z.number(),
  status: z.enum(PAGE_STATUSES),
  readable: z.boolean(),
  /** The page walker's words: "PDE not present", "page file PTE (not resident)", … */
  reason: z.string(),
});
export type PageSpan = z.infer<typeof PageSpan>;

/**
 * Bytes of a space. `bytes` is a Uint8Array on every transport (Electron: structured clone; the
 * bridge: base64 in the JSON frame, decoded by the renderer's transport, common/frame-bytes.ts).
 */
export const MemoryRead = z.object({
  space: SpaceRef,
  /** The DTB translated through (null for physical memory). */
  dtb: Hex.nullable(),
  address: Hex,
  bytes: z.instanceof(Uint8Array),
  /** Every byte covered exactly once, in order. */
  spans: z.array(PageSpan),
});
export type MemoryRead = z.infer<typeof MemoryRead>;

export const MappedRanges = z.object({
  ranges: z.array(z.object({ start: Hex, end: Hex })),
  /** More ranges than asked for exist past the last one. */
  truncated: z.boolean(),
  problems: z.array(z.string()),
});
export type MappedRanges = z.infer<typeof MappedRanges>;

/** Kernel discovery's DTB candidates and their evidence (engine: windows/discovery CandidateReport). */
export const DiscoveryCandidates = z.object({
  candidates: z.array(z.object({
    dtbRaw: Hex,
    pml4: Hex,
    method: z.string(),
    evidence: z.array(z.string()),
    score: z.number(),
    status: z.enum(['accepted', 'rejected', 'not-validated']),
    validation: z.array(z.string()),
    /** The kernel base found through this candidate, when validation got that far. */
    kernelBase: Hex.nullable(),
    /** Self-reference index of its PML4 (kernel half), null when none or unreadable. */
    selfRefIndex: z.number().nullable(),
  })),
  methods: z.array(z.object({ method: z.string(), ok: z.boolean(), detail: z.string(), ms: z.number() })),
  accepted: z.object({ dtbRaw: Hex, dtbMethod: z.string(), kernelBase: Hex }).nullable(),
});
export type DiscoveryCandidates = z.infer<typeof DiscoveryCandidates>;

const TypeName = z.string().min(1).max(256).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a profile type name such as _EPROCESS');
const ViewAddress = Hex.max(18);

/** An evidence bundle the host wrote (engine: evidence/bundle.ts). */
export const EvidenceResult = z.object({
  dir: z.string(),
  /** Files in the folder, manifest.json and SHA256SUMS included. */
  files: z.number(),
  complete: z.boolean(),
  imageSha256: z.string().nullable(),
  sha256From: z.string(),
  warnings: z.array(z.string()),
});
export type EvidenceResult = z.infer<typeof EvidenceResult>;

// ---------------------------------------------------------------------------------------------
// Requests

const Empty = z.object({}).strict();
/** A folder on the host, absolute (POSIX `/…`, Windows `C:\…` or `\\server\…`): a browser has no working directory to be relative to. */
const AbsolutePath = z.string().min(1).max(4096).regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'an absolute path');
const SessionRef = z.object({ sessionId: Id }).strict();

/** Every request: method name → argument and result schemas. Channel names derive from the keys. */
export const requests = {
  capabilities: { args: Empty, result: Capabilities },
  /** Electron: the native open dialog; the bridge answers `unsupported` (the picker takes a path). */
  pickImage: { args: Empty, result: z.object({ path: z.string().nullable() }) },
  /** Open an image read-only, discover the kernel, resolve the profile: the session header. */
  openSession: {
    args: z.object({
      path: z.string().min(1).max(4096),
      /** Client-chosen id: the open's progress arrives as `open-progress` events under it, and cancelOpen abandons it. */
      openId: Id.optional(),
    }).strict(),
    result: SessionInfo,
  },
  /** Abandon an open in flight (its openSession then answers an error saying it was cancelled). */
  cancelOpen: { args: z.object({ openId: Id }).strict(), result: Empty },
  /** Live memory through WinPmem (Windows, administrator); elsewhere `unsupported` with the reason. */
  openLive: { args: Empty, result: SessionInfo },
  closeSession: { args: SessionRef, result: Empty },
  /**
   * Start a plugin run; its events arrive on the event stream under the returned runId. A plugin
   * already run to completion in this session replays its kept rows (switching screens never rescans).
   */
  startRun: { args: z.object({ sessionId: Id, request: RunRequest }).strict(), result: z.object({ runId: Id }) },
  cancelRun: { args: z.object({ runId: Id }).strict(), result: Empty },
  /**
   * A table as the CLI writes it (`memscope <table> --format csv|json`): `keys` null = every row in the
   * default order (byte for byte the CLI's output); otherwise exactly those rows in that order.
   */
  exportTable: {
    args: z.object({
      sessionId: Id,
      table: z.enum(EXPORT_TABLES),
      format: z.enum(['csv', 'json']),
      keys: z.array(z.string().max(64)).max(1_000_000).nullable(),
    }).strict(),
    result: ExportResult,
  },
  // ── live memory (issue 20) ──
  /** The pre-flight lines before Start (elevated, driver file, Windows build, VBS / memory integrity). */
  livePreflight: { args: Empty, result: LivePreflight },
  /** Write the live session's memory to `out` (raw or ELF) with SHA-256 and a `out.json` sidecar; poll acquireStatus. */
  acquireStart: {
    args: z.object({ sessionId: Id, out: z.string().min(1).max(4096), format: z.enum(['raw', 'elf']) }).strict(),
    result: z.object({ acquireId: Id }),
  },
  acquireStatus: { args: z.object({ acquireId: Id }).strict(), result: AcquireState },
  /** Stop an acquisition: the partial file and its sidecar are kept (resumable from the CLI). */
  acquireCancel: { args: z.object({ acquireId: Id }).strict(), result: Empty },
  // -- memory views -----------------------------------------------------------------------------
  /**
   * Bytes of a space (length ≤ 1 MiB) and, per page, readable or why not. A non-canonical, negative,
   * past-the-image address, an over-cap length or a DTB that is not a page table: `invalid-request`.
   * With a `requestId`, cancelRequest stops it (it answers `analysis` "… cancelled").
   */
  readMemory: {
    args: z.object({
      sessionId: Id, space: SpaceRef, address: ViewAddress,
      length: z.number().int().min(1).max(MAX_READ_MEMORY), requestId: Id.optional(),
    }).strict(),
    result: MemoryRead,
  },
  cancelRequest: { args: z.object({ requestId: Id }).strict(), result: Empty },
  /** A profile type laid over a space at an address, field by field, with its bytes. */
  layStruct: { args: z.object({ sessionId: Id, space: SpaceRef, type: TypeName, address: ViewAddress }).strict(), result: StructDump },
  /** A kernel symbol's VA: `PsActiveProcessHead` or `nt!PsActiveProcessHead`; unknown: `invalid-request`. */
  resolveSymbol: {
    args: z.object({ sessionId: Id, name: z.string().min(1).max(256) }).strict(),
    result: z.object({ name: z.string(), module: z.literal('nt'), address: Hex }),
  },
  /** The profile's type names, sorted (the "lay type" picker). */
  listTypes: { args: SessionRef, result: z.object({ types: z.array(z.string()) }) },
  /** Mapped ranges of a space overlapping [from, to), adjacent pages merged, at most `max`. */
  mappedRanges: {
    args: z.object({ sessionId: Id, space: SpaceRef, from: ViewAddress, to: Hex.max(19), max: z.number().int().min(1).max(4096) }).strict(),
    result: MappedRanges,
  },
  /** What kernel discovery tried: DTB candidates with their evidence, and which one won. */
  discoveryReport: { args: SessionRef, result: DiscoveryCandidates },
  /**
   * The physical address a space's address translates to (through its DTB: the kernel's for the
   * kernel space), or null with why not (the hex view's virtual → physical switch).
   */
  translateAddress: {
    args: z.object({ sessionId: Id, space: SpaceRef, address: ViewAddress }).strict(),
    result: z.object({ dtb: Hex.nullable(), address: Hex, pa: Hex.nullable(), status: z.enum(PAGE_STATUSES), reason: z.string() }),
  },
  /**
   * Write the evidence bundle of a session, image or live (`memscope evidence`): tables, reports,
   * timeline, manifest.json, SHA256SUMS. Into `out` — a new or empty folder, absolute path: the one
   * the native folder dialog returned (Electron: main refuses any other), or typed over the bridge —
   * else into a new folder the host chooses (`$MEMSCOPE_HOME/evidence/<source>-<UTC time>`).
   * A live session's bundle is written from the session already open (the driver serves one open).
   */
  exportEvidence: { args: z.object({ sessionId: Id, out: AbsolutePath.optional() }).strict(), result: EvidenceResult },
  /** Electron: the native folder dialog (choose or create the evidence folder); the bridge answers `unsupported` (type the folder). */
  pickFolder: { args: Empty, result: z.object({ path: z.string().nullable() }) },
} as const;

export type Method = keyof typeof requests;
export const METHODS = Object.keys(requests) as Method[];
export type ArgsOf<M extends Method> = z.input<(typeof requests)[M]['args']>;
export type ResultOf<M extends Method> = z.infer<(typeof requests)[M]['result']>;

/** Electron IPC channel of a method (one prefix, so main can refuse anything else). */
export const channelOf = (m: Method): string => `memscope:${m}`;
export const EVENT_CHANNEL = 'memscope:event';

// ---------------------------------------------------------------------------------------------
// Errors and the response envelope (IPC rejections lose their type; an envelope keeps it)

export const ERROR_CODES = ['invalid-request', 'unknown-method', 'not-found', 'unsupported', 'analysis', 'io', 'internal',
  /** A cap reached (sessions open, an answer's size, a slow client): the message names the cap and what to do instead. */
  'limit'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
export interface ContractErrorInfo { readonly code: ErrorCode; readonly message: string }

export type Envelope<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ContractErrorInfo };

/** A failed request as the renderer sees it: a typed code and one sentence. */
export class ContractError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

/** Validate a method's arguments; a malformed message becomes a typed error naming the field. */
export function parseArgs<M extends Method>(method: string, raw: unknown): Envelope<{ method: M; args: z.infer<(typeof requests)[M]['args']> }> {
  if (!Object.prototype.hasOwnProperty.call(requests, method)) {
    return { ok: false, error: { code: 'unknown-method', message: `unknown method ${JSON.stringify(String(method).slice(0, 64))}` } };
  }
  const r = requests[method as M].args.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length ? issue.path.join('.') : 'arguments';
    // bounded: zod names every unrecognized key, and a message must not echo a request's bulk back
    const what = issue?.message ?? 'invalid';
    return { ok: false, error: { code: 'invalid-request', message: `${method}: ${where.slice(0, 200)}: ${what.length > 300 ? `${what.slice(0, 299)}…` : what}` } };
  }
  return { ok: true, value: { method: method as M, args: r.data as z.infer<(typeof requests)[M]['args']> } };
}

/** The API the renderer holds, whatever the transport (Electron preload or the bridge's WebSocket). */
export type MemScopeApi = {
  readonly [M in Method]: (args: ArgsOf<M>) => Promise<Envelope<ResultOf<M>>>;
} & {
  /** Subscribe to run events; returns the unsubscribe function. */
  readonly onEvent: (listener: (event: RunEvent) => void) => () => void;
};

// ---------------------------------------------------------------------------------------------
// The bridge's WebSocket frames (the same contract, framed as JSON)

export const ClientFrame = z.object({
  id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  method: z.string().max(64),
  // optional: JSON drops an `undefined` args, and that frame still needs an answer under its id
  args: z.unknown().optional(),
}).strict();
export type ClientFrame = z.infer<typeof ClientFrame>;

export type ServerFrame =
  | { readonly id: number; readonly response: Envelope<unknown> }
  | { readonly event: RunEvent }
  /** A frame the server could not read at all (not JSON, wrong shape): no id to answer. */
  | { readonly id: null; readonly response: Envelope<never> };

/** Largest client frame the bridge reads (an export key list of 1M short keys fits). */
export const MAX_CLIENT_FRAME_BYTES = 64 * 1024 * 1024;

/** Where the bridge's WebSocket listens; the per-run token travels as `?token=` on the page URL and the socket URL. */
export const BRIDGE_WS_PATH = '/ws';
export const BRIDGE_TOKEN_PARAM = 'token';
