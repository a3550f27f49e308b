import { describe, expect, it } from 'vitest';
import { READ_WINDOW } from './chunk-loop.js';
import { abandonChunk, createRing, failedWord, RING_SLOTS, SLOT_EMPTY } from './feed.js';
import { planChunk } from './protocol.js';
import { planChunks } from './plan.js';
import { DEFAULT_CHUNK_SIZE } from './types.js';

const MiB = 1024 * 1024;

describe('a fed scan ring', () => {
  it('cuts chunks into the windows a worker scans, each reading the overlap, none past its run', () => {
    // two runs: [0, 20 MiB) and [32 MiB + 12 KiB, 33 MiB): chunks of 8 MiB, pieces of 1 MiB
    const chunks = planChunks([{ start: 0, length: 20 * MiB }, { start: 32 * MiB + 0x3000, length: MiB - 0x3000 }], DEFAULT_CHUNK_SIZE, 15);
    expect(chunks.map((c) => [c.start / MiB, c.end / MiB])).toEqual([[0, 8], [8, 16], [16, 20], [32 + 0x3000 / MiB, 33]]);
    const ring = createRing(chunks, 15);
    const pieces = new Float64Array(ring.pieces);
    const first = [...new Int32Array(ring.firstPiece)];
    expect(first).toEqual([0, 8, 16, 20, 21]);
    expect([...new Int32Array(ring.pieceChunk)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3]);
    // inner pieces read 15 bytes into the next; the last piece of a run stops at the run's end
    expect(planChunk(pieces, 0)).toEqual({ start: 0, end: READ_WINDOW, readEnd: READ_WINDOW + 15 });
    expect(planChunk(pieces, 7)).toEqual({ start: 7 * MiB, end: 8 * MiB, readEnd: 8 * MiB + 15 });
    expect(planChunk(pieces, 19)).toEqual({ start: 19 * MiB, end: 20 * MiB, readEnd: 20 * MiB });
    expect(planChunk(pieces, 20)).toEqual({ start: 32 * MiB + 0x3000, end: 33 * MiB, readEnd: 33 * MiB });
    // every owned byte in exactly one piece
    let owned = 0;
    for (let p = 0; p < 21; p++) owned += planChunk(pieces, p).end - planChunk(pieces, p).start;
    expect(owned).toBe(chunks.reduce((n, c) => n + c.end - c.start, 0));
  });

  it('starts every slot on a page boundary though pieces carry an overlap (aligned tag dwords)', () => {
    const ring = createRing(planChunks([{ start: 0, length: 64 * MiB }], DEFAULT_CHUNK_SIZE, 15), 15);
    expect(ring.slotBytes % 4096).toBe(0);
    expect(ring.slotBytes).toBeGreaterThanOrEqual(READ_WINDOW + 15);
    expect(ring.slots).toBe(RING_SLOTS);
    // a WebAssembly memory (page-aligned, util/page-aligned.ts) comes in 64 KiB pages
    expect(ring.data.byteLength).toBeGreaterThanOrEqual(ring.slots * ring.slotBytes);
    expect(ring.data.byteLength - ring.slots * ring.slotBytes).toBeLessThan(64 * 1024);
    // a small scan gets no more slots than it has pieces
    expect(createRing(planChunks([{ start: 0, length: 3 * MiB }], DEFAULT_CHUNK_SIZE, 15), 15).slots).toBe(3);
  });

  it('a scanner whose overlap is a large share of a window is handed whole chunks', () => {
    const chunks = planChunks([{ start: 0, length: 16 * MiB }], DEFAULT_CHUNK_SIZE, 128 * 1024);
    const ring = createRing(chunks, 128 * 1024);
    expect([...new Int32Array(ring.firstPiece)]).toEqual([0, 1, 2]);
    expect(ring.slotBytes).toBe(DEFAULT_CHUNK_SIZE + 128 * 1024);
  });

  it('abandoning a dead worker\'s chunk frees the slots its pieces hold, and only those', () => {
    const ring = createRing(planChunks([{ start: 0, length: 32 * MiB }], DEFAULT_CHUNK_SIZE, 0), 0);
    const words = new Int32Array(ring.words);
    // slots hold pieces 16..23 (chunk 2) and 8..15 of chunk 1 were scanned and freed; one of chunk 2 failed
    for (let p = 16; p < 24; p++) words[p % ring.slots] = p;
    words[19 % ring.slots] = failedWord(19);
    for (let p = 24; p < 32; p++) words[p % ring.slots] = SLOT_EMPTY;
    const bell = new Int32Array(new SharedArrayBuffer(4));
    abandonChunk(ring, bell, 1); // chunk 1's pieces (8..15) are no longer in their slots: nothing to free
    expect([...words].filter((w) => w !== SLOT_EMPTY)).toHaveLength(8);
    abandonChunk(ring, bell, 2);
    expect([...words].every((w) => w === SLOT_EMPTY)).toBe(true);
    expect(new Uint8Array(ring.abandoned)[2]).toBe(1);
    expect(bell[0]).toBeGreaterThan(0); // the reader was told
  });
});
