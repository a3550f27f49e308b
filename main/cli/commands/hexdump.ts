/**
 * `memscope hexdump <image> (--pa <hex> | --va <hex> --dtb <hex>) [--length N]`: the classic
 * 16-bytes-per-line dump (address, hex bytes in two groups of 8, |ASCII|). Bytes that could not be
 * read (absent from the image, or not resident in the address space) print as `??`, and a note
 * after the dump says which ranges and why.
 */
import type { Command } from 'commander';
import { usageError } from '../../engine/errors.js';
import { hex, parseLength } from '../../engine/util/hex.js';
import { imageSpace } from '../../engine/session/spaces.js';
import type { CliIo } from '../context.js';
import { requireHex } from './translate.js';
import type { RegisterCommand } from './index.js';
import { cliTarget, DRIVER_OPTION, LIVE_OPTION, openTarget, type LiveFlags } from '../live.js';

/** Largest dump the command prints (64 K lines); bigger asks are almost certainly a typo. */
export const HEXDUMP_MAX = 1024 * 1024;
const DEFAULT_LENGTH = 256;
/** Physical addresses are at most 52 bits (Intel SDM 4.1.4, MAXPHYADDR <= 52). */
const PA_LIMIT = 2n ** 52n;

export interface Unreadable {
  /** Offset from the dump's start. */
  readonly offset: number;
  readonly length: number;
  readonly reason: string;
}

/** Render `data` as hex lines starting at `base`; bytes inside `unreadable` print as `??`. */
export function renderHexdump(base: bigint, data: Uint8Array, unreadable: readonly Unreadable[]): string {
  const bad = new Uint8Array(data.length);
  for (const u of unreadable) bad.fill(1, u.offset, u.offset + u.length);
  const lines: string[] = [];
  for (let off = 0; off < data.length; off += 16) {
    const hexCells: string[] = [];
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      const k = off + i;
      if (k >= data.length) { hexCells.push('  '); continue; }
      if (bad[k]) { hexCells.push('??'); ascii += '?'; continue; }
      const b = data[k]!;
      hexCells.push(b.toString(16).padStart(2, '0'));
      ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    const addr = BigInt.asUintN(64, base + BigInt(off)).toString(16).padStart(16, '0');
    lines.push(`${addr}  ${hexCells.slice(0, 8).join(' ')}  ${hexCells.slice(8).join(' ')}  |${ascii}|`);
  }
  for (const u of unreadable) {
    lines.push(`note: ${hex(BigInt.asUintN(64, base + BigInt(u.offset)))} (${u.length} bytes) unreadable: ${u.reason}`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

interface HexdumpOpts { pa?: string; va?: string; dtb?: string; length?: string }

export const register: RegisterCommand = (program: Command, io: CliIo) => {
  program
    .command('hexdump')
    .description('dump bytes at a physical address, or at a virtual address through a DTB')
    .argument('[image]', 'memory image: raw, ELF core or Windows crash dump (or --live)')
    .option(...LIVE_OPTION)
    .option(...DRIVER_OPTION)
    .option('--pa <hex>', 'physical address to start at')
    .option('--va <hex>', 'virtual address to start at (needs --dtb)')
    .option('--dtb <hex>', 'directory table base (CR3) for --va')
    .option('--length <n>', `bytes to dump, decimal or 0x hex (default ${DEFAULT_LENGTH}, at most ${HEXDUMP_MAX})`)
    .action((imageArg: string | undefined, opts: HexdumpOpts & LiveFlags) => {
      const target = cliTarget(imageArg, opts, io);
      if (opts.pa !== undefined && opts.va !== undefined) throw usageError('hexdump: give either --pa or --va, not both');
      if (opts.pa === undefined && opts.va === undefined) throw usageError('hexdump: give --pa <hex>, or --va <hex> with --dtb <hex>');
      if (opts.va !== undefined && opts.dtb === undefined) throw usageError('hexdump: --va needs --dtb <hex> (the address space to translate through)');
      if (opts.pa !== undefined && opts.dtb !== undefined) throw usageError('hexdump: --dtb applies only with --va');
      const length = opts.length === undefined ? DEFAULT_LENGTH : parseLength(opts.length);
      if (length === null || length < 1 || length > HEXDUMP_MAX) {
        throw usageError(`hexdump: --length "${opts.length}" must be a number from 1 to ${HEXDUMP_MAX} (decimal or 0x hex)`);
      }
      const va = opts.va === undefined ? null : requireHex('--va', opts.va);
      const pa = opts.pa === undefined ? null : requireHex('--pa', opts.pa);
      if (pa !== null && pa + BigInt(length) > PA_LIMIT) throw usageError(`hexdump: --pa ${hex(pa)} + ${length} bytes is beyond the 52-bit physical address space`);
      const dtb = va === null ? null : requireHex('--dtb', opts.dtb!);
      if (va !== null && va + BigInt(length) > 2n ** 64n) throw usageError(`hexdump: --va ${hex(va)} + ${length} bytes runs past the top of the address space`);
      const start = (va ?? pa)!;
      const source = openTarget(target);
      try {
        // the views' one reader (session/spaces.ts), without a session: any image, Windows or not
        const r = imageSpace(source, dtb).readUnchecked(start, length);
        io.out(renderHexdump(start, r.data, r.spans.filter((s) => !s.readable).map((s) => ({ offset: s.offset, length: s.length, reason: s.reason }))));
      } finally {
        source.close();
      }
    });
};
