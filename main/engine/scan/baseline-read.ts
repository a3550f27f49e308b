/**
 * The yardstick for "psscan ≤ 1.5× a plain sequential read" (issue 7): read a file front to back
 * with one reusable buffer of the scan's chunk size, touching nothing else. Same chunk size as the
 * scan so the two differ only by the scanning work and the worker machinery.
 */
import * as fs from 'node:fs';
import { ioError } from '../errors.js';
import { pageAlignedBytes } from '../util/page-aligned.js';
import { DEFAULT_CHUNK_SIZE } from './types.js';

export interface BaselineReadResult {
  readonly bytes: number;
  readonly ms: number;
  /** Bytes per second. */
  readonly rate: number;
}

export function sequentialReadBaseline(path: string, chunkSize: number = DEFAULT_CHUNK_SIZE): BaselineReadResult {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    throw ioError(path, err);
  }
  // page-aligned, as dd's: the fastest plain read, so no scan is measured against a slowed baseline
  const buf = pageAlignedBytes(chunkSize);
  const t0 = performance.now();
  let bytes = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, chunkSize, bytes);
      if (n === 0) break;
      bytes += n;
    }
  } catch (err) {
    throw ioError(path, err);
  } finally {
    fs.closeSync(fd);
  }
  const ms = performance.now() - t0;
  return { bytes, ms, rate: ms > 0 ? (bytes * 1000) / ms : Infinity };
}
