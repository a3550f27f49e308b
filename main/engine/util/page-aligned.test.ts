import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { pageAlignedBytes, pageAlignedShared } from './page-aligned.js';

describe('page-aligned buffers', () => {
  it('gives exactly the bytes asked for, zeroed and writable', () => {
    const b = pageAlignedBytes(1024 * 1024 + 5);
    expect(b.length).toBe(1024 * 1024 + 5);
    expect(b.every((x) => x === 0)).toBe(true);
    b[b.length - 1] = 0xab;
    expect(b[b.length - 1]).toBe(0xab);
    expect(pageAlignedBytes(0).length).toBe(0);
  });

  it('shares its bytes with a worker as any SharedArrayBuffer', async () => {
    const sab = pageAlignedShared(6 * 1024 * 1024);
    expect(sab).toBeInstanceOf(SharedArrayBuffer);
    expect(sab.byteLength).toBeGreaterThanOrEqual(6 * 1024 * 1024);
    const w = new Worker('require("node:worker_threads").parentPort.once("message", (s) => { new Uint8Array(s)[4096] = 7; require("node:worker_threads").parentPort.postMessage("done"); });', { eval: true });
    try {
      const done = new Promise((r) => w.once('message', r));
      w.postMessage(sab);
      await done;
      expect(new Uint8Array(sab)[4096]).toBe(7);
    } finally {
      await w.terminate();
    }
  });

  it('refuses sizes that are not byte counts or pass 4 GiB, naming the size', () => {
    expect(() => pageAlignedBytes(-1)).toThrow(/-1 bytes/);
    expect(() => pageAlignedBytes(1.5)).toThrow(/1.5 bytes/);
    expect(() => pageAlignedShared(2 ** 32 + 1)).toThrow(/over 4 GiB/);
  });
});
