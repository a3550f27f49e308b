/**
 * Test support for image readers and writers: a deterministic byte pattern that differs on every
 * page and offset (so a read from the wrong file offset or page is caught), and temp-file helpers.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type MemoryContent, type MemoryRun } from './content.js';

/** The pattern byte at physical address `pa`: mixes the page number and the offset. */
export function patternByte(pa: number): number {
  const pfn = Math.floor(pa / 4096);
  return (Math.imul((pa % 4096) + 1, 0x9e3779b1) >>> 24) ^ (Math.imul(pfn + 7, 0x85ebca6b) >>> 16) & 0xff;
}

/** Expected bytes for [pa, pa+length) under the pattern. */
export function patternBytes(pa: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = patternByte(pa + i) & 0xff;
  return out;
}

/** Content holding the pattern on `runs` (streamed page by page, nothing kept in memory). */
export function patternContent(runs: readonly MemoryRun[]): MemoryContent {
  return { runs, fill: (pa, out) => out.set(patternBytes(pa, out.length)) };
}

/** A fresh temp directory under os.tmpdir(); remove it with removeTempDir. */
export function makeTempDir(prefix = 'memscope-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
