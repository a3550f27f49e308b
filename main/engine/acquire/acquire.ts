/**
 * Acquisition: every physical run of a source (the live device, or an image) to a raw or ELF-core
 * file, in one sequential pass over the output file's layout (the same layout the image writers
 * write: writers/raw.ts rawLayout, writers/elf-core.ts elfLayout), with SHA-256 as a step of the
 * stream: each piece is hashed in file order as it is written (headers, run data, and for raw the
 * zeros of the holes between runs, which stay sparse on disk).
 *
 * Raw: file offset = physical address, holes zero (what Volatility 3 and MemScope read as raw).
 * ELF: one PT_LOAD per run, p_paddr = the run's start, CR3 in a QEMU note (MemScope's ELF reader).
 *
 * Interruptions: every CHECKPOINT bytes the file is fsync'ed and the sidecar (`FILE.json`) records
 * how far the file is good. `resume` truncates to that point, re-reads and re-hashes the kept prefix
 * from the file itself, and goes on: the final SHA-256 covers the whole file, and the sidecar says
 * the acquisition was resumed. The sidecar is written on every end — complete, cancelled or failed
 * (full disk, no permission) — and says which; a partial file is kept, never deleted.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { MemScopeError, usageError } from '../errors.js';
import { readIntoTarget, type AbsentRange, type PhysicalRun, type PhysicalSource } from '../sources/physical-source.js';
import { describeRef, openSourceRef, type SourceRef } from '../sources/source-ref.js';
import { hex } from '../util/hex.js';
import { pageAlignedBytes } from '../util/page-aligned.js';
import { elfLayout, rawLayout, type FileLayout } from './writers/index.js';

export type AcquireFormat = 'raw' | 'elf';

export interface AcquireJob {
  readonly ref: SourceRef;
  readonly out: string;
  readonly format: AcquireFormat;
  /** Continue an interrupted acquisition of `out` (its sidecar says how far it got). */
  readonly resume?: boolean;
  /** Throughput cap in bytes per second (spare a production host); default none. */
  readonly maxRate?: number;
  readonly tool: { readonly name: string; readonly version: string };
  /** SHA-256 of the driver file that served live memory, when known. */
  readonly driverSha256?: string | null;
  readonly chunkBytes?: number;
}

export interface AcquireProgress {
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly unreadablePages: number;
}

export interface UnreadableRange {
  readonly start: string;
  readonly length: string;
  readonly reason: string;
}

/** The JSON sidecar `FILE.json`: what was acquired, how, and how to check it. */
export interface AcquireSidecar {
  readonly tool: string;
  readonly toolVersion: string;
  readonly file: string;
  readonly format: AcquireFormat;
  readonly fileSize: number;
  /** 'complete' | 'partial' (interrupted, cancelled or failed: `error` says why; resumable). */
  readonly status: 'complete' | 'partial';
  readonly error: string | null;
  /** Bytes of the file known good (fsync'ed): where a resume continues. */
  readonly checkpoint: number;
  readonly sha256: string | null;
  readonly sha256Covers: string;
  readonly resumed: number;
  readonly source: string;
  readonly host: string;
  readonly startTime: string;
  readonly endTime: string | null;
  readonly runs: readonly { readonly start: string; readonly length: string }[];
  readonly unreadablePages: number;
  readonly unreadable: readonly UnreadableRange[];
  readonly notes: readonly string[];
  readonly cr3: string | null;
  readonly kernelBase: string | null;
  readonly build: number | null;
  readonly driverSha256: string | null;
}

/** Bytes between fsync + sidecar checkpoints. */
export const CHECKPOINT = 16 * 1024 * 1024;
const DEFAULT_CHUNK = 1024 * 1024;
const MAX_UNREADABLE_LISTED = 10_000;

type Piece =
  | { readonly kind: 'bytes'; readonly offset: number; readonly bytes: Uint8Array }
  | { readonly kind: 'run'; readonly offset: number; readonly length: number; readonly pa: number }
  | { readonly kind: 'zero'; readonly offset: number; readonly length: number };

/** The file as ordered pieces covering [0, fileSize): headers, run data, zeros between. */
function pieces(layout: FileLayout): Piece[] {
  const out: Piece[] = [];
  for (const h of layout.headers) out.push({ kind: 'bytes', offset: h.offset, bytes: h.bytes });
  layout.runs.forEach((r, i) => out.push({ kind: 'run', offset: layout.runOffsets[i]!, length: r.length, pa: r.start }));
  out.sort((a, b) => a.offset - b.offset);
  const filled: Piece[] = [];
  let at = 0;
  for (const p of out) {
    if (p.offset > at) filled.push({ kind: 'zero', offset: at, length: p.offset - at });
    filled.push(p);
    at = p.offset + (p.kind === 'bytes' ? p.bytes.length : p.length);
  }
  if (layout.fileSize > at) filled.push({ kind: 'zero', offset: at, length: layout.fileSize - at });
  return filled;
}

const pieceLength = (p: Piece): number => (p.kind === 'bytes' ? p.bytes.length : p.length);
const sameFile = (a: string, b: string): boolean => {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
};

/** The image file a reference reads (none for the real device). */
function imageOf(ref: SourceRef): string | null {
  return ref.kind === 'file' ? ref.path : ref.kind === 'simulated' ? ref.image : null;
}

function readSidecar(path: string): AcquireSidecar | null {
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8')) as AcquireSidecar;
  } catch {
    return null;
  }
}

/** Check the output before opening anything: never over an existing file, never into the image being read. */
export function checkOutput(job: AcquireJob): void {
  const image = imageOf(job.ref);
  if (image !== null && (sameFile(job.out, image) || sameFile(`${job.out}.json`, image))) {
    throw usageError(`--out ${job.out} is the image being read (${image}); refusing to write into evidence`);
  }
  if (!job.resume && (fs.existsSync(job.out) || fs.existsSync(`${job.out}.json`))) {
    throw usageError(`${job.out}${fs.existsSync(job.out) ? '' : '.json'} already exists; refusing to overwrite it (--resume continues an interrupted acquisition)`);
  }
}

/**
 * Run one acquisition on this thread (acquireInWorker runs it off the main thread). `cancelled` is
 * polled between chunks; progress is reported about every chunk.
 */
export async function runAcquisition(
  job: AcquireJob,
  hooks: { progress?: (p: AcquireProgress) => void; cancelled?: () => boolean } = {},
): Promise<AcquireSidecar> {
  checkOutput(job);
  const source = openSourceRef(job.ref);
  try {
    return await acquireFrom(source, job, hooks);
  } finally {
    source.close();
  }
}

async function acquireFrom(source: PhysicalSource, job: AcquireJob, hooks: { progress?: (p: AcquireProgress) => void; cancelled?: () => boolean }): Promise<AcquireSidecar> {
  const runs: readonly PhysicalRun[] = source.runs();
  if (runs.length === 0) throw new MemScopeError('format', `${source.name}: no physical memory runs to acquire`);
  const h = source.hints;
  const layout = job.format === 'raw' ? rawLayout({ runs }) : elfLayout({ runs }, { cpus: [{ cr3: h.dtb ?? 0n }] });
  const plan = pieces(layout);
  const sidecarPath = `${job.out}.json`;
  const runsJson = layout.runs.map((r) => ({ start: hex(r.start), length: hex(r.length) }));

  let checkpoint = 0;
  let resumed = 0;
  let startTime = new Date().toISOString();
  let unreadable: UnreadableRange[] = [];
  let unreadablePages = 0;
  let fd: number;
  const hash: Hash = createHash('sha256');
  const previous = job.resume && fs.existsSync(job.out) ? readSidecar(sidecarPath) : null;
  if (job.resume && fs.existsSync(job.out)) {
    if (!previous) throw usageError(`${job.out}: cannot resume: ${sidecarPath} is missing or unreadable`);
    if (previous.status === 'complete') throw usageError(`${job.out}: already complete (SHA-256 ${previous.sha256}); nothing to resume`);
    if (previous.format !== job.format || previous.fileSize !== layout.fileSize || JSON.stringify(previous.runs) !== JSON.stringify(runsJson)) {
      throw usageError(`${job.out}: cannot resume: the source's runs or the format differ from the interrupted acquisition (${sidecarPath})`);
    }
    fd = openOut(job.out, 'r+');
    checkpoint = Math.min(previous.checkpoint, fs.fstatSync(fd).size);
    resumed = previous.resumed + 1;
    startTime = previous.startTime;
    unreadable = [...previous.unreadable];
    unreadablePages = previous.unreadablePages;
    rehashPrefix(fd, checkpoint, hash, job.out);
    fs.ftruncateSync(fd, layout.fileSize);
  } else {
    fd = openOut(job.out, 'wx');
    fs.ftruncateSync(fd, layout.fileSize); // holes stay sparse; the size is final from the start
  }

  const sidecar = (status: 'complete' | 'partial', error: string | null, sha: string | null): AcquireSidecar => ({
    tool: job.tool.name,
    toolVersion: job.tool.version,
    file: job.out,
    format: job.format,
    fileSize: layout.fileSize,
    status,
    error,
    checkpoint,
    sha256: sha,
    sha256Covers: resumed > 0
      ? `the whole file: the ${resumed === 1 ? 'first' : 'earlier'} part was written before an interruption and re-read from disk when resumed (${resumed} resume${resumed === 1 ? '' : 's'})`
      : 'the whole file, hashed as it was written',
    resumed,
    source: describeRef(job.ref),
    host: hostname(),
    startTime,
    endTime: status === 'complete' ? new Date().toISOString() : null,
    runs: runsJson,
    unreadablePages,
    unreadable,
    notes: [...((source as { notes?: readonly string[] }).notes ?? [])],
    cr3: h.dtb !== undefined ? hex(h.dtb) : null,
    kernelBase: h.kernelBase !== undefined ? hex(h.kernelBase) : null,
    build: h.buildNumber ?? null,
    driverSha256: job.driverSha256 ?? null,
  });
  const writeSidecar = (s: AcquireSidecar): void => fs.writeFileSync(sidecarPath, JSON.stringify(s, null, 2) + '\n');

  const total = layout.fileSize;
  const chunk = job.chunkBytes ?? DEFAULT_CHUNK;
  const buf = pageAlignedBytes(chunk); // reads land on a page boundary (util/page-aligned.ts)
  const zeros = new Uint8Array(chunk);
  const t0 = performance.now();
  let done = checkpoint;
  const startDone = checkpoint;
  let sinceCheckpoint = 0;
  const note = (absent: readonly AbsentRange[]): void => {
    for (const a of absent) {
      unreadablePages += Math.ceil(a.length / 4096);
      if (unreadable.length < MAX_UNREADABLE_LISTED) {
        unreadable.push({ start: hex(a.start), length: hex(a.length), reason: (a as { reason?: string }).reason ?? `absent from ${source.name}` });
      }
    }
  };
  /** fsync the file in the background; once it is done, bytes before `upTo` are good (the sidecar says so). */
  const checkpointAt = (upTo: number): { done: Promise<void>; settled: Promise<void> } => {
    const done = new Promise<void>((resolveSync, rejectSync) => fs.fsync(fd, (err) => {
      if (err) { rejectSync(err); return; }
      checkpoint = upTo;
      try {
        writeSidecar(sidecar('partial', 'in progress (or interrupted)', null));
        resolveSync();
      } catch (e) {
        rejectSync(e);
      }
    }));
    return { done, settled: done.catch(() => undefined) };
  };
  let syncing: { done: Promise<void>; settled: Promise<void> } | null = null;
  try {
    writeSidecar(sidecar('partial', 'in progress (or interrupted)', null));
    for (const p of plan) {
      const len = pieceLength(p);
      if (p.offset + len <= done) continue;
      for (let at = Math.max(p.offset, done); at < p.offset + len;) {
        if (hooks.cancelled?.()) throw new MemScopeError('cancelled', `acquisition of ${source.name} cancelled after ${done} of ${total} bytes`);
        const n = Math.min(chunk, p.offset + len - at);
        let data: Uint8Array;
        if (p.kind === 'bytes') {
          data = p.bytes.subarray(at - p.offset, at - p.offset + n);
          writeAll(fd, data, at);
        } else if (p.kind === 'zero') {
          data = zeros.subarray(0, n); // sparse: hashed, not written
        } else {
          data = buf.subarray(0, n);
          const absent = readIntoTarget(source, p.pa + (at - p.offset), data);
          note(absent);
          writeAll(fd, data, at);
        }
        hash.update(data);
        at += n;
        done = at;
        sinceCheckpoint += n;
        if (sinceCheckpoint >= CHECKPOINT) {
          // the fsync runs beside the next reads, hashes and writes (it waits on the disk, they on
          // the CPU); the sidecar claims these bytes only once it is done, and one is in flight at most
          await syncing?.done;
          syncing = checkpointAt(done);
          sinceCheckpoint = 0;
        }
        hooks.progress?.({ bytesDone: done, bytesTotal: total, unreadablePages });
        if (job.maxRate) await throttle(done - startDone, t0, job.maxRate);
        else if (sinceCheckpoint % (8 * chunk) === 0) await new Promise((r) => setImmediate(r));
      }
    }
    await syncing?.done;
    fs.fsyncSync(fd);
    checkpoint = done;
    const final = sidecar('complete', null, hash.digest('hex'));
    writeSidecar(final);
    return final;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    await syncing?.settled; // its checkpoint counts if it landed; the fd stays open until then
    try {
      writeSidecar(sidecar('partial', msg, null));
    } catch {
      // the disk may be full: the sidecar of the last checkpoint stays
    }
    if (e instanceof MemScopeError) throw e;
    throw new MemScopeError('io', `${job.out}: ${msg} — partial file kept (${checkpoint} of ${total} bytes good; ${sidecarPath} says so; --resume continues)`, { cause: e });
  } finally {
    fs.closeSync(fd);
  }
}

function openOut(path: string, flags: 'wx' | 'r+'): number {
  try {
    return fs.openSync(path, flags, 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EEXIST' ? 'already exists' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.code === 'ENOENT' ? 'no such directory' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new MemScopeError('io', `${path}: cannot write the acquisition: ${why}`, { cause: e });
  }
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  for (let off = 0; off < data.length;) off += fs.writeSync(fd, data, off, data.length - off, position + off);
}

/** Re-hash the kept prefix from the file (the hash must cover the bytes actually on disk). */
function rehashPrefix(fd: number, length: number, hash: Hash, path: string): void {
  const buf = Buffer.alloc(DEFAULT_CHUNK);
  for (let at = 0; at < length;) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, length - at), at);
    if (n === 0) throw new MemScopeError('io', `${path}: shorter than its checkpoint (${at} of ${length} bytes): cannot resume`);
    hash.update(buf.subarray(0, n));
    at += n;
  }
}

/** Sleep until `done` bytes since t0 are within `rate` bytes per second. */
async function throttle(done: number, t0: number, rate: number): Promise<void> {
  const due = (done / rate) * 1000 - (performance.now() - t0);
  if (due > 1) await new Promise((r) => setTimeout(r, Math.min(due, 1000)));
}
