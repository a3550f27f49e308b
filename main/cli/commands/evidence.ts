/**
 * `memscope evidence (<image> | --live [--driver PATH]) --out DIR [--inside-image-folder]`: the
 * evidence bundle (engine/evidence/bundle.ts) — every table, report, the timeline, manifest.json and
 * SHA256SUMS. Live memory opens as every other `--live` command does (cli/live.ts: the same one-line
 * refusal off Windows; MEMSCOPE_SIMULATED_PMEM serves an image through the simulated driver); its
 * manifest records the live host, device, driver and GET_INFO facts, and no image SHA-256.
 * Ctrl-C cancels it; a bundle cut short says so in its manifest.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MemScopeError, usageError } from '../../engine/errors.js';
import { writeEvidenceBundle } from '../../engine/evidence/bundle.js';
import { driverFileFacts } from '../../../native/winpmem/preflight.js';
import { cliTarget, DRIVER_OPTION, LIVE_OPTION, type LiveFlags } from '../live.js';
import type { RegisterCommand } from './index.js';

export const register: RegisterCommand = (program, io) => {
  program
    .command('evidence')
    .description('write an evidence bundle: tables, DTB and discovery reports, timeline, manifest.json, SHA256SUMS')
    .argument('[image]', 'memory image: raw, ELF core or Windows crash dump (or --live)')
    .requiredOption('--out <dir>', 'a new (or empty) folder to write the bundle into')
    .option(...LIVE_OPTION)
    .option(...DRIVER_OPTION)
    .option('--inside-image-folder', 'allow --out inside the image\'s own folder tree')
    .action(async (image: string | undefined, opts: LiveFlags & { out: string; insideImageFolder?: boolean }) => {
      if (image === undefined && !opts.live) throw usageError('evidence needs an <image> (or --live)');
      const source = cliTarget(image, opts, io);
      const driver = opts.driver ? { path: opts.driver, sha256: driverFileFacts(opts.driver).sha256 } : null;
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      try {
        const { dir, manifest } = await writeEvidenceBundle({ source, out: opts.out, allowInsideImageFolder: opts.insideImageFolder === true, signal: controller.signal, driver });
        for (const w of manifest.warnings) io.err(`memscope: warning: ${w}\n`);
        const src = manifest.source.kind === 'live'
          ? `live memory ${manifest.source.path}: no image SHA-256 (live memory changes while it is read; every file written is hashed)`
          : `image SHA-256 ${manifest.source.sha256} (${manifest.source.sha256From})`;
        io.out(`evidence bundle: ${dir}\n${manifest.files.length + 1} files (manifest.json included), ${src}\n`);
      } catch (e) {
        if ((e instanceof MemScopeError && e.kind === 'usage') || !existsSync(join(opts.out, 'manifest.json'))) throw e;
        const msg = e instanceof Error ? e.message : String(e);
        throw new MemScopeError(e instanceof MemScopeError ? e.kind : 'analysis', `${msg} (the bundle in ${opts.out} is marked incomplete in its manifest.json)`);
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
};
