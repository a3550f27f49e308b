/** SHA-256 of a file or of bytes, lower-case hex; a file is streamed (an image may be 64 GiB). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { MemScopeError } from '../errors.js';

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Stream `path` through SHA-256 (1 MiB reads); an abort stops it with `cancelled`. */
export function sha256File(path: string, signal?: AbortSignal, onProgress?: (bytes: number) => void): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let size = 0;
    const stream = createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });
    stream.on('data', (chunk) => {
      const b = chunk as Buffer;
      h.update(b);
      size += b.length;
      onProgress?.(size);
    });
    stream.on('error', (e) => reject(signal?.aborted ? new MemScopeError('cancelled', `hashing ${path} cancelled`) : e));
    stream.on('end', () => resolve({ sha256: h.digest('hex'), size }));
  });
}
