/**
 * Minimal cpio "newc" archive writer (the format the Linux kernel unpacks as an initramfs:
 * Documentation/driver-api/early-userspace/buffer-format.rst). Written here rather than shelling out
 * to cpio(1) because it lets the test create the /dev/console device node without root, and the
 * kernel needs that node to give /init a console (init/main.c console_on_rootfs).
 *
 * Each entry: 110-byte ASCII header "070701" + 13 eight-digit hex fields, the NUL-terminated name
 * padded to a 4-byte boundary (counting the header), then the data padded to 4 bytes. The archive
 * ends with the entry "TRAILER!!!".
 */
import { concatBytes } from '../../util/read-stream.js';

export type CpioEntry =
  | { readonly kind: 'dir'; readonly name: string; readonly mode?: number }
  | { readonly kind: 'file'; readonly name: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly kind: 'symlink'; readonly name: string; readonly target: string }
  | { readonly kind: 'chardev'; readonly name: string; readonly major: number; readonly minor: number; readonly mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const pad4 = (n: number): number => (4 - (n % 4)) % 4;
const field = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

function header(ino: number, mode: number, size: number, nameLength: number, rdev: { major: number; minor: number } = { major: 0, minor: 0 }): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return '070701' + [ino, mode, 0, 0, 1, 0, size, 0, 0, rdev.major, rdev.minor, nameLength, 0].map(field).join('');
}

/** The archive bytes for `entries` (parents must come before their children). */
export function buildCpioNewc(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const push = (b: Uint8Array): void => {
    parts.push(b);
    offset += b.length;
  };
  const enc = new TextEncoder();
  const record = (ino: number, mode: number, name: string, data: Uint8Array, rdev?: { major: number; minor: number }): void => {
    const nameBytes = enc.encode(name + '\0');
    push(enc.encode(header(ino, mode, data.length, nameBytes.length, rdev)));
    push(nameBytes);
    push(new Uint8Array(pad4(offset)));
    push(data);
    push(new Uint8Array(pad4(offset)));
  };
  let ino = 1;
  for (const e of entries) {
    const name = e.name.replace(/^\/+/, '');
    switch (e.kind) {
      case 'dir':
        record(ino++, S_IFDIR | (e.mode ?? 0o755), name, new Uint8Array(0));
        break;
      case 'file':
        record(ino++, S_IFREG | (e.mode ?? 0o644), name, e.data);
        break;
      case 'symlink':
        record(ino++, S_IFLNK | 0o777, name, enc.encode(e.target));
        break;
      case 'chardev':
        record(ino++, S_IFCHR | (e.mode ?? 0o600), name, new Uint8Array(0), { major: e.major, minor: e.minor });
        break;
    }
  }
  record(0, 0, 'TRAILER!!!', new Uint8Array(0));
  return concatBytes(parts, offset);
}
