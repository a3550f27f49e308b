/**
 * ImageFile.open refuses what is not a memory image before any blocking open: a named pipe (which
 * would block open(2) until a writer came), a character device, a socket, a directory, a /proc or
 * /sys pseudo-file, a dangling link — one line naming the path and its type. A block device opens
 * with its real size; an unreadable file says only that it cannot be read (no size); a relative
 * path's error names the directory it was resolved against.
 *
 * The FIFO cases have a safety valve (testing/fifo.ts): a regressed, blocking open fails on its
 * message instead of hanging the runner.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { makeTempDir, removeTempDir } from '../sample/writers/testing.js';
import { openSource } from './detect.js';
import { ImageFile, win32DeviceReason } from './image-file.js';
import { fifoWithValve } from './testing/fifo.js';

let dir: string;
const valves: { stop: () => void }[] = [];
beforeAll(() => { dir = makeTempDir('memscope-image-file-'); });
afterAll(() => {
  for (const v of valves) v.stop();
  removeTempDir(dir);
});

function refusal(path: string): MemScopeError {
  try {
    ImageFile.open(path).close();
  } catch (e) {
    if (e instanceof MemScopeError) return e;
    throw e;
  }
  throw new Error(`${path} opened`);
}

const fifo = (path: string): { fired: () => boolean } => { const v = fifoWithValve(path); valves.push(v); return v; };

describe('ImageFile.open: what it refuses, before opening', () => {
  it('a named pipe: one line naming the path and its type, without waiting for a writer', () => {
    const pipe = join(dir, 'evidence.raw');
    const valve = fifo(pipe);
    const e = refusal(pipe);
    expect(valve.fired()).toBe(false); // refused without waiting for a writer
    expect(e.kind).toBe('io');
    expect(e.message).toBe(`${pipe}: is a named pipe (FIFO), not a memory image`);
  });

  it('a character device (/dev/zero)', () => {
    expect(refusal('/dev/zero').message).toBe('/dev/zero: is a character device, not a memory image');
  });

  it('a directory', () => {
    const d = join(dir, 'folder.raw');
    mkdirSync(d);
    expect(refusal(d).message).toBe(`${d}: is a directory, not an image file`);
  });

  it('a socket', async () => {
    const sock = join(dir, 'mem.sock');
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(sock, () => r()));
    try {
      expect(refusal(sock).message).toBe(`${sock}: is a socket, not a memory image`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('/proc/self/mem: a kernel pseudo-file, not a memory image', () => {
    expect(refusal('/proc/self/mem').message).toBe('/proc/self/mem: is a /proc pseudo-file, not a memory image');
    expect(refusal('/proc/self/status').message).toBe('/proc/self/status: is a /proc pseudo-file, not a memory image');
  });

  it('a dangling symbolic link names its target', () => {
    const link = join(dir, 'dangling.raw');
    symlinkSync(join(dir, 'gone.raw'), link);
    expect(refusal(link).message).toBe(`${link}: is a symbolic link to ${join(dir, 'gone.raw')}, which does not exist`);
  });

  it('a symbolic link to a FIFO is refused as the FIFO it points to', () => {
    const pipe = join(dir, 'pipe2');
    fifo(pipe);
    const link = join(dir, 'link-to-pipe.raw');
    symlinkSync(pipe, link);
    expect(refusal(link).message).toBe(`${link}: is a named pipe (FIFO), not a memory image`);
  });

  it('Windows device-namespace paths (pipes, raw disks) are refused by name on Windows', () => {
    expect(win32DeviceReason('\\\\.\\pipe\\evil')).toBe('is a Windows named pipe, not a memory image');
    expect(win32DeviceReason('//./pipe/evil')).toBe('is a Windows named pipe, not a memory image');
    expect(win32DeviceReason('\\\\.\\PhysicalDrive0')).toBe('is a Windows device path, not a memory image (live memory: open it with --live)');
    expect(win32DeviceReason('\\\\?\\GLOBALROOT\\Device\\PhysicalMemory')).toBe('is a Windows device path, not a memory image (live memory: open it with --live)');
    expect(win32DeviceReason('C:\\cases\\mem.raw')).toBeNull();
    expect(win32DeviceReason('\\\\?\\C:\\cases\\mem.raw')).toBeNull(); // a long-path prefix names a file
    expect(win32DeviceReason('\\\\server\\share\\mem.raw')).toBeNull();
  });
});

describe('ImageFile.open: what it opens, and what its errors say', () => {
  it('a regular file opens with its size', () => {
    const p = join(dir, 'small.raw');
    writeFileSync(p, Buffer.alloc(8192, 1));
    const f = ImageFile.open(p);
    try {
      expect(f.size).toBe(8192);
      expect(f.readAt(0, 4)).toEqual(Buffer.from([1, 1, 1, 1]));
    } finally { f.close(); }
  });

  const disk = ['/dev/vda', '/dev/sda', '/dev/nvme0n1', '/dev/loop0'].find((d) => {
    try { // a container may list a disk it may not open (EPERM): only one this process can read
      closeSync(openSync(d, 'r'));
      return statSync(d).isBlockDevice() && Number(readFileSync(`/sys/dev/block/${devNumber(d)}/size`, 'utf8')) > 0;
    } catch { return false; }
  });
  it.skipIf(disk === undefined)(`a block device opens read-only with its real size (${disk ?? 'none on this machine'})`, () => {
    const f = ImageFile.open(disk!);
    try {
      expect(f.size).toBe(Number(readFileSync(`/sys/dev/block/${devNumber(disk!)}/size`, 'utf8')) * 512);
      expect(f.readAt(0, 16)).toHaveLength(16);
    } finally { f.close(); }
  });

  it('an unreadable file says it cannot be read, never its size', () => {
    const secret = join(dir, 'secret.raw');
    writeFileSync(secret, Buffer.alloc(631, 7));
    chmodSync(secret, 0o000);
    chmodSync(dir, 0o755);
    // root reads anything: run the open as nobody when we are root
    const asNobody = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');
    const message = asNobody
      ? execFileSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '-e', openScript(secret)], { cwd: process.cwd(), encoding: 'utf8' }).trim()
      : refusal(secret).message;
    expect(message).toBe(`${secret}: cannot be read (permission denied)`);
    expect(message).not.toMatch(/631/);
  });

  it('a small file that is not an image (as /etc/shadow to a privileged server): its size is not told', () => {
    const shadow = join(dir, 'shadow');
    writeFileSync(shadow, 'root:*:19000:0:99999:7:::\n'.repeat(20));
    const e = (() => { try { openSource(shadow).close(); } catch (err) { return err as MemScopeError; } throw new Error('opened'); })();
    expect(e.message).toBe(`${shadow}: unknown format: no ELF core or PAGEDU64 crash dump signature, and too small for a raw image (at least 65536 bytes)`);
    expect(e.message).not.toContain(String(statSync(shadow).size));
  });

  it("a relative path's error names the directory it was resolved against", () => {
    const e = refusal(join('no-such-dir', 'nope.raw'));
    expect(e.message).toBe(`${join('no-such-dir', 'nope.raw')}: no such file (relative to ${process.cwd()})`);
  });
});

/** major:minor of a device node, as /sys/dev/block names it (Linux's dev_t encoding). */
function devNumber(path: string): string {
  const rdev = statSync(path).rdev;
  const major = ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff;
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return `${major}:${minor}`;
}

function openScript(path: string): string {
  const mod = new URL('./image-file.ts', import.meta.url).pathname;
  return `import(${JSON.stringify(mod)}).then(({ ImageFile }) => { try { ImageFile.open(${JSON.stringify(path)}); console.log('opened'); } catch (e) { console.log(e.message); } });`;
}
