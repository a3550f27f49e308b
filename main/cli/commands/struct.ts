/**
 * `memscope struct <image> --type _EPROCESS (--va|--pa) <hex> [--format table|json] [--out FILE]`:
 * a profile type at a kernel VA (through the kernel address space) or a PA, field by field.
 */
import { usageError } from '../../engine/errors.js';
import type { DecodedValue } from '../../engine/plugins/struct/index.js';
import { openSession } from '../../engine/session/session.js';
import { parseFormat, renderTable } from '../context.js';
import { emit, sameFile } from '../process-commands.js';
import type { RegisterCommand } from './index.js';
import { requireHex } from './translate.js';
import { toCsv } from '../../engine/export/index.js';
import { cliTarget, DRIVER_OPTION, LIVE_OPTION, targetName, type LiveFlags } from '../live.js';

export function valueText(v: DecodedValue): string {
  switch (v.kind) {
    case 'int': return v.value;
    case 'pointer': return `-> ${v.value}`;
    case 'list-entry': return `Flink ${v.flink} Blink ${v.blink}`;
    case 'unicode-string': return v.text === null ? `(${v.length} bytes at ${v.buffer}, not resident)` : JSON.stringify(v.text);
    case 'filetime': return v.iso ?? `${v.raw} (not a time)`;
    case 'enum': return v.name ? `${v.name} (${v.value})` : v.value;
    case 'bitfield': return v.value;
    case 'ex-fast-ref': return `-> ${v.object} (refs ${v.refCount})`;
    case 'string': return JSON.stringify(v.text);
    case 'struct': return `{${v.type}}`;
    case 'array': return `[${v.count} x ${v.elementType}]`;
    case 'unreadable': return '??';
  }
}

export const register: RegisterCommand = (program, io) => {
  program
    .command('struct')
    .description('show a profile structure (e.g. _EPROCESS) at a virtual or physical address, field by field')
    .argument('[image]', 'memory image: raw, ELF core or Windows crash dump (or --live)')
    .option(...LIVE_OPTION)
    .option(...DRIVER_OPTION)
    .requiredOption('--type <name>', 'profile type name, e.g. _EPROCESS')
    .option('--va <hex>', 'kernel virtual address')
    .option('--pa <hex>', 'physical address')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--out <file>', 'write the output to FILE instead of stdout')
    .action(async (imageArg: string | undefined, opts: LiveFlags & { type: string; va?: string; pa?: string; format?: string; out?: string }) => {
      const target = cliTarget(imageArg, opts, io);
      const image = targetName(target);
      const format = parseFormat(opts.format, ['table', 'csv', 'json'], 'table');
      if ((opts.va === undefined) === (opts.pa === undefined)) throw usageError('give exactly one of --va <hex> or --pa <hex>');
      const address = opts.va !== undefined ? requireHex('--va', opts.va) : requireHex('--pa', opts.pa!);
      if (opts.out !== undefined && sameFile(opts.out, image)) throw usageError(`--out ${opts.out} is the input image ${image}; refusing to overwrite evidence`);
      const s = await openSession(target);
      try {
        const k = s.kernel;
        if (!k.profile.hasType(opts.type)) throw usageError(`--type ${opts.type}: profile ${k.profile.label} has no such type`);
        if (opts.pa !== undefined && address + BigInt(k.profile.sizeOf(opts.type)) > BigInt(s.source.size)) {
          throw usageError(`--pa ${opts.pa}: ${opts.type} there would end past the end of physical memory (${s.source.size} bytes)`);
        }
        const { dump } = s.struct(opts.type, address, opts.va !== undefined ? 'virtual' : 'physical');
        const text = format === 'json'
          ? JSON.stringify(dump, null, 2) + '\n'
          : format === 'csv'
            ? toCsv(dump.fields.map((f) => ({ offset: f.offsetHex, name: f.name, type: f.type, size: f.size, raw: f.raw, value: valueText(f.value) })))
            : `${dump.type} at ${dump.address} (${dump.space}, ${dump.size} bytes)\n` +
            renderTable(['OFFSET', 'FIELD', 'TYPE', 'VALUE'], dump.fields.map((f) => [f.offsetHex, f.name, f.type, valueText(f.value)]));
        emit(io, text, opts.out);
      } finally {
        await s.close();
      }
    });
};
