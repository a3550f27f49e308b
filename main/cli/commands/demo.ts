/**
 * `memscope demo [image] [--build 19041] [--size MiB]`: the README's first command. With no image it
 * builds (once, then reuses) a sample Windows 10 2004 image under $MEMSCOPE_HOME/samples from the
 * bundled profile, then shows what a responder sees first: the kernel found and how, the processes
 * three ways with a verdict for each, and how many processes a page-alignment DTB rule would hide.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../../engine/errors.js';
import { inspectDtbs } from '../../engine/plugins/dtb-inspect/index.js';
import type { PsxViewRow } from '../../engine/plugins/psxview/index.js';
import { openSession } from '../../engine/session/session.js';
import { psxviewOrder } from '../../engine/session/tables.js';
import { memscopeHome } from '../../engine/profile/symbol-server/cache.js';
import { buildSample } from '../../engine/sample/index.js';
import { hex } from '../../engine/util/hex.js';
import { type CliIo, renderTable } from '../context.js';
import { dash } from '../process-commands.js';
import type { RegisterCommand } from './index.js';

const DEMO_SEED = 7;

/** Where `memscope demo` keeps its sample image (`memscope serve` offers it when it exists). */
export const demoSamplePath = (build = '19041', sizeMiB = 256): string =>
  join(memscopeHome(), 'samples', `demo-${build}-${sizeMiB}MiB-seed${DEMO_SEED}.raw`);

export async function ensureSample(build: string, sizeMiB: number, io: CliIo): Promise<string> {
  const dir = join(memscopeHome(), 'samples');
  const path = demoSamplePath(build, sizeMiB);
  if (existsSync(path) && existsSync(`${path}.truth.json`)) {
    io.out(`Using the cached sample image ${path}\n`);
    return path;
  }
  mkdirSync(dir, { recursive: true });
  io.out(`No image given: building a ${sizeMiB} MiB sample Windows image (build ${build}) at ${path}\n`);
  await buildSample({ build, format: 'raw', out: path, sizeMiB, seed: DEMO_SEED });
  return path;
}

export const register: RegisterCommand = (program: Command, io: CliIo) => {
  program
    .command('demo')
    .description('analyse an image (or a bundled sample when none is given): kernel, processes three ways, DTB check')
    .argument('[image]', 'memory image: raw, ELF core or Windows crash dump')
    .option('--build <build>', 'build of the sample image when no image is given', '19041')
    .option('--size <MiB>', 'size of the sample image in MiB', '256')
    .action(async (imageArg: string | undefined, opts: { build: string; size: string }) => {
      const sizeMiB = Number(opts.size);
      if (!Number.isInteger(sizeMiB) || sizeMiB < 64) throw usageError(`--size must be an integer number of MiB >= 64 (got "${opts.size}")`);
      const image = imageArg ?? (await ensureSample(opts.build, sizeMiB, io));
      const session = await openSession(image, { warmScan: true });
      try {
        const { source, kernel, report } = session;
        io.out(`\n${image}: ${source.kind}, ${(source.size / 2 ** 20).toFixed(0)} MiB of physical address space\n`);
        io.out(`Kernel: base ${hex(kernel.kernelBase)}, build ${dash(kernel.buildNumber)}, ${kernel.profile.pdb.name} ${kernel.profile.pdb.guid}/${kernel.profile.pdb.age}` +
          ` (profile: ${kernel.profileSource})\n`);
        io.out(`DTB: ${hex(kernel.dtbRaw)} (PML4 at ${hex(kernel.dtb)}) found by ${kernel.dtbMethod} in ${report.timings.total.toFixed(0)} ms\n\n`);

        const view = await session.runToEnd('psxview');
        const rows = psxviewOrder([...view.rows.values()]).map((e) => e.row);
        const yn = (b: boolean | null) => (b === null ? '?' : b ? 'x' : '.'); // null: not checked
        io.out(renderTable(
          ['PID', 'NAME', 'PSLIST', 'PSSCAN', 'THRDSCAN', 'CIDTABLE', 'CSRSS', 'SESSION', 'VERDICT'],
          rows.map((r: PsxViewRow) => [dash(r.pid), dash(r.name), yn(r.pslist), yn(r.psscan), yn(r.thrdscan), yn(r.cidtable), yn(r.csrss), yn(r.session), r.verdict]),
        ));
        const flagged = rows.filter((r) => !r.pslist);
        io.out(`\n${rows.length} processes; ${flagged.length} not in the active list (hidden or exited): ` +
          `${flagged.map((r) => `${dash(r.name)}(${dash(r.pid)})`).join(', ') || 'none'}\n`);

        const listed = await session.runToEnd('pslist');
        const dtbs = inspectDtbs(kernel, [...listed.rows.values()]);
        io.out(`DirBase check: ${dtbs.totals.withLowBits} of ${dtbs.totals.processes} listed processes carry low bits (PCID/KVA shadow); ` +
          `a page-alignment rule (the old Rekall check) would have dropped ${dtbs.totals.rekallWouldDrop} of them. MemScope keeps them all.\n`);
        for (const w of view.warnings) io.err(`memscope: warning: ${w}\n`);
      } finally {
        await session.close();
      }
    });
};
