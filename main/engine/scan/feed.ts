/**
 * The shared memory of a "fed" scan: one reader thread (the only scan thread holding a handle on the
 * live device) reads each chunk of a job into ring slots, and the scan workers scan the slots.
 *
 * Why: the WinPmem driver serves one read at a time on its device (the 2.0.1 driver takes one
 * device-wide lock around each read, and closing any handle can zero-fill another handle's pages:
 * /work/shared/WINPMEM-NOTES.md §4), so N workers each with their own handle add risk and no speed.
 * One reader keeps the device busy with large sequential reads while every worker scans.
 *
 * Chunks and pieces: workers take chunks (the unit of work, as for an image: one 'done' message
 * each) from the job's cursor (protocol.ts CTRL_NEXT); the reader hands each chunk over in pieces,
 * the windows a worker scans (chunk-loop.ts chunkWindows, 1 MiB), one piece per slot. A 1 MiB
 * piece passes from the reader's core to a worker's through the shared L3 cache; a whole 8 MiB
 * chunk would go out to memory and back, and 1 MiB chunks cost the main thread a message per MiB
 * (measured on the 4 GiB bench image: 4096 'done' messages took the workers ~130 ms per scan).
 *
 * Order: the reader fills pieces in plan order, piece p into slot p % slots; a worker scans its
 * chunk's pieces in order. Since chunks are taken in order, a worker holds one chunk at a time and
 * the reader waits only for a slot whose piece comes before the one it fills, that piece is in a
 * chunk some worker holds (and will free) or will take: no deadlock, whatever the ring size.
 *
 * A slot is one Int32 word: SLOT_EMPTY, the piece it holds (p >= 0), or failedWord(p) when the
 * reader could not read piece p (it reports its chunk's error itself). Words change by
 * compare-and-swap only, so a slot freed by the pool for a worker that died mid-chunk cannot free
 * a later piece by mistake.
 *
 * Wake-ups: a cross-CPU wake costs 50-200 µs on the bench VM, about what reading a piece does, so a
 * worker that caught up with the reader does not wake per piece: it asks for its piece (WANT) and
 * the reader wakes it once WAKE_LEAD pieces are in, or sooner when the reader itself stops.
 */
import { pageAlignedShared } from '../util/page-aligned.js';
import { chunkWindows, windowSize, type ChunkResult, type ChunkScanner } from './chunk-loop.js';
import { encodePlan } from './protocol.js';
import type { ScanChunk, ScanHit } from './types.js';

export const SLOT_EMPTY = -1;
const SLOT_ALIGN = 4096;
export const failedWord = (piece: number): number => -2 - piece;

/** Progress block (Int32): pieces filled so far (in order), and the lowest piece a sleeping worker waits for. */
export const PROGRESS_FILLED = 0;
export const PROGRESS_WANT = 1;
export const NO_WANT = 0x7fffffff;

/** Slots per job: room for the reader to run WAKE_LEAD pieces ahead of a sleeping worker, and as much again. */
export const RING_SLOTS = 16;
/** Pieces the reader fills past the one a sleeping worker asked for before it wakes it. */
export const WAKE_LEAD = 8;

/** What a fed job shares between the pool, its reader and its workers. */
export interface FeedRing {
  /** Int32 per slot: SLOT_EMPTY | piece | failedWord(piece). */
  readonly words: SharedArrayBuffer;
  /** Float64 per slot: bytes of the piece's owned range the read could not serve. */
  readonly absent: SharedArrayBuffer;
  /** Uint8 per chunk: 1 once the pool gave the chunk up (its worker died); the reader frees such a slot. */
  readonly abandoned: SharedArrayBuffer;
  /** The pieces in plan order, encoded as a job's plan is (protocol.ts encodePlan: read with planChunk). */
  readonly pieces: SharedArrayBuffer;
  /** Int32 per chunk + 1: the chunk's first piece (the last entry: the number of pieces). */
  readonly firstPiece: SharedArrayBuffer;
  /** Int32 per piece: its chunk. */
  readonly pieceChunk: SharedArrayBuffer;
  /** Int32 × 2: PROGRESS_FILLED, PROGRESS_WANT. */
  readonly progress: SharedArrayBuffer;
  /** slots × slotBytes of piece bytes. */
  readonly data: SharedArrayBuffer;
  readonly slots: number;
  readonly slotBytes: number;
}

/** A job's chunks cut into the pieces the reader hands over: the windows a worker's ChunkScanner scans them in. */
export function createRing(chunks: readonly ScanChunk[], overlap: number): FeedRing {
  const window = windowSize(overlap);
  const cut = chunks.map((c) => chunkWindows(c, window, overlap));
  const all = cut.flat();
  const firstPiece = new Int32Array(new SharedArrayBuffer((chunks.length + 1) * Int32Array.BYTES_PER_ELEMENT));
  const pieceChunk = new Int32Array(new SharedArrayBuffer(all.length * Int32Array.BYTES_PER_ELEMENT));
  let p = 0;
  cut.forEach((list, k) => {
    firstPiece[k] = p;
    pieceChunk.fill(k, p, p + list.length);
    p += list.length;
  });
  firstPiece[chunks.length] = p;
  const longest = all.reduce((m, w) => Math.max(m, w.readEnd - w.start), 0);
  // page-aligned slots: a piece's bytes start as aligned as in a worker's own buffer (the pool-tag
  // scanner reads tag dwords through a Uint32Array only when they are 4-byte aligned), and the
  // reader's device reads land on page boundaries (util/page-aligned.ts)
  const slotBytes = Math.ceil(longest / SLOT_ALIGN) * SLOT_ALIGN;
  const slots = Math.max(1, Math.min(RING_SLOTS, all.length));
  const words = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT);
  new Int32Array(words).fill(SLOT_EMPTY);
  const progress = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  progress[PROGRESS_WANT] = NO_WANT;
  return {
    words,
    absent: new SharedArrayBuffer(slots * Float64Array.BYTES_PER_ELEMENT),
    abandoned: new SharedArrayBuffer(chunks.length),
    pieces: encodePlan(all),
    firstPiece: firstPiece.buffer as SharedArrayBuffer,
    pieceChunk: pieceChunk.buffer as SharedArrayBuffer,
    progress: progress.buffer as SharedArrayBuffer,
    data: pageAlignedShared(slots * slotBytes),
    slots,
    slotBytes,
  };
}

/** A ring's shared memory as the typed views its reader and workers work on. */
export interface RingViews {
  readonly ring: FeedRing;
  readonly words: Int32Array;
  readonly absent: Float64Array;
  readonly abandoned: Uint8Array;
  readonly pieces: Float64Array;
  readonly firstPiece: Int32Array;
  readonly pieceChunk: Int32Array;
  readonly progress: Int32Array;
  readonly data: Uint8Array;
}

export function ringViews(ring: FeedRing): RingViews {
  return {
    ring, words: new Int32Array(ring.words), absent: new Float64Array(ring.absent), abandoned: new Uint8Array(ring.abandoned),
    pieces: new Float64Array(ring.pieces), firstPiece: new Int32Array(ring.firstPiece), pieceChunk: new Int32Array(ring.pieceChunk),
    progress: new Int32Array(ring.progress), data: new Uint8Array(ring.data),
  };
}

/** The bytes of piece `p` (geometry `c`) in its slot. */
export function slotData(v: RingViews, p: number, c: ScanChunk): Uint8Array {
  const at = (p % v.ring.slots) * v.ring.slotBytes;
  return v.data.subarray(at, at + (c.readEnd - c.start));
}

/**
 * One chunk's result as its pieces are scanned, by a worker or the reader. A scanner that throws
 * stops the scanning, not the pass over the pieces: the rest are still taken off the ring (a piece
 * left in its slot, or filled for nobody, would stop the reader).
 */
export class ChunkTally {
  private readonly hits: ScanHit[] = [];
  private absentBytes = 0;
  /** A piece the reader could not read (it reported the chunk's error itself). */
  failed = false;
  /** What the scanner threw, once it did. */
  thrown: { readonly error: unknown } | null = null;

  scan(scanner: ChunkScanner<ScanHit>, piece: ScanChunk, data: Uint8Array, absent: number): void {
    if (this.thrown) return;
    try {
      const r = scanner.scanFilled(piece, data, absent);
      for (const h of r.hits) this.hits.push(h);
      this.absentBytes += r.absentBytes;
    } catch (error) {
      this.thrown = { error };
    }
  }

  /** The chunk's hits, or null when a piece failed or the scanner threw. */
  result(): ChunkResult<ScanHit> | null {
    return this.failed || this.thrown ? null : { hits: this.hits, absentBytes: this.absentBytes };
  }
}

/** Free piece `p`'s slot if it still holds it (compare-and-swap), and wake the reader. */
export function freeSlot(ring: FeedRing, words: Int32Array, bell: Int32Array, p: number): void {
  const s = p % ring.slots;
  Atomics.compareExchange(words, s, p, SLOT_EMPTY);
  Atomics.compareExchange(words, s, failedWord(p), SLOT_EMPTY);
  ringBell(bell);
}

/** Give chunk `k` up (its worker died): the reader skips its unread pieces, and its slots are freed. */
export function abandonChunk(ring: FeedRing, bell: Int32Array, k: number): void {
  const v = ringViews(ring);
  Atomics.store(v.abandoned, k, 1);
  for (let p = v.firstPiece[k]!; p < v.firstPiece[k + 1]!; p++) freeSlot(ring, v.words, bell, p);
}

/** The pool-wide doorbell: a worker freed a slot, or a job arrived; the reader looks for work. */
export function ringBell(bell: Int32Array): void {
  Atomics.add(bell, 0, 1);
  Atomics.notify(bell, 0);
}
