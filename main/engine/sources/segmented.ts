/**
 * Shared read path for formats whose physical memory is a list of contiguous (PA, length, file
 * offset) segments: raw images (one segment), ELF cores (one per PT_LOAD) and full crash dumps (one
 * per PhysicalMemoryBlock run). Gaps between segments are absent; so is anything the file fails to
 * deliver (a file that shrank after open).
 */
import { MemScopeError } from '../errors.js';
import type { ImageFile } from './image-file.js';
import {
  MAX_READ,
  type AbsentRange,
  type PhysicalRun,
  type PhysicalSource,
  type ReadResult,
  type SourceHints,
  type SourceKind,
} from './physical-source.js';

export interface FileSegment {
  /** Physical address of the first byte. */
  readonly start: number;
  readonly length: number;
  /** Where the segment's first byte sits in the file. */
  readonly fileOffset: number;
}

/** Push an absent range, merging with the previous one when they touch. */
export function pushAbsent(list: AbsentRange[], start: number, length: number): void {
  if (length <= 0) return;
  const last = list[list.length - 1];
  if (last && last.start + last.length === start) list[list.length - 1] = { start: last.start, length: last.length + length };
  else list.push({ start, length });
}

/** Reject reads the engine never legitimately makes (negative, unsafe, or above MAX_READ). */
export function checkReadRequest(name: string, address: number, length: number): void {
  if (!Number.isSafeInteger(address) || address < 0) throw new MemScopeError('usage', `${name}: invalid physical address ${address}`);
  if (!Number.isSafeInteger(length) || length < 0) throw new MemScopeError('usage', `${name}: invalid read length ${length}`);
  if (length > MAX_READ) throw new MemScopeError('usage', `${name}: read of ${length} bytes at ${address} exceeds the ${MAX_READ}-byte limit`);
}

/**
 * Segments must already be validated: sorted by start, non-overlapping, non-empty, inside the file.
 * Adjacent segments are fine (a run split across two PT_LOADs) and are reported as separate runs.
 */
export class SegmentedSource implements PhysicalSource {
  readonly kind: SourceKind;
  readonly name: string;
  readonly size: number;
  readonly hints: SourceHints;
  private readonly file: ImageFile;
  private readonly segments: readonly FileSegment[];
  private readonly runList: readonly PhysicalRun[];

  constructor(kind: SourceKind, file: ImageFile, segments: readonly FileSegment[], hints: SourceHints = {}) {
    this.kind = kind;
    this.name = file.path;
    this.file = file;
    this.segments = segments;
    this.hints = hints;
    const last = segments[segments.length - 1];
    this.size = last ? last.start + last.length : 0;
    this.runList = segments.map((s) => ({ start: s.start, length: s.length }));
  }

  runs(): readonly PhysicalRun[] {
    return this.runList;
  }

  /** Index of the first segment whose end is above `address` (segments.length if none). */
  private firstEndingAfter(address: number): number {
    let lo = 0;
    let hi = this.segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.segments[mid]!;
      if (s.start + s.length <= address) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  read(address: number, length: number): ReadResult {
    checkReadRequest(this.name, address, length); // before allocating: length may be hostile
    const data = new Uint8Array(length);
    return { data, absent: this.fill(address, data, false) };
  }

  readInto(address: number, target: Uint8Array): readonly AbsentRange[] {
    return this.fill(address, target, true);
  }

  /** Read target.length bytes at `address` into target; `reused`: zero the absent parts (stale bytes). */
  private fill(address: number, data: Uint8Array, reused: boolean): AbsentRange[] {
    const length = data.length;
    checkReadRequest(this.name, address, length);
    const absent: AbsentRange[] = [];
    const end = address + length;
    let cursor = address;
    for (let i = this.firstEndingAfter(address); i < this.segments.length && cursor < end; i++) {
      const s = this.segments[i]!;
      if (s.start >= end) break;
      if (s.start > cursor) {
        pushAbsent(absent, cursor, s.start - cursor);
        cursor = s.start;
      }
      const take = Math.min(end, s.start + s.length) - cursor;
      const got = this.file.readInto(s.fileOffset + (cursor - s.start), data, cursor - address, take);
      if (got < take) pushAbsent(absent, cursor + got, take - got);
      cursor += take;
    }
    pushAbsent(absent, cursor, end - cursor);
    if (reused) for (const r of absent) data.fill(0, r.start - address, r.start - address + r.length);
    return absent;
  }

  close(): void {
    this.file.close();
  }
}
