/**
 * `memscope translate <image> --dtb <hex> <va>... [--format json|table] [--walk]`: x64 address
 * translation of each VA through the page tables rooted at the DTB. JSON is an array, one object
 * per input address in input order: { va, pa (hex or null), page ("4K"|"2M"|"1G"|null), reason }
 * (plus `walk`, the entry read at each level, with --walk). Not-resident answers exit 0: the reason
 * says why (a DTB outside physical memory reads as "page table at 0x… absent from source").
 */
import type { Command } from 'commander';
import { usageError } from '../../engine/errors.js';
import { hex, parseHex } from '../../engine/util/hex.js';
import { X64AddressSpace } from '../../engine/translate/x64/address-space.js';
import type { Translation } from '../../engine/translate/types.js';
import { parseFormat, renderTable, type CliIo } from '../context.js';
import type { RegisterCommand } from './index.js';
import { cliTarget, DRIVER_OPTION, LIVE_OPTION, liveArgs, openTarget, type LiveFlags } from '../live.js';

export interface TranslationJson {
  va: string;
  pa: string | null;
  page: '4K' | '2M' | '1G' | null;
  reason: string;
  walk?: { level: string; entryAddress: string; entry: string | null }[];
}

/** Parse a hex CLI value or fail with a usage error naming the option. */
export function requireHex(what: string, text: string): bigint {
  const v = parseHex(text);
  if (v === null) throw usageError(`${what}: "${text}" is not a hex value (expected e.g. 0x1aa000, up to 16 hex digits)`);
  return v;
}

export function translationJson(t: Translation, withWalk = false): TranslationJson {
  const out: TranslationJson = { va: hex(t.va), pa: t.pa === null ? null : hex(t.pa), page: t.page, reason: t.reason };
  if (withWalk) out.walk = t.walk.map((s) => ({ level: s.level, entryAddress: hex(s.entryAddress), entry: s.entry === null ? null : hex(s.entry) }));
  return out;
}

function renderTranslations(rows: readonly TranslationJson[], withWalk: boolean): string {
  const table = renderTable(['VA', 'PA', 'PAGE', 'REASON'], rows.map((r) => [r.va, r.pa ?? '-', r.page ?? '-', r.reason]));
  if (!withWalk) return table;
  const walks = rows.map((r) => `${r.va}\n` + (r.walk ?? []).map((s) => `  ${s.level.padEnd(4)}  entry at ${s.entryAddress} = ${s.entry ?? 'absent'}`).join('\n'));
  return table + '\n' + walks.join('\n') + '\n';
}

export const register: RegisterCommand = (program: Command, io: CliIo) => {
  program
    .command('translate')
    .description('translate virtual addresses to physical through x64 page tables')
    .argument('[image]', 'memory image: raw, ELF core or Windows crash dump (or --live)')
    .option(...LIVE_OPTION)
    .option(...DRIVER_OPTION)
    .argument('[va...]', 'virtual addresses in hex')
    .requiredOption('--dtb <hex>', 'directory table base (CR3); low PCID bits are ignored')
    .option('--format <format>', 'json or table', 'table')
    .option('--walk', 'also show the entry read at each paging level')
    .action((imageArg: string | undefined, vaArgs: string[], opts: LiveFlags & { dtb: string; format?: string; walk?: boolean }) => {
      const { image, rest: vaTexts } = liveArgs(imageArg, vaArgs, opts);
      if (vaTexts.length === 0) throw usageError("missing required argument 'va'");
      const target = cliTarget(image, opts, io);
      const format = parseFormat(opts.format, ['json', 'table'], 'table');
      const dtb = requireHex('--dtb', opts.dtb);
      const vas = vaTexts.map((t) => requireHex('virtual address', t));
      const source = openTarget(target);
      try {
        const space = new X64AddressSpace(source, dtb);
        const rows = space.translateMany(vas).map((t) => translationJson(t, opts.walk === true));
        io.out(format === 'json' ? JSON.stringify(rows, null, 2) + '\n' : renderTranslations(rows, opts.walk === true));
      } finally {
        source.close();
      }
    });
};
