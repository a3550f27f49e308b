/**
 * `memscope profile list|show|import|fetch`: the kernel profiles MemScope knows offline (bundled for
 * every build in the reference set, plus the user's cache), one profile's types and symbols, importing
 * ISF / Rekall / PDB files into the cache, and (helper D) fetching from a symbol server.
 */
import { Command } from 'commander';
import { analysisError } from '../../engine/errors.js';
import { hex } from '../../engine/util/hex.js';
import { describeType, profileToJson } from '../../engine/profile/describe.js';
import { importProfileFile } from '../../engine/profile/import.js';
import { guidAgeKey } from '../../engine/profile/model.js';
import { normaliseKey, ProfileStore } from '../../engine/profile/store.js';
import { parseFormat, renderTable, type CliIo } from '../context.js';
import type { RegisterCommand } from './index.js';
import { registerProfileFetch } from './profile-fetch.js';

interface HomeFlag {
  home?: string;
}

function storeFor(cmd: Command): ProfileStore {
  const home = (cmd.optsWithGlobals() as HomeFlag).home;
  return new ProfileStore(home ? { home } : {});
}

/** Symbols worth showing in the human summary of `profile show`. */
const KEY_SYMBOLS = ['PsActiveProcessHead', 'PsLoadedModuleList', 'KdDebuggerDataBlock', 'NtBuildNumber', 'ObTypeIndexTable', 'ObHeaderCookie', 'PspCidTable', 'MmPfnDatabase', 'KiProcessorBlock'];

export const register: RegisterCommand = (program: Command, io: CliIo) => {
  const profile = program
    .command('profile')
    .description('kernel symbol profiles: list, show, import (ISF, Rekall, PDB), fetch from a symbol server')
    .option('--home <dir>', 'user profile directory (default $MEMSCOPE_HOME or ~/.memscope)');

  profile
    .command('list')
    .description('list the profiles available offline (bundled and cached)')
    .option('--format <format>', 'table or json', 'table')
    .action(async (flags: { format?: string }, cmd: Command) => {
      const format = parseFormat(flags.format, ['table', 'json'], 'table');
      const entries = await storeFor(cmd).list();
      if (format === 'json') {
        io.out(JSON.stringify(entries.map(({ path: _path, ...e }) => e), null, 2) + '\n');
        return;
      }
      io.out(renderTable(['GUIDAGE', 'build', 'pdb', 'source'], entries.map((e) => [e.key, e.build ?? '-', e.pdb, e.source])));
      io.out(`${entries.length} profiles\n`);
    });

  profile
    .command('show')
    .description('show a profile: struct layouts and symbol RVAs')
    .argument('<GUIDAGE>', '32 hex GUID digits followed by the age in hex, e.g. 641F55C592201DCC4F59FACC72EA54DA1')
    .option('--type <name>', 'only this type, e.g. _EPROCESS')
    .option('--format <format>', 'table or json', 'table')
    .action(async (guidAge: string, flags: { type?: string; format?: string }, cmd: Command) => {
      const format = parseFormat(flags.format, ['table', 'json'], 'table');
      const key = normaliseKey(guidAge);
      const loaded = await storeFor(cmd).load(key, { noFetch: true });
      if (!loaded) throw analysisError(`profile ${key}`, 'is not bundled or cached (try `memscope profile fetch` or `profile import`)');
      const p = loaded.profile;
      if (flags.type !== undefined) p.type(flags.type); // clear error when the type is missing
      if (format === 'json') {
        io.out(JSON.stringify(profileToJson(p.data, flags.type !== undefined ? [flags.type] : undefined), null, 2) + '\n');
        return;
      }
      if (flags.type !== undefined) {
        const def = p.type(flags.type);
        io.out(`${flags.type} (${def.kind}, size ${hex(def.size)}) in ${p.label}\n`);
        const rows = Object.entries(def.fields)
          .sort((a, b) => a[1].offset - b[1].offset)
          .map(([name, f]) => [hex(f.offset), name, describeType(f.type)]);
        io.out(renderTable(['offset', 'field', 'type'], rows));
        return;
      }
      const d = p.data;
      io.out(renderTable(['field', 'value'], [
        ['GUIDAGE', guidAgeKey(d.pdb)],
        ['pdb', d.pdb.name],
        ['build', d.build ?? '-'],
        ['source', loaded.source],
        ['pointer size', String(d.pointerSize)],
        ['types', String(Object.keys(d.types).length)],
        ['enums', String(Object.keys(d.enums).length)],
        ['symbols', String(Object.keys(d.symbols).length)],
        ...KEY_SYMBOLS.filter((s) => p.hasSymbol(s)).map((s) => [s, `rva ${hex(p.symbol(s))}`]),
      ]));
    });

  profile
    .command('import')
    .description('import a Volatility 3 ISF (.json/.json.gz/.json.xz), Rekall profile or PDB into the profile cache')
    .argument('<file>', 'profile file')
    .option('--build <version>', 'ntoskrnl version string to record, e.g. 10.0.19041.508')
    .option('--format <format>', 'table or json', 'table')
    .action(async (file: string, flags: { build?: string; format?: string }, cmd: Command) => {
      const format = parseFormat(flags.format, ['table', 'json'], 'table');
      const { data, kind } = await importProfileFile(file, flags.build ? { build: flags.build } : {});
      const path = await storeFor(cmd).save(data, 'imported', file);
      const summary = {
        key: guidAgeKey(data.pdb), pdb: data.pdb.name, build: data.build ?? null, kind, path,
        types: Object.keys(data.types).length, symbols: Object.keys(data.symbols).length,
      };
      if (format === 'json') io.out(JSON.stringify(summary, null, 2) + '\n');
      else io.out(`imported ${kind} profile ${summary.key} (${summary.pdb}, ${summary.types} types, ${summary.symbols} symbols) into ${path}\n`);
    });

  registerProfileFetch(profile, io);
};
