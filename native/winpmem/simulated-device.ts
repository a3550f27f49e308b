/**
 * A PmemDevice that serves a memory image (any format openSource reads) through the WinPmem
 * protocol, behaving as one of the two drivers that matter (/work/shared/WINPMEM-NOTES.md, with
 * file:line references into Velocidex/WinPmem):
 *
 * - `v2.0.1` (default): the signed winpmem_x64.sys responders can load (source 8b712ab
 *   kernel/*.c). Run[20]; starts in PHYSICAL mode (winpmem.c:466); any handle may re-set the mode
 *   at any time; in PHYSICAL mode a page it cannot map comes back as zeros with success (read.c:77-80),
 *   in PTE/IOSPACE mode the read fails (STATUS_IO_DEVICE_ERROR, read.c:224-230).
 * - `head` (src/ at 1385e10, no production-signed build): Run[300]; starts in IOSPACE (the zeroed
 *   extension, winpmem.c:641); once a non-zero mode is set, any later SET_MODE is ACCESS_DENIED
 *   until the driver is reloaded (338-343), and PTE is NOT_SUPPORTED under LA57 (664-671); a read
 *   starting at PA 0 fails (read.c:75); an unmappable page fails the whole request (344-361).
 *
 * Both: GET_INFO fails with STATUS_INFO_LENGTH_MISMATCH (Win32 24) when the output buffer is smaller
 * than the struct or there are more runs than it holds, never a partial reply; NtBuildNumber carries
 * only its low 16 bits (read through a PUSHORT); WRITE_ENABLE is refused with INVALID_PARAMETER
 * (signed builds have PMEM_WRITE_ENABLED=0); successful reads are never short. A page "cannot be
 * mapped" when it is listed in `unreadablePages` or the image holds no data there. Faults can be
 * injected (doctored GET_INFO reply). Every IOCTL is recorded so tests can prove what was (never) sent.
 */
import { openSource, type OpenOptions } from '../../main/engine/sources/detect.js';
import { readIntoTarget, type PhysicalRun, type PhysicalSource } from '../../main/engine/sources/physical-source.js';
import { hex } from '../../main/engine/util/hex.js';
import type { PmemDevice } from './device.js';
import {
  encodeInfo, INFO_HEADER_SIZE, MAX_RUNS, PMEM_IOCTLS, PMEM_MODES, type PmemInfo, type PmemIoctls, RUN_SIZE, RUNS_V201,
} from './protocol.js';

const PAGE = 4096;

export interface SimulatedPmemOptions {
  /** Runs to report (MmGetPhysicalMemoryRanges); default: the image's own runs. */
  readonly runs?: readonly PhysicalRun[];
  /** GET_INFO fields; default from the image's hints (CR3, kernel base, build), else zero. */
  readonly cr3?: bigint;
  readonly kernBase?: bigint;
  /** The 64-bit NtBuildNumber field; default the image's build (the driver sends 16 bits). */
  readonly ntBuildNumber?: bigint;
  readonly ntBuildNumberAddr?: bigint;
  readonly kpcr?: readonly bigint[];
  /** Deprecated fields the real 2.x driver leaves zero; set them to test hint plumbing. */
  readonly kdbg?: bigint;
  readonly psActiveProcessHead?: bigint;
  readonly psLoadedModuleList?: bigint;
  readonly pfnDataBase?: bigint;
  /** Which driver to behave as (see above); default the signed 2.0.1. */
  readonly driver?: SimulatedDriver;
  /** Run[] capacity of the simulated driver's struct: 20 for v2.0.1, 300 for head, unless given. */
  readonly runCapacity?: number;
  /** Mode the (already loaded) driver is in when this handle opens; default the driver's own default. */
  readonly presetMode?: number;
  /** The machine uses 5-level paging: head refuses PTE mode. */
  readonly la57?: boolean;
  readonly ioctls?: PmemIoctls;
  /** Physical addresses (any byte inside) of pages whose read fails, as a page the driver cannot map. */
  readonly unreadablePages?: readonly number[];
  /** Rewrite the GET_INFO reply before it is returned (malformed-reply tests). */
  readonly tamperInfo?: (reply: Uint8Array) => Uint8Array;
  readonly openOptions?: OpenOptions;
}

export interface IoctlCall {
  readonly code: number;
  readonly input: Uint8Array;
  readonly outLength: number;
}

/** A driver-side failure, with the Win32 error the real device would leave in GetLastError. */
export class SimulatedDeviceError extends Error {
  constructor(message: string, readonly win32Error: number) {
    super(message);
    this.name = 'SimulatedDeviceError';
  }
}

const ERROR_INVALID_PARAMETER = 87;
const ERROR_BAD_LENGTH = 24; // STATUS_INFO_LENGTH_MISMATCH
const ERROR_IO_DEVICE = 1117; // STATUS_IO_DEVICE_ERROR
const ERROR_INVALID_HANDLE = 6;
const ERROR_ACCESS_DENIED = 5;
const ERROR_NOT_SUPPORTED = 50;

export type SimulatedDriver = 'v2.0.1' | 'head';

export class SimulatedPmemDevice implements PmemDevice {
  readonly name: string;
  readonly calls: IoctlCall[] = [];
  readonly driver: SimulatedDriver;
  /** Acquisition mode in force (2.0.1 starts in physical, head in iospace). */
  mode: number;
  /** Number of WRITE_ENABLE IOCTLs received (the driver toggles write mode on each). */
  writeEnableCount = 0;
  private readonly source: PhysicalSource;
  private readonly ownsSource: boolean;
  private readonly info: PmemInfo;
  private readonly capacity: number;
  private readonly ioctls: PmemIoctls;
  private readonly badPages: Set<number>;
  private readonly opts: SimulatedPmemOptions;
  private closed = false;

  constructor(source: PhysicalSource, opts: SimulatedPmemOptions = {}, ownsSource = false) {
    this.source = source;
    this.ownsSource = ownsSource;
    this.opts = opts;
    this.name = `simulated WinPmem device (${source.name})`;
    this.ioctls = opts.ioctls ?? PMEM_IOCTLS;
    this.driver = opts.driver ?? 'v2.0.1';
    this.capacity = opts.runCapacity ?? (this.driver === 'head' ? MAX_RUNS : RUNS_V201);
    this.mode = opts.presetMode ?? (this.driver === 'head' ? PMEM_MODES.iospace : PMEM_MODES.physical);
    this.badPages = new Set((opts.unreadablePages ?? []).map((pa) => Math.floor(pa / PAGE)));
    const h = source.hints;
    this.info = {
      cr3: opts.cr3 ?? h.dtb ?? 0n,
      ntBuildNumber: opts.ntBuildNumber ?? BigInt((h.buildNumber ?? 0) & 0xffff),
      kernBase: opts.kernBase ?? h.kernelBase ?? 0n,
      kdbg: opts.kdbg ?? 0n,
      kpcr: opts.kpcr ?? [],
      pfnDataBase: opts.pfnDataBase ?? 0n,
      psLoadedModuleList: opts.psLoadedModuleList ?? 0n,
      psActiveProcessHead: opts.psActiveProcessHead ?? 0n,
      ntBuildNumberAddr: opts.ntBuildNumberAddr ?? 0n,
      runs: (opts.runs ?? source.runs()).map((r) => ({ start: r.start, length: r.length })),
    };
  }

  /** Open `path` with openSource and serve it; the device owns (and closes) the source. */
  static open(path: string, opts: SimulatedPmemOptions = {}): SimulatedPmemDevice {
    const source = openSource(path, opts.openOptions);
    return new SimulatedPmemDevice(source, opts, true);
  }

  ioctl(code: number, input: Uint8Array, outLength: number): Uint8Array {
    this.checkOpen();
    this.calls.push({ code, input: input.slice(), outLength });
    if (code === this.ioctls.setMode) {
      if (input.length < 4) throw new SimulatedDeviceError('SET_MODE input shorter than a u32', ERROR_BAD_LENGTH);
      const mode = new DataView(input.buffer, input.byteOffset, 4).getUint32(0, true);
      if (!Object.values(PMEM_MODES).includes(mode as 0 | 1 | 2)) throw new SimulatedDeviceError(`invalid acquisition mode ${mode}`, ERROR_INVALID_PARAMETER);
      if (this.driver === 'head') {
        if (this.mode !== PMEM_MODES.iospace) throw new SimulatedDeviceError('the mode is already set (until the driver is reloaded)', ERROR_ACCESS_DENIED);
        if (mode === PMEM_MODES.pte && this.opts.la57) throw new SimulatedDeviceError('PTE mode is not supported under 5-level paging (LA57)', ERROR_NOT_SUPPORTED);
      }
      this.mode = mode;
      return new Uint8Array(0);
    }
    if (code === this.ioctls.getInfo) {
      const structSize = INFO_HEADER_SIZE + this.capacity * RUN_SIZE;
      if (outLength < structSize) throw new SimulatedDeviceError(`output buffer ${outLength} bytes, the info struct is ${structSize}`, ERROR_BAD_LENGTH);
      if (this.info.runs.length > this.capacity) {
        throw new SimulatedDeviceError(`${this.info.runs.length} memory runs, the struct holds ${this.capacity}`, ERROR_BAD_LENGTH);
      }
      const reply = encodeInfo(this.info, this.capacity);
      return this.opts.tamperInfo ? this.opts.tamperInfo(reply) : reply;
    }
    if (code === this.ioctls.writeEnable) {
      this.writeEnableCount++; // signed builds have PMEM_WRITE_ENABLED=0 (precompiler.h:18)
      throw new SimulatedDeviceError('write support is not built in', ERROR_INVALID_PARAMETER);
    }
    throw new SimulatedDeviceError(`invalid IOCTL ${hex(code)}`, ERROR_INVALID_PARAMETER);
  }

  readAt(pa: number, length: number): Uint8Array {
    this.checkRead(pa, length);
    const data = new Uint8Array(length);
    this.readInto(pa, data);
    return data;
  }

  /**
   * ReadFile into the caller's buffer, as the driver fills the buffer ReadFile hands it (read.c
   * copies each mapped page into the user buffer). The image's bytes are read straight into
   * `target`; pages the driver cannot map are then failed or zeroed as the driver would.
   */
  readInto(pa: number, target: Uint8Array): number {
    const length = target.length;
    this.checkRead(pa, length);
    const src = this.source;
    const absent = readIntoTarget(src, pa, target);
    if (absent.length === 0 && this.badPages.size === 0) return length;
    const unmappable = new Set(this.badPagesIn(pa, length));
    for (const a of absent) {
      for (let page = Math.floor(a.start / PAGE); page * PAGE < a.start + a.length; page++) unmappable.add(page);
    }
    if (unmappable.size === 0) return length;
    // 2.0.1 PHYSICAL copies zeros for a page it cannot map and reports success; every other
    // driver/mode fails the request at the first such page.
    if (this.driver === 'v2.0.1' && this.mode === PMEM_MODES.physical) {
      for (const page of unmappable) {
        const from = Math.max(page * PAGE, pa) - pa;
        target.fill(0, from, Math.min((page + 1) * PAGE, pa + length) - pa);
      }
      return length;
    }
    const first = Math.min(...unmappable);
    throw new SimulatedDeviceError(`cannot map physical page ${hex(first * PAGE)}`, ERROR_IO_DEVICE);
  }

  private checkRead(pa: number, length: number): void {
    this.checkOpen();
    if (!Number.isSafeInteger(pa) || pa < 0 || !Number.isSafeInteger(length) || length <= 0) {
      throw new SimulatedDeviceError(`invalid read ${pa}+${length}`, ERROR_INVALID_PARAMETER);
    }
    if (this.driver === 'head' && pa === 0) throw new SimulatedDeviceError('a read starting at physical address 0', ERROR_INVALID_PARAMETER);
  }

  private *badPagesIn(pa: number, length: number): Generator<number> {
    if (this.badPages.size === 0) return;
    for (let page = Math.floor(pa / PAGE); page * PAGE < pa + length; page++) if (this.badPages.has(page)) yield page;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsSource) this.source.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new SimulatedDeviceError('handle closed', ERROR_INVALID_HANDLE);
  }
}
