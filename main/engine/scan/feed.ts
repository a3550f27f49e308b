/**
 * The shared memory of a "fed" scan: one reader thread (the only scan thread holding a handle on the
 * live device) reads each chunk of a job into a ring slot, and the scan workers scan the slots.
 *
 * Why: the WinPmem driver serves one read at a time on its device (the 2.0.1 driver takes one
 * device-wide lock around each read, and closing any handle can zero-fill another handle's pages:
 * /work/shared/WINPMEM-NOTES.md §4), so N workers each with their own handle add risk and no speed.
 * One reader keeps the device busy with large sequential reads while every worker scans.
 *
 * Order: the reader fills the job's chunks in plan order, chunk k into slot k % slots; workers take
 * chunk ids from the job's cursor (protocol.ts CTRL_NEXT) as for an image, and wait until their
 * chunk's slot holds it. Since ids are taken in order and a worker holds one chunk at a time, the
 * slot the reader waits for is always held by a worker that will scan and free it: no deadlock.
 *
 * A slot is one Int32 word: SLOT_EMPTY, the chunk id it holds (k >= 0), or failedWord(k) when the
 * reader could not read chunk k at all (it reports that chunk's error itself). Words change by
 * compare-and-swap only, so a slot freed by the pool for a worker that died mid-chunk cannot free
 * a later chunk by mistake.
 */
import { pageAlignedShared } from '../util/page-aligned.js';
import type { ScanChunk } from './types.js';

export const SLOT_EMPTY = -1;
const SLOT_ALIGN = 4096;
export const failedWord = (chunk: number): number => -2 - chunk;

/** What a fed job shares between the pool, its reader and its workers. */
export interface FeedRing {
  /** Int32 per slot: SLOT_EMPTY | chunk id | failedWord(chunk id). */
  readonly words: SharedArrayBuffer;
  /** Float64 per slot: bytes of the chunk's owned range the read could not serve. */
  readonly absent: SharedArrayBuffer;
  /** Uint8 per chunk: 1 once the pool gave the chunk up (its worker died); the reader frees such a slot. */
  readonly abandoned: SharedArrayBuffer;
  /** slots × slotBytes of chunk bytes. */
  readonly data: SharedArrayBuffer;
  readonly slots: number;
  readonly slotBytes: number;
}

/**
 * Bytes per chunk of a fed scan (its default chunk size). The reader's core writes a chunk, a
 * worker's core scans it: a chunk that fits a core's L2 cache reaches the worker through the shared
 * L3, one that does not goes out to memory and back. Measured on the bench machine (2 vCPUs, L2
 * 2.5 MiB, L3 48 MiB; 4 GiB through a one-reader one-scanner ring): scanning 8 MiB slots 1.2-1.8 s,
 * 1 MiB slots 0.74-0.87 s. 1 MiB is also the device read size (device.ts DEFAULT_CHUNK).
 */
export const FED_CHUNK_SIZE = 1024 * 1024;

/** Slots per job: two per worker (one being scanned, one read ahead), plus two (all in L3 at 1 MiB). */
export const ringSlots = (workers: number): number => 2 * workers + 2;

export function createRing(chunks: readonly ScanChunk[], workers: number): FeedRing {
  // page-aligned slots: a chunk's bytes start as aligned as in a worker's own buffer (the pool-tag
  // scanner reads tag dwords through a Uint32Array only when they are 4-byte aligned)
  const slotBytes = Math.ceil(chunks.reduce((m, c) => Math.max(m, c.readEnd - c.start), 0) / SLOT_ALIGN) * SLOT_ALIGN;
  const slots = Math.max(1, Math.min(ringSlots(workers), chunks.length));
  const words = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT);
  new Int32Array(words).fill(SLOT_EMPTY);
  return {
    words,
    absent: new SharedArrayBuffer(slots * Float64Array.BYTES_PER_ELEMENT),
    abandoned: new SharedArrayBuffer(chunks.length),
    // page-aligned slots: the reader's device reads land on page boundaries (util/page-aligned.ts)
    data: pageAlignedShared(slots * slotBytes),
    slots,
    slotBytes,
  };
}

/** Free chunk `id`'s slot if it still holds it (compare-and-swap), and wake the reader. */
export function freeSlot(ring: FeedRing, words: Int32Array, bell: Int32Array, id: number): void {
  const s = id % ring.slots;
  Atomics.compareExchange(words, s, id, SLOT_EMPTY);
  Atomics.compareExchange(words, s, failedWord(id), SLOT_EMPTY);
  ringBell(bell);
}

/** The pool-wide doorbell: a worker freed a slot, or a job arrived; the reader looks for work. */
export function ringBell(bell: Int32Array): void {
  Atomics.add(bell, 0, 1);
  Atomics.notify(bell, 0);
}
