/**
 * `memscope evidence <image> --out DIR [--inside-image-folder]`: the evidence bundle
 * (engine/evidence/bundle.ts) — every table, report, the timeline, manifest.json and SHA256SUMS.
 * Ctrl-C cancels it; a bundle cut short says so in its manifest. `--live` needs the live source
 * (issue 20), which this build does not have: it is refused with that reason.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MemScopeError, usageError } from '../../engine/errors.js';
import { writeEvidenceBundle } from '../../engine/evidence/bundle.js';
import type { RegisterCommand } from './index.js';

export const register: RegisterCommand = (program, io) => {
  program
    .command('evidence')
    .description('write an evidence bundle: tables, DTB and discovery reports, timeline, manifest.json, SHA256SUMS')
    .argument('[image]', 'memory image: raw, ELF core or Windows crash dump')
    .requiredOption('--out <dir>', 'a new (or empty) folder to write the bundle into')
    .option('--live', 'this machine\'s live memory (not in this build)')
    .option('--inside-image-folder', 'allow --out inside the image\'s own folder tree')
    .action(async (image: string | undefined, opts: { out: string; live?: boolean; insideImageFolder?: boolean }) => {
      if (opts.live) throw usageError('evidence --live needs the live memory source (WinPmem, issue 20), which this build does not include; acquire an image and bundle that');
      if (image === undefined) throw usageError('evidence needs an <image> (or --live)');
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      try {
        const { dir, manifest } = await writeEvidenceBundle({ image, out: opts.out, allowInsideImageFolder: opts.insideImageFolder === true, signal: controller.signal });
        for (const w of manifest.warnings) io.err(`memscope: warning: ${w}\n`);
        io.out(`evidence bundle: ${dir}\n${manifest.files.length + 1} files (manifest.json included), image SHA-256 ${manifest.source.sha256} (${manifest.source.sha256From})\n`);
      } catch (e) {
        if ((e instanceof MemScopeError && e.kind === 'usage') || !existsSync(join(opts.out, 'manifest.json'))) throw e;
        const msg = e instanceof Error ? e.message : String(e);
        throw new MemScopeError(e instanceof MemScopeError ? e.kind : 'analysis', `${msg} (the bundle in ${opts.out} is marked incomplete in its manifest.json)`);
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
};
