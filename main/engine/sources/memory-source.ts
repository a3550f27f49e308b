/**
 * An in-memory PhysicalSource for tests and fixtures: declared runs of "physical memory" whose
 * bytes live in a sparse map of 4 KiB pages, so a fixture can declare gigabytes (a 1 GiB large
 * page, a DTB at 0x4e312000) and only pay for the pages it writes. Unwritten bytes inside a run
 * read as zero; bytes outside every run are absent, exactly like holes in an ELF core or a crash
 * dump. kind is 'raw' and name 'memory' (or the name given) so messages read like a real image's.
 */
import { MemScopeError } from '../errors.js';
import type { AbsentRange, PhysicalRun, PhysicalSource, ReadResult, SourceHints } from './physical-source.js';
import { MAX_READ } from './physical-source.js';

const PAGE = 4096;

export interface MemorySourceOptions {
  /** Physical runs served; default one run [0, 16 MiB). Sorted and non-overlapping after construction. */
  readonly runs?: readonly PhysicalRun[];
  readonly name?: string;
  readonly hints?: SourceHints;
}

export class MemorySource implements PhysicalSource {
  readonly kind = 'raw' as const;
  readonly name: string;
  readonly size: number;
  readonly hints: SourceHints;
  private readonly runList: readonly PhysicalRun[];
  private readonly pages = new Map<number, Uint8Array>();

  constructor(options: MemorySourceOptions = {}) {
    const runs = [...(options.runs ?? [{ start: 0, length: 16 * 1024 * 1024 }])].sort((a, b) => a.start - b.start);
    let end = 0;
    for (const r of runs) {
      if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.length) || r.start < 0 || r.length <= 0) {
        throw new MemScopeError('usage', `memory source: bad run start=${r.start} length=${r.length}`);
      }
      if (r.start < end) throw new MemScopeError('usage', `memory source: run at ${r.start} overlaps the previous run`);
      end = r.start + r.length;
    }
    this.runList = runs;
    this.size = end;
    this.name = options.name ?? 'memory';
    this.hints = options.hints ?? {};
  }

  /** A source holding exactly `bytes` at physical 0 (what a raw image file of those bytes is). */
  static fromBytes(bytes: Uint8Array, name = 'memory'): MemorySource {
    const src = new MemorySource({ runs: bytes.length > 0 ? [{ start: 0, length: bytes.length }] : [], name });
    src.write(0, bytes);
    return src;
  }

  runs(): readonly PhysicalRun[] {
    return this.runList;
  }

  /** Is every byte of [address, address+length) inside a run? */
  contains(address: number, length: number): boolean {
    let a = address;
    const end = address + length;
    for (const r of this.runList) {
      if (r.start + r.length <= a) continue;
      if (r.start > a) return false;
      a = r.start + r.length;
      if (a >= end) return true;
    }
    return a >= end;
  }

  /** Store bytes at a physical address; throws when any byte falls outside the runs (a fixture bug). */
  write(address: number, bytes: Uint8Array): void {
    if (!this.contains(address, bytes.length)) {
      throw new MemScopeError('usage', `memory source: write of ${bytes.length} bytes at 0x${address.toString(16)} is outside its runs`);
    }
    let done = 0;
    while (done < bytes.length) {
      const a = address + done;
      const pageNo = Math.floor(a / PAGE);
      const off = a - pageNo * PAGE;
      const n = Math.min(PAGE - off, bytes.length - done);
      let page = this.pages.get(pageNo);
      if (!page) this.pages.set(pageNo, (page = new Uint8Array(PAGE)));
      page.set(bytes.subarray(done, done + n), off);
      done += n;
    }
  }

  /** Store a little-endian 64-bit value (a page-table entry). */
  writeU64(address: number, value: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.write(address, b);
  }

  read(address: number, length: number): ReadResult {
    if (!Number.isSafeInteger(address) || address < 0 || !Number.isSafeInteger(length) || length < 0 || length > MAX_READ) {
      throw new MemScopeError('usage', `${this.name}: bad read of ${length} bytes at ${address}`);
    }
    const data = new Uint8Array(length);
    const absent: AbsentRange[] = [];
    const end = address + length;
    const markAbsent = (start: number, stop: number): void => {
      const last = absent[absent.length - 1];
      if (last && last.start + last.length === start) absent[absent.length - 1] = { start: last.start, length: stop - last.start };
      else absent.push({ start, length: stop - start });
    };
    let a = address;
    for (const r of this.runList) {
      if (a >= end) break;
      const rEnd = r.start + r.length;
      if (rEnd <= a) continue;
      if (r.start >= end) break;
      if (r.start > a) { markAbsent(a, r.start); a = r.start; }
      const stop = Math.min(rEnd, end);
      this.copyOut(a, stop, data, address);
      a = stop;
    }
    if (a < end) markAbsent(a, end);
    return { data, absent };
  }

  close(): void {
    this.pages.clear();
  }

  private copyOut(from: number, to: number, data: Uint8Array, base: number): void {
    let a = from;
    while (a < to) {
      const pageNo = Math.floor(a / PAGE);
      const off = a - pageNo * PAGE;
      const n = Math.min(PAGE - off, to - a);
      const page = this.pages.get(pageNo);
      if (page) data.set(page.subarray(off, off + n), a - base);
      a += n;
    }
  }
}
