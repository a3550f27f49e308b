import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage } from '../acquire/writers/index.js';
import { makeTempDir, patternContent, removeTempDir } from '../acquire/writers/testing.js';
import { openSource } from './detect.js';
import { MemorySource } from './memory-source.js';
import { MeteredSource } from './metered.js';
import { withPageCache } from './page-cache.js';

let dir: string;
let image: string;
// ELF runs that start and end mid-page, so cached pages hold partial absent ranges
const RUNS = [{ start: 0x800, length: 0x3000 }, { start: 0x5400, length: 0x2a00 }];
beforeAll(() => {
  dir = makeTempDir('memscope-cache-');
  image = path.join(dir, 'c.elf');
  writeImage(image, 'elf-core', patternContent(RUNS));
});
afterAll(() => removeTempDir(dir));

describe('page cache', () => {
  it('returns exactly what the uncached source returns, absent ranges included', () => {
    const plain = openSource(image);
    const cached = withPageCache(openSource(image), { maxPages: 3 });
    try {
      // a deterministic spread of reads: small, page-straddling, hole-straddling, past the end, bypass-sized
      let seed = 12345;
      const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
      for (let i = 0; i < 2000; i++) {
        const addr = rnd(0x9000);
        const len = i % 100 === 0 ? 0x11000 + rnd(0x100) : 1 + rnd(0x1800);
        const a = cached.read(addr, len);
        const b = plain.read(addr, len);
        const what = `read 0x${addr.toString(16)}+0x${len.toString(16)}`;
        expect(Buffer.from(a.data).equals(Buffer.from(b.data)), what).toBe(true);
        expect(a.absent, what).toEqual(b.absent);
      }
      expect(cached.cachedPages).toBeLessThanOrEqual(3);
      expect(cached.hits).toBeGreaterThan(0);
    } finally {
      plain.close();
      cached.close();
    }
  });

  it('spares the file: repeated small reads of the same pages hit the cache', () => {
    const meter = new MeteredSource(openSource(image));
    const cached = withPageCache(meter, { maxPages: 2 });
    try {
      for (let i = 0; i < 1000; i++) cached.read(0x1000 + (i % 512) * 8, 8);
      expect(meter.readCalls).toBe(1);
      expect(meter.bytesRead).toBe(0x1000);
      // LRU: touching a third page evicts the least recently used one
      cached.read(0x2000, 8); // miss
      cached.read(0x1000, 8); // hit, now most recent
      cached.read(0x5000, 8); // miss, evicts 0x2000
      cached.read(0x1000, 8); // hit
      cached.read(0x2000, 8); // miss again
      expect(meter.readCalls).toBe(4);
      // bulk reads bypass the cache and do not evict
      cached.read(0, 0x11000);
      expect(meter.readCalls).toBe(5);
      cached.read(0x2000, 8);
      expect(meter.readCalls).toBe(5);
    } finally { cached.close(); }
  });

  it('forget() drops just the pages it names: the next read of those goes to the source, the rest stay cached', () => {
    const bytes = new Uint8Array(8 * 4096).map((_, i) => i & 0xff);
    const meter = new MeteredSource(MemorySource.fromBytes(bytes, 'forget.raw'));
    const cached = withPageCache(meter);
    for (let p = 0; p < 4; p++) cached.read(p * 4096, 8);
    expect(meter.readCalls).toBe(4);
    cached.forget(0x1ff8, 16); // the last bytes of page 1 and the first of page 2
    expect(cached.cachedPages).toBe(2);
    expect(cached.read(0x1000, 8192).data).toEqual(bytes.subarray(0x1000, 0x3000));
    expect(meter.readCalls).toBe(6);
    cached.read(0, 8);
    cached.read(0x3000, 8);
    expect(meter.readCalls).toBe(6);
  });
});
