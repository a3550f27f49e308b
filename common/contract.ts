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
});
export type ProcessRow = z.infer<typeof ProcessRow>;

export const PSXVIEW_SOURCES = ['pslist', 'psscan', 'thrdscan', 'cidtable', 'csrss', 'session'] as const;
export type PsxSource = (typeof PSXVIEW_SOURCES)[number];

/** The one-word reading of a psxview row, first in its verdict; colour only reinforces it. */
export const ProcessStatus = z.enum(['normal', 'hidden', 'exited', 'remnant', 'suspicious']);
export type ProcessStatus = z.infer<typeof ProcessStatus>;

/** One psxview row (engine: plugins/psxview PsxViewRow), with the decoded process beside it. */
export const PsxViewRow = z.object({
  offset: Hex.nullable(),
  pid: z.number().nullable(),
  name: z.string().nullable(),
  pslist: z.boolean(),
  psscan: z.boolean(),
  thrdscan: z.boolean(),
  cidtable: z.boolean(),
  csrss: z.boolean(),
  session: z.boolean(),
  exitTime: z.string().nullable(),
  verdict: z.string(),
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

/** A profile type laid over memory (engine: plugins/struct StructDump); `value` kinds as the engine's DecodedValue. */
export const StructField = z.object({
  name: z.string(),
  offset: z.number(),
  offsetHex: Hex,
  size: z.number(),
  type: z.string(),
  raw: z.string(),
  value: z.looseObject({ kind: z.string() }),
});
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
// Requests

const Empty = z.object({}).strict();
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

export const ERROR_CODES = ['invalid-request', 'unknown-method', 'not-found', 'unsupported', 'analysis', 'io', 'internal'] as const;
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
