/**
 * A memory image file opened read-only: every format reader goes through this so no reader can
 * open an image for writing or pull a whole image into memory. Reads are positioned (pread), bounded
 * by MAX_READ, and may come back short when the file ends early (a truncated image, or a file that
 * shrank after it was opened); callers decide whether a short read is "absent" or an error.
 */
import * as fs from 'node:fs';
import { isAbsolute } from 'node:path';
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

  /**
   * Open `path` read-only. What it names is checked first (lstat + stat, which never block): anything
   * but a regular file or a block device is refused with its type, so a named pipe can never block
   * open(2) until a writer comes. The open itself is O_NONBLOCK for the race where the path is
   * swapped for a pipe between the check and the open; fstat then checks the opened file again.
   */
  static open(path: string): ImageFile {
    const refuse = (reason: string, cause?: unknown) => new MemScopeError('io', `${path}: ${reason}${resolvedAgainst(path)}`, cause === undefined ? {} : { cause });
    const windows = process.platform === 'win32' ? win32DeviceReason(path) : null;
    if (windows !== null) throw refuse(windows);
    let st: fs.Stats;
    try {
      st = fs.statSync(path);
    } catch (err) {
      throw refuse(dangling(path) ?? ioReason(err), err);
    }
    const kind = notAnImage(path, st);
    if (kind !== null) throw refuse(kind);
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    } catch (err) {
      throw refuse(ioReason(err), err);
    }
    try {
      const now = fs.fstatSync(fd);
      const swapped = notAnImage(path, now);
      if (swapped !== null) throw refuse(swapped);
      return new ImageFile(path, fd, now.isBlockDevice() ? blockDeviceSize(path, now) : now.size);
    } catch (err) {
      fs.closeSync(fd);
      throw err instanceof MemScopeError ? err : refuse(ioReason(err), err);
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

/** Filesystems whose files are kernel interfaces, not data (statfs f_type): reading them is not reading an image. */
const PSEUDO_FS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, '/proc'], // PROC_SUPER_MAGIC
  [0x62656572, '/sys'], // SYSFS_MAGIC
  [0x64626720, 'debugfs'], // DEBUGFS_MAGIC
  [0x74726163, 'tracefs'], // TRACEFS_MAGIC
]);

/** Why `st` (what `path` names, links followed) is not a memory image, or null when it may be one. */
function notAnImage(path: string, st: fs.Stats): string | null {
  if (st.isFIFO()) return 'is a named pipe (FIFO), not a memory image';
  if (st.isCharacterDevice()) return 'is a character device, not a memory image';
  if (st.isSocket()) return 'is a socket, not a memory image';
  if (st.isDirectory()) return 'is a directory, not an image file'; // as ioError has always said
  if (!st.isFile() && !st.isBlockDevice()) return 'is not a regular file, not a memory image';
  if (process.platform === 'linux') {
    let fsType: number | null = null;
    try { fsType = fs.statfsSync(path).type; } catch { /* no statfs: the format check still applies */ }
    const pseudo = fsType === null ? undefined : PSEUDO_FS.get(fsType);
    if (pseudo !== undefined) return `is a ${pseudo} pseudo-file, not a memory image`;
  }
  return null;
}

/**
 * Why a Win32 path in the device namespace (`\\.\…`, `\\?\GLOBALROOT\…`) is not an image file, or
 * null for an ordinary path (a drive path, a UNC share, a `\\?\C:\…` long-path prefix). Named
 * pipes and raw devices are not files: opening one can block or read a live disk.
 */
export function win32DeviceReason(path: string): string | null {
  const p = path.replace(/\//g, '\\');
  if (/^\\\\[.?]\\pipe\\/i.test(p)) return 'is a Windows named pipe, not a memory image';
  if (/^\\\\\.\\/.test(p) || /^\\\\\?\\(?![A-Za-z]:\\|UNC\\)/i.test(p)) return 'is a Windows device path, not a memory image (live memory: open it with --live)';
  return null;
}

/** Size of a block device: fstat says 0, Linux says it in /sys/dev/block/MAJ:MIN/size (512-byte sectors). */
function blockDeviceSize(path: string, st: fs.Stats): number {
  const major = ((st.rdev >> 8) & 0xfff) | (Math.floor(st.rdev / 2 ** 32) & ~0xfff);
  const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
  let sectors = NaN;
  try { sectors = Number(fs.readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'utf8').trim()); } catch { /* not Linux, or no sysfs */ }
  if (!Number.isSafeInteger(sectors) || sectors <= 0) throw new MemScopeError('io', `${path}: is a block device whose size cannot be read${resolvedAgainst(path)}`);
  return sectors * 512;
}

/** A symbolic link whose target does not exist: say so, naming the target (stat alone says "no such file"). */
function dangling(path: string): string | null {
  try {
    if (!fs.lstatSync(path).isSymbolicLink()) return null;
    return `is a symbolic link to ${fs.readlinkSync(path)}, which does not exist`;
  } catch {
    return null;
  }
}

/**
 * The OS's refusal in words. A file the OS will not let us read "cannot be read": nothing else about
 * it (its size, its type) is said, since stat works on files their reader may not open.
 */
function ioReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return ioError('', err).message.replace(/^: /, '');
}

/** For a relative path, the directory it was resolved against (the server's, which its user may not know). */
function resolvedAgainst(path: string): string {
  return isAbsolute(path) ? '' : ` (relative to ${process.cwd()})`;
}
