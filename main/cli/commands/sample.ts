/**
 * `memscope sample --build <GUIDAGE|19041|10.0.19041.508> --out <file> [--format raw|elf|crashdump|crashdump-bitmap]
 * [--size <MiB>] [--processes N] [--seed N] [--no-low-stub]`: write a sample Windows x64 memory image
 * and `<file>.truth.json` (what every analysis method must and must not find).
 */
import type { Command } from 'commander';
import { usageError } from '../../engine/errors.js';
import { buildSample, SAMPLE_FORMATS, type SampleFormat } from '../../engine/sample/index.js';
import type { CliIo } from '../context.js';
import type { RegisterCommand } from './index.js';

function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim())) throw usageError(`${name} must be a non-negative integer (got "${value}")`);
  return Number(value);
}

export const register: RegisterCommand = (program: Command, io: CliIo) => {
  program
    .command('sample')
    .description('build a sample Windows memory image (any build with a profile) plus its ground truth JSON')
    .requiredOption('--build <build>', 'GUIDAGE, build number (19041) or version (10.0.19041.508)')
    .requiredOption('--out <file>', 'image file to write; the truth goes to <file>.truth.json')
    .option('--format <format>', SAMPLE_FORMATS.join(', '), 'raw')
    .option('--size <MiB>', 'physical memory size in MiB (64–262144)', '256')
    .option('--processes <n>', 'extra processes beyond the standard set', '8')
    .option('--seed <n>', 'PRNG seed: same seed, byte-identical image', '1')
    .option('--no-low-stub', 'leave out the PROCESSOR_START_BLOCK low stub')
    .action(async (opts: { build: string; out: string; format?: string; size?: string; processes?: string; seed?: string; lowStub?: boolean }) => {
      const format = opts.format ?? 'raw';
      if (!(SAMPLE_FORMATS as readonly string[]).includes(format)) {
        throw usageError(`--format must be one of ${SAMPLE_FORMATS.join(', ')} (got "${format}")`);
      }
      const truth = await buildSample({
        build: opts.build,
        out: opts.out,
        format: format as SampleFormat,
        sizeMiB: intOption('--size', opts.size, 256),
        processes: intOption('--processes', opts.processes, 8),
        seed: intOption('--seed', opts.seed, 1),
        lowStub: opts.lowStub !== false,
      });
      io.out(
        `wrote ${opts.out} (${truth.format}, ${truth.build || truth.buildNumber}, ${truth.sizeBytes} bytes, ` +
          `${truth.processes.length} processes, ${truth.decoys.length} decoys) and ${opts.out}.truth.json\n`,
      );
    });
};
