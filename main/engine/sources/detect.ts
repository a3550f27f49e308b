/**
 * Open any saved memory image, choosing the reader from the file's first bytes (never from the
 * extension: a .raw may be an ELF core, a .dmp may be raw). Raw images have no magic, so "raw" is
 * what is left when no signature matches, and only for files shaped like physical memory (a whole
 * number of 4 KiB pages, at least MIN_RAW_SIZE); anything else is reported as an unknown format.
 * Formats MemScope recognises but does not read get a message saying what they are.
 */
import { formatError } from '../errors.js';
import { crashDumpFromFile } from './crashdump.js';
import { elfCoreFromFile } from './elf-core.js';
import { ImageFile } from './image-file.js';
import type { PhysicalSource } from './physical-source.js';
import { rawFromFile } from './raw.js';

export type ImageFormat = 'raw' | 'elf-core' | 'crashdump';

export interface OpenOptions {
  /** Skip detection and read the file as this format (e.g. a tiny raw test image). */
  readonly format?: ImageFormat;
}

/** Smallest file auto-detected as raw: 16 pages. Real memory is far larger; text files are not. */
export const MIN_RAW_SIZE = 64 * 1024;
const PAGE = 4096;

interface Known {
  readonly magic: readonly number[];
  readonly what: string;
}

const bytes = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** Recognised, not read: say what the file is instead of "unknown format". */
const UNSUPPORTED: readonly Known[] = [
  { magic: bytes('PAGEDUMP'), what: 'a 32-bit Windows crash dump (PAGEDUMP); only 64-bit dumps (PAGEDU64) are supported' },
  { magic: bytes('MDMP'), what: 'a user-mode minidump (MDMP), which holds no physical memory' },
  { magic: bytes('EMiL'), what: 'a LiME image, which MemScope does not read yet' },
  { magic: bytes('hibr'), what: 'a Windows hibernation file, which MemScope does not read' },
  { magic: bytes('HIBR'), what: 'a Windows hibernation file, which MemScope does not read' },
  { magic: bytes('wake'), what: 'a Windows hibernation file, which MemScope does not read' },
  { magic: bytes('WAKE'), what: 'a Windows hibernation file, which MemScope does not read' },
  { magic: bytes('KDUMP   '), what: 'a compressed kdump (makedumpfile) image, which MemScope does not read' },
  { magic: bytes('makedumpfile'), what: 'a flattened makedumpfile image, which MemScope does not read' },
  { magic: [0x45, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00], what: 'an EWF (E01) evidence container; export the raw image first' },
  { magic: [0x50, 0x4b, 0x03, 0x04], what: 'a ZIP/AFF4 container; extract the memory image first' },
  { magic: [0x1f, 0x8b], what: 'gzip-compressed; decompress it first' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], what: 'xz-compressed; decompress it first' },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], what: 'zstd-compressed; decompress it first' },
  { magic: bytes('BZh'), what: 'bzip2-compressed; decompress it first' },
  { magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: '7-Zip-compressed; extract it first' },
  // VMware suspend/snapshot state (.vmss/.vmsn): Volatility vmware.py magics, little-endian u32
  { magic: [0xd0, 0xbe, 0xd2, 0xbe], what: 'a VMware saved-state file (.vmss/.vmsn); use the .vmem beside it' },
  { magic: [0xd1, 0xba, 0xd1, 0xba], what: 'a VMware saved-state file (.vmss/.vmsn); use the .vmem beside it' },
  { magic: [0xd2, 0xbe, 0xd2, 0xbe], what: 'a VMware saved-state file (.vmss/.vmsn); use the .vmem beside it' },
  { magic: [0xd3, 0xbe, 0xd3, 0xbe], what: 'a VMware saved-state file (.vmss/.vmsn); use the .vmem beside it' },
];

const startsWith = (head: Uint8Array, magic: readonly number[]): boolean =>
  head.length >= magic.length && magic.every((b, i) => head[i] === b);

/** Decide the format of an open file from its content; throws a format error when it is none. */
function classify(file: ImageFile): ImageFormat {
  const head = file.readAt(0, 16);
  if (startsWith(head, [0x7f, 0x45, 0x4c, 0x46])) return 'elf-core';
  if (startsWith(head, bytes('PAGEDU64'))) return 'crashdump';
  for (const k of UNSUPPORTED) if (startsWith(head, k.magic)) throw formatError(file.path, `this is ${k.what}`);
  if (file.size === 0) throw formatError(file.path, 'empty file, not a memory image');
  if (file.size < MIN_RAW_SIZE) {
    // no exact size: a privileged server must not tell a client the size of /etc/shadow and the like
    throw formatError(file.path, `unknown format: no ELF core or PAGEDU64 crash dump signature, and too small for a raw image (at least ${MIN_RAW_SIZE} bytes)`);
  }
  if (file.size % PAGE !== 0) {
    throw formatError(
      file.path,
      `unknown format: no ELF core or PAGEDU64 crash dump signature, and ${file.size} bytes is not a raw image (a whole number of 4 KiB pages, at least ${MIN_RAW_SIZE} bytes)`,
    );
  }
  return 'raw';
}

/** The format `path` would be opened as (opens and closes the file). */
export function detectFormat(path: string): ImageFormat {
  const file = ImageFile.open(path);
  try {
    return classify(file);
  } finally {
    file.close();
  }
}

/** Open a saved memory image read-only as a PhysicalSource; the caller closes it. */
export function openSource(path: string, options: OpenOptions = {}): PhysicalSource {
  const file = ImageFile.open(path);
  let format: ImageFormat;
  try {
    format = options.format ?? classify(file);
  } catch (err) {
    file.close();
    throw err;
  }
  switch (format) {
    case 'elf-core':
      return elfCoreFromFile(file);
    case 'crashdump':
      return crashDumpFromFile(file);
    case 'raw':
      return rawFromFile(file);
  }
}
