/**
 * A PmemDevice that serves a memory image (any format openSource reads) through the WinPmem
 * protocol, behaving as the driver does (kernel/winpmem.c, kernel/read.c in Velocidex/WinPmem):
 * SET_MODE takes a u32 mode 0..2; GET_INFO fails when the output buffer is smaller than the
 * driver's struct or the machine has more runs than the struct holds, and otherwise returns the
 * struct byte-for-byte (runs, CR3, NtBuildNumber, KernBase, NtBuildNumberAddr; the deprecated
 * fields zero unless given); a read of a page the driver cannot map fails as a whole
 * (STATUS_IO_DEVICE_ERROR). Faults can be injected: unreadable pages, short reads, a doctored
 * GET_INFO reply. It records every IOCTL so tests can prove what was (never) sent.
 */
import { openSource, type OpenOptions } from '../../main/engine/sources/detect.js';
import type { PhysicalRun, PhysicalSource } from '../../main/engine/sources/physical-source.js';
import { hex } from '../../main/engine/util/hex.js';
import type { PmemDevice } from './device.js';
import {
  encodeInfo, INFO_HEADER_SIZE, PMEM_IOCTLS, PMEM_MODES, type PmemInfo, type PmemIoctls, RUN_SIZE,
} from './protocol.js';

const PAGE = 4096;

export interface SimulatedPmemOptions {
  /** Runs to report (MmGetPhysicalMemoryRanges); default: the image's own runs. */
  readonly runs?: readonly PhysicalRun[];
  /** GET_INFO fields; default from the image's hints (CR3, kernel base, build), else zero. */
  readonly cr3?: bigint;
  readonly kernBase?: bigint;
  /** Full NtBuildNumber value; default 0xF0000000 | hints.buildNumber. */
  readonly ntBuildNumber?: bigint;
  readonly ntBuildNumberAddr?: bigint;
  readonly kpcr?: readonly bigint[];
  /** Deprecated fields the real 2.x driver leaves zero; set them to test hint plumbing. */
  readonly kdbg?: bigint;
  readonly psActiveProcessHead?: bigint;
  readonly psLoadedModuleList?: bigint;
  readonly pfnDataBase?: bigint;
  /** Run[] capacity of the simulated driver's struct: 20 as in driver 2.x (default), up to 100. */
  readonly runCapacity?: number;
  readonly ioctls?: PmemIoctls;
  /** Physical addresses (any byte inside) of pages whose read fails, as a page the driver cannot map. */
  readonly unreadablePages?: readonly number[];
  /** Most bytes one read returns (short reads); default unlimited. */
  readonly maxReadBytes?: number;
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

export class SimulatedPmemDevice implements PmemDevice {
  readonly name: string;
  readonly calls: IoctlCall[] = [];
  /** Acquisition mode last set (the driver starts in physical mode). */
  mode: number = PMEM_MODES.physical;
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
    this.capacity = opts.runCapacity ?? 20;
    this.badPages = new Set((opts.unreadablePages ?? []).map((pa) => Math.floor(pa / PAGE)));
    const h = source.hints;
    this.info = {
      cr3: opts.cr3 ?? h.dtb ?? 0n,
      ntBuildNumber: opts.ntBuildNumber ?? (h.buildNumber !== undefined ? 0xf0000000n | BigInt(h.buildNumber) : 0n),
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
      this.writeEnableCount++;
      return new Uint8Array(0);
    }
    throw new SimulatedDeviceError(`invalid IOCTL ${hex(code)}`, ERROR_INVALID_PARAMETER);
  }

  readAt(pa: number, length: number): Uint8Array {
    this.checkOpen();
    if (!Number.isSafeInteger(pa) || pa < 0 || !Number.isSafeInteger(length) || length <= 0) {
      throw new SimulatedDeviceError(`invalid read ${pa}+${length}`, ERROR_INVALID_PARAMETER);
    }
    const want = Math.min(length, this.opts.maxReadBytes ?? length);
    // The driver maps page by page and fails the whole request on the first page it cannot map.
    for (let page = Math.floor(pa / PAGE); page * PAGE < pa + want; page++) {
      if (this.badPages.has(page)) throw new SimulatedDeviceError(`cannot map physical page ${hex(page * PAGE)}`, ERROR_IO_DEVICE);
    }
    return this.source.read(pa, want).data;
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
