/**
 * `memscope acquire (--live [--driver PATH] | <image>) --out FILE [--format raw|elf] [--resume] [--max-rate MB/s]`:
 * write every physical run to FILE (raw: offset = physical address; elf: one PT_LOAD per run) with
 * SHA-256 computed while writing, off the main thread, and a JSON sidecar FILE.json (runs,
 * unreadable pages with reasons, CR3, kernel base, build, SHA-256, tool version, times, host, driver
 * SHA-256). Progress on stderr (bytes, MB/s, time left); Ctrl-C cancels, keeping the partial file
 * and its sidecar; --resume continues it. Never overwrites a file, never writes into the image read.
 */
import type { Command } from 'commander';
import { acquireInWorker, type AcquireFormat, type AcquireStatus } from '../../engine/acquire/index.js';
import { usageError } from '../../engine/errors.js';
import { fileRef } from '../../engine/sources/source-ref.js';
import { toolVersion } from '../../engine/util/tool-version.js';
import { driverFileFacts } from '../../../native/winpmem/preflight.js';
import type { CliIo } from '../context.js';
import { cliTarget, DRIVER_OPTION, LIVE_OPTION, type LiveFlags } from '../live.js';
import type { RegisterCommand } from './index.js';

const mib = (n: number): string => (n / 2 ** 20).toFixed(0);

function progressLine(s: AcquireStatus): string {
  const left = s.secondsLeft === null ? '…' : `${Math.ceil(s.secondsLeft)} s left`;
  const bad = s.unreadablePages > 0 ? `, ${s.unreadablePages} unreadable pages` : '';
  return `acquire: ${mib(s.bytesDone)} of ${mib(s.bytesTotal)} MiB, ${s.mbPerSecond.toFixed(0)} MB/s, ${left}${bad}`;
}

interface AcquireOpts extends LiveFlags {
  out?: string;
  format?: string;
  resume?: boolean;
  maxRate?: string;
}

export const register: RegisterCommand = (program: Command, io: CliIo) => {
  program
    .command('acquire')
    .description('write physical memory (live, or an image) to a raw or ELF file with SHA-256 and a JSON sidecar')
    .argument('[image]', 'memory image to copy (or --live for this machine)')
    .option(...LIVE_OPTION)
    .option(...DRIVER_OPTION)
    .requiredOption('--out <file>', 'file to write (never overwritten); the sidecar goes to <file>.json')
    .option('--format <format>', 'raw (offset = physical address) or elf (one PT_LOAD per run)', 'raw')
    .option('--resume', 'continue an interrupted acquisition of --out (its sidecar says how far it got)')
    .option('--max-rate <MB/s>', 'limit throughput (spare a production host)')
    .action(async (image: string | undefined, opts: AcquireOpts) => {
      const format = opts.format ?? 'raw';
      if (format !== 'raw' && format !== 'elf') throw usageError(`--format must be one of raw, elf (got "${format}")`);
      const maxRate = opts.maxRate === undefined ? undefined : Number(opts.maxRate);
      if (maxRate !== undefined && !(Number.isFinite(maxRate) && maxRate > 0)) throw usageError(`--max-rate must be a positive number of MB/s (got "${opts.maxRate}")`);
      const target = cliTarget(image, opts, io);
      const ref = typeof target === 'string' ? fileRef(target) : target;
      const driverSha256 = opts.driver ? driverFileFacts(opts.driver).sha256 : null;
      const ac = new AbortController();
      const onSigint = (): void => ac.abort();
      process.once('SIGINT', onSigint);
      const tty = process.stderr.isTTY;
      let last = 0;
      try {
        const s = await acquireInWorker(
          { ref, out: opts.out!, format: format as AcquireFormat, resume: opts.resume === true, tool: { name: 'MemScope', version: toolVersion() }, driverSha256, ...(maxRate ? { maxRate: maxRate * 1e6 } : {}) },
          {
            signal: ac.signal,
            onProgress: (p) => {
              const now = Date.now();
              if (!tty || now - last < 200) return;
              last = now;
              process.stderr.write(`\r${progressLine(p)}\x1b[K`);
            },
          },
        );
        if (tty) process.stderr.write('\r\x1b[K');
        const bad = s.unreadablePages > 0 ? `; ${s.unreadablePages} pages unreadable (zero-filled, listed in the sidecar)` : '';
        io.out(`wrote ${s.file} (${s.format}, ${s.fileSize} bytes${s.resumed ? `, resumed ${s.resumed}x` : ''}) sha256 ${s.sha256}${bad}\nsidecar ${s.file}.json\n`);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
};
