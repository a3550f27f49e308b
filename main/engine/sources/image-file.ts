/**
 * A memory image file opened read-only: every format reader goes through this so no reader can
 * open an image for writing or pull a whole image into memory. Reads are positioned (pread), bounded
 * by MAX_READ, and may come back short when the file ends early (a truncated image, or a file that
 * shrank after it was opened); callers decide whether a short read is "absent" or an error.
 */
import * as fs from 'node:fs';
import { ioError, MemScopeError } from '../errors.js';
import { MAX_READ } from './physical-source.js';

export class ImageFile {
  readonly path: string;
  /** File size in bytes when opened. */
  readonly size: number;
  private fd: number | null;

  private constructor(path: string, fd: number, size: number) {
    this.path = path;
    this.fd = fd;
    this.size = size;
  }

  /** Open `path` read-only ('r': O_RDONLY); a directory, device or missing file is an io error. */
  static open(path: string): ImageFile {
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    } catch (err) {
      throw ioError(path, err);
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      if (!st.isFile()) throw new Error('not a regular file');
      return new ImageFile(path, fd, st.size);
    } catch (err) {
      fs.closeSync(fd);
      throw ioError(path, err);
    }
  }

  /**
   * Read up to `length` bytes at file `offset` into a fresh buffer; the returned buffer is shorter
   * than `length` only where the file ends.
   */
  readAt(offset: number, length: number): Buffer {
    if (length > MAX_READ) throw new MemScopeError('usage', `${this.path}: read of ${length} bytes exceeds the ${MAX_READ}-byte limit`);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new MemScopeError('usage', `${this.path}: invalid read offset ${offset} length ${length}`);
    }
    const buf = Buffer.alloc(length);
    const n = this.readInto(offset, buf, 0, length);
    return n === length ? buf : buf.subarray(0, n);
  }

  /** Fill `target[at, at+length)` from file `offset`; returns the bytes actually read (short at EOF). */
  readInto(offset: number, target: Uint8Array, at: number, length: number): number {
    const fd = this.fd;
    if (fd === null) throw new MemScopeError('io', `${this.path}: read after close`);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = fs.readSync(fd, target, at + done, length - done, offset + done);
      } catch (err) {
        throw ioError(this.path, err);
      }
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      fs.closeSync(fd);
    }
  }
}
