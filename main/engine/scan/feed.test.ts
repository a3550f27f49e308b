import { describe, expect, it } from 'vitest';
import { createRing, FED_CHUNK_SIZE } from './feed.js';
import { planChunks } from './plan.js';

describe('a fed scan ring', () => {
  it('starts every slot on a page boundary though chunks carry an overlap (aligned tag dwords)', () => {
    const chunks = planChunks([{ start: 0, length: 8 * FED_CHUNK_SIZE }], FED_CHUNK_SIZE, 15);
    expect(chunks[0]!.readEnd - chunks[0]!.start).toBe(FED_CHUNK_SIZE + 15);
    const ring = createRing(chunks, 2);
    expect(ring.slotBytes % 4096).toBe(0);
    expect(ring.slotBytes).toBeGreaterThanOrEqual(FED_CHUNK_SIZE + 15);
    expect(ring.slots).toBe(6);
    // a WebAssembly memory (page-aligned, util/page-aligned.ts) comes in 64 KiB pages
    expect(ring.data.byteLength).toBeGreaterThanOrEqual(ring.slots * ring.slotBytes);
    expect(ring.data.byteLength - ring.slots * ring.slotBytes).toBeLessThan(64 * 1024);
  });
});
