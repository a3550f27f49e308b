/**
 * WinPmemSource: live physical memory through the WinPmem driver, as a PhysicalSource.
 *
 * The device is behind `PmemDevice` (IOCTL + positioned read + close), so the same code runs over
 * the real `\\.\pmem` handle (win32-device.ts) and over a simulated device serving an image file
 * (simulated-device.ts). Protocol as WinPmem's own imager uses it (go-winpmem/imager.go): set the
 * acquisition mode, read GET_INFO once (runs + CR3 + kernel base), read only inside the runs, read
 * in bounded chunks and, when a chunk read fails, retry page by page so one unreadable page (device
 * memory, a page the hypervisor withholds) costs that page, not the chunk.
 *
 * Read-only: WRITE_ENABLE is never sent (the driver refuses writes unless it is; we also bind no
 * write call), and `ioctl` here refuses that code outright.
 */
import { MemScopeError } from '../../main/engine/errors.js';
import { checkReadRequest } from '../../main/engine/sources/segmented.js';
import type {
  AbsentRange, PhysicalRun, PhysicalSource, ReadResult, SourceHints, SourceKind,
} from '../../main/engine/sources/physical-source.js';
import { hex } from '../../main/engine/util/hex.js';
import {
  decodeInfo, encodeMode, INFO_BUFFER_SIZE, PMEM_IOCTLS, PMEM_IOCTLS_LEGACY, type PmemInfo, type PmemIoctls, type PmemMode,
} from './protocol.js';

/** The driver's handle, as small as the protocol needs. */
export interface PmemDevice {
  /** What to call the device in messages (`\\.\pmem`, or the image a simulated device serves). */
  readonly name: string;
  /** DeviceIoControl: send `input`, return the bytes the driver wrote (at most outLength). Throws on failure. */
  ioctl(code: number, input: Uint8Array, outLength: number): Uint8Array;
  /** ReadFile at physical address `pa`; may return fewer bytes than asked (short read). Throws on a device error. */
  readAt(pa: number, length: number): Uint8Array;
  /**
   * Optional: the same read into the caller's buffer (ReadFile's own shape: the driver copies into
   * the buffer it is given), returning the bytes read. Spares a buffer allocation and a copy per read,
   * which on a warm simulated device cost more than the read itself.
   */
  readInto?(pa: number, target: Uint8Array): number;
  close(): void;
}

/** An absent range with why it is absent (a hole between runs, or the device's error). */
export interface AbsentWithReason extends AbsentRange {
  readonly reason: string;
}

/** 'auto': PTE first, PHYSICAL if the driver refuses PTE. IOSPACE is never used for general reads. */
export type ModeRequest = 'auto' | 'pte' | 'physical';

export interface WinPmemOptions {
  /**
   * Acquisition mode; default 'auto' = PTE (what WinPmem's own tools, go-winpmem and Velociraptor
   * send), falling back to PHYSICAL. Never IOSPACE: MmMapIoSpace on RAM bugchecks (0x1A/0x1233,
   * read.c:146-167).
   */
  readonly mode?: ModeRequest;
  /**
   * Allow the PHYSICAL fallback (default true). Pass false when virtualization-based security /
   * memory integrity is on: the signed 2.0.1 driver copies PHYSICAL pages without SEH and bugchecks
   * on a page the hypervisor withholds (WinPmem #9, #13).
   */
  readonly physicalFallback?: boolean;
  /** IOCTL table: driver 2.x (default) or PMEM_IOCTLS_LEGACY for 1.x drivers. */
  readonly ioctls?: PmemIoctls;
  /** Largest single device read (bytes, a multiple of 4 KiB); default 1 MiB. */
  readonly chunkSize?: number;
}

const PAGE = 4096;
const DEFAULT_CHUNK = 1024 * 1024;
export const HOLE_REASON = 'not in any physical memory run the driver reported';
const WRITE_CODES = new Set([PMEM_IOCTLS.writeEnable, PMEM_IOCTLS_LEGACY.writeEnable]);

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** The Win32 error a device failure carries (Win32Error, SimulatedDeviceError), if any. */
const win32Code = (e: unknown): number | undefined => {
  const c = (e as { win32Error?: unknown } | null)?.win32Error;
  return typeof c === 'number' ? c : undefined;
};
const ERROR_ACCESS_DENIED = 5;
const ERROR_BAD_LENGTH = 24;

/** How many failed pages keep their reason (the count is always exact). */
const MAX_FAILURE_SAMPLES = 1000;

/** Pages the device could not read, so far (a live session reports them; never fatal). */
export interface ReadFailures {
  readonly pages: number;
  /** The first failures with the device's reason (at most MAX_FAILURE_SAMPLES, merged by cause). */
  readonly samples: readonly AbsentWithReason[];
}

/**
 * Set the acquisition mode: PTE first, PHYSICAL as the fallback. ACCESS_DENIED is not "run as
 * administrator" here (the device is already open): a HEAD driver refuses any SET_MODE after the
 * first until it is reloaded (winpmem.c:338-343), so we read on in the mode already set.
 * Returns the mode in force (null: set by someone else, unknown) and what to tell the user.
 */
function setMode(device: PmemDevice, ioctls: PmemIoctls, request: ModeRequest, physicalFallback: boolean): { mode: PmemMode | null; notes: string[] } {
  const tries: PmemMode[] = request === 'auto' ? (physicalFallback ? ['pte', 'physical'] : ['pte']) : [request];
  const notes: string[] = [];
  for (let i = 0; i < tries.length; i++) {
    const m = tries[i]!;
    try {
      device.ioctl(ioctls.setMode, encodeMode(m), 0);
      return { mode: m, notes };
    } catch (e) {
      if (win32Code(e) === ERROR_ACCESS_DENIED) {
        notes.push(`${device.name}: the driver kept the acquisition mode it already had (SET_MODE ${m} refused: a WinPmem 4.x driver allows the mode to be set once per load); reading in that mode`);
        return { mode: null, notes };
      }
      if (i + 1 < tries.length) {
        notes.push(`${device.name}: ${m} mode refused (${message(e)}); using ${tries[i + 1]} mode`);
        continue;
      }
      const why = request === 'auto' && !physicalFallback ? ' (physical fallback disabled: memory integrity / VBS is on)' : '';
      throw new MemScopeError('io', `${device.name}: the driver refused acquisition mode "${m}"${why}: ${message(e)}`, { cause: e });
    }
  }
  throw new MemScopeError('usage', `${device.name}: no acquisition mode to try`);
}

/** SourceHints from a GET_INFO reply: zero means "the driver did not set it" (see protocol.ts). */
export function hintsFromInfo(info: PmemInfo): SourceHints {
  const nz = (v: bigint): bigint | undefined => (v === 0n ? undefined : v);
  const cpus = info.kpcr.filter((k) => k !== 0n).length;
  const hints: Record<string, bigint | number | undefined> = {
    dtb: nz(info.cr3),
    kernelBase: nz(info.kernBase),
    psActiveProcessHead: nz(info.psActiveProcessHead),
    psLoadedModuleList: nz(info.psLoadedModuleList),
    kdDebuggerDataBlock: nz(info.kdbg),
    // The driver reads NtBuildNumber through a PUSHORT (winpmem.c:318): only the low 16 bits arrive.
    buildNumber: info.ntBuildNumber === 0n ? undefined : Number(info.ntBuildNumber & 0xffffn),
    numberOfProcessors: cpus > 0 ? cpus : undefined,
  };
  for (const k of Object.keys(hints)) if (hints[k] === undefined) delete hints[k];
  return hints as SourceHints;
}

export class WinPmemSource implements PhysicalSource {
  readonly kind: SourceKind = 'winpmem';
  readonly name: string;
  readonly size: number;
  readonly hints: SourceHints;
  /** The decoded GET_INFO reply (NtBuildNumberAddr, KPCRs … beyond what SourceHints carries). */
  readonly info: PmemInfo;
  /** The acquisition mode in force; null when the driver kept a mode set before us (unknown). */
  readonly mode: PmemMode | null;
  /** What the user should know about this source (mode fallback, invisible gaps). */
  readonly notes: readonly string[];
  private readonly device: PmemDevice;
  private readonly runList: readonly PhysicalRun[];
  private readonly chunk: number;
  private closed = false;
  /** Page numbers whose device read failed (distinct: a page re-read later is counted once). */
  private readonly failedPages = new Set<number>();
  private readonly failureSamples: AbsentWithReason[] = [];

  private constructor(device: PmemDevice, info: PmemInfo, mode: PmemMode | null, notes: string[], chunk: number) {
    this.device = device;
    this.name = device.name;
    this.info = info;
    this.mode = mode;
    if (mode === 'physical') {
      notes.push(`${device.name}: physical mode: the signed WinPmem 2.0.1 driver returns zeros for pages it cannot map, so unreadable pages cannot be counted`);
    }
    this.notes = notes;
    this.chunk = chunk;
    this.runList = info.runs;
    const last = info.runs[info.runs.length - 1];
    this.size = last ? last.start + last.length : 0;
    this.hints = hintsFromInfo(info);
  }

  /**
   * Take ownership of `device`: set the acquisition mode, read GET_INFO. On any failure the device
   * is closed and a MemScopeError names the device and the step.
   */
  static open(device: PmemDevice, opts: WinPmemOptions = {}): WinPmemSource {
    const request: string = opts.mode ?? 'auto';
    const ioctls = opts.ioctls ?? PMEM_IOCTLS;
    const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
    try {
      if (!Number.isSafeInteger(chunk) || chunk < PAGE || chunk % PAGE !== 0 || chunk > 64 * 1024 * 1024) {
        throw new MemScopeError('usage', `${device.name}: chunk size ${chunk} must be a multiple of 4096 between 4 KiB and 64 MiB`);
      }
      if (WRITE_CODES.has(ioctls.setMode) || WRITE_CODES.has(ioctls.getInfo)) {
        throw new MemScopeError('usage', `${device.name}: refusing an IOCTL table that maps a read operation to WRITE_ENABLE`);
      }
      if (request !== 'auto' && request !== 'pte' && request !== 'physical') {
        throw new MemScopeError('usage', `${device.name}: acquisition mode "${request}" is not used: only pte or physical (iospace mapping of RAM bugchecks the machine)`);
      }
      const { mode, notes } = setMode(device, ioctls, request, opts.physicalFallback ?? true);
      let reply: Uint8Array;
      try {
        reply = device.ioctl(ioctls.getInfo, new Uint8Array(0), INFO_BUFFER_SIZE);
      } catch (e) {
        if (win32Code(e) === ERROR_BAD_LENGTH) {
          throw new MemScopeError('io', `${device.name}: GET_INFO failed: ${message(e)} — this machine has more physical memory runs than the driver can report (Hyper-V dynamic memory?)`, { cause: e });
        }
        throw new MemScopeError('io', `${device.name}: GET_INFO failed: ${message(e)}`, { cause: e });
      }
      const info = decodeInfo(reply, device.name);
      if (info.runs.length === 0) throw new MemScopeError('format', `${device.name}: GET_INFO reports no physical memory runs (NumberOfRuns 0)`);
      return new WinPmemSource(device, info, mode, notes, chunk);
    } catch (e) {
      device.close();
      if (e instanceof MemScopeError) throw e;
      throw new MemScopeError('io', `${device.name}: ${message(e)}`, { cause: e });
    }
  }

  runs(): readonly PhysicalRun[] {
    return this.runList;
  }

  read(address: number, length: number): ReadResult {
    checkReadRequest(this.name, address, length); // before allocating: length may be hostile
    const data = new Uint8Array(length);
    return { data, absent: this.fill(address, data) };
  }

  readInto(address: number, target: Uint8Array): readonly AbsentWithReason[] {
    checkReadRequest(this.name, address, target.length);
    return this.fill(address, target);
  }

  /**
   * Read `data.length` bytes at `address` into `data`; returns the absent ranges with reasons. Every
   * byte is written: read from the device, or zeroed (holes between runs, pages the device refused),
   * so a reused buffer needs no clearing first.
   */
  private fill(address: number, data: Uint8Array): AbsentWithReason[] {
    if (this.closed) throw new MemScopeError('io', `${this.name}: read after close`);
    const absent: AbsentWithReason[] = [];
    const end = address + data.length;
    let cursor = address;
    for (const run of this.runList) {
      if (cursor >= end) break;
      const runEnd = run.start + run.length;
      if (runEnd <= cursor) continue;
      if (run.start >= end) break;
      if (run.start > cursor) {
        data.fill(0, cursor - address, run.start - address);
        addAbsent(absent, cursor, run.start - cursor, HOLE_REASON);
        cursor = run.start;
      }
      const stop = Math.min(end, runEnd);
      this.readRange(cursor, stop, address, data, absent);
      cursor = stop;
    }
    if (cursor < end) {
      data.fill(0, cursor - address);
      addAbsent(absent, cursor, end - cursor, HOLE_REASON);
    }
    return absent;
  }

  /** Read [from, to) (inside one run) in chunks aligned to the chunk size; on a failed chunk, page by page. */
  private readRange(from: number, to: number, base: number, data: Uint8Array, absent: AbsentWithReason[]): void {
    let pos = from;
    while (pos < to) {
      const chunkEnd = Math.min(to, (Math.floor(pos / this.chunk) + 1) * this.chunk);
      try {
        this.readExact(pos, chunkEnd, base, data);
      } catch {
        for (let p = pos; p < chunkEnd;) {
          const pageEnd = Math.min(chunkEnd, (Math.floor(p / PAGE) + 1) * PAGE);
          try {
            this.readExact(p, pageEnd, base, data);
          } catch (e) {
            data.fill(0, p - base, pageEnd - base);
            const reason = `device read failed at ${hex(p)}: ${message(e)}`;
            addAbsent(absent, p, pageEnd - p, reason);
            const page = Math.floor(p / PAGE);
            if (!this.failedPages.has(page)) {
              this.failedPages.add(page);
              if (this.failureSamples.length < MAX_FAILURE_SAMPLES) addAbsent(this.failureSamples, p, pageEnd - p, reason);
            }
          }
          p = pageEnd;
        }
      }
      pos = chunkEnd;
    }
  }

  /** Read exactly [from, to) into data, following short reads; a read that returns nothing is a failure. */
  private readExact(from: number, to: number, base: number, data: Uint8Array): void {
    let p = from;
    const dev = this.device;
    if (dev.readInto) {
      while (p < to) {
        const n = dev.readInto(p, data.subarray(p - base, to - base));
        if (n <= 0) throw new Error(`the device returned no data at ${hex(p)}`);
        p += Math.min(n, to - p);
      }
      return;
    }
    while (p < to) {
      const got = this.device.readAt(p, to - p);
      if (got.length === 0) throw new Error(`the device returned no data at ${hex(p)}`);
      const take = Math.min(got.length, to - p);
      data.set(take === got.length ? got : got.subarray(0, take), p - base);
      p += take;
    }
  }

  /** Distinct pages whose device read failed so far. */
  readFailures(): ReadFailures {
    return { pages: this.failedPages.size, samples: [...this.failureSamples] };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.device.close();
  }
}

/** Append an absent range, merging with the previous one when it touches and has the same reason. */
function addAbsent(list: AbsentWithReason[], start: number, length: number, reason: string): void {
  if (length <= 0) return;
  const last = list[list.length - 1];
  if (last && last.start + last.length === start && sameCause(last.reason, reason)) {
    list[list.length - 1] = { start: last.start, length: last.length + length, reason: last.reason };
  } else list.push({ start, length, reason });
}

/** Device errors on consecutive pages merge when only the address in the message differs. */
const sameCause = (a: string, b: string): boolean => a.replace(/0x[0-9a-f]+/g, '') === b.replace(/0x[0-9a-f]+/g, '');
