/**
 * `memscope profile fetch <GUIDAGE> [--symbol-path …] [--offline]`: get a kernel profile by PDB
 * GUID+age from the profile cache, a local symbol store or a Microsoft-style symbol server, verifying
 * the PDB's own GUID+age before it is converted and cached. Registered under helper C's `profile`.
 */
import type { Command } from 'commander';
import { usageError } from '../../engine/errors.js';
import { fetchProfileDetailed, memscopeHome } from '../../engine/profile/symbol-server/index.js';
import { parseFormat, renderTable, type CliIo } from '../context.js';

interface FetchFlags {
  symbolPath?: string;
  offline?: boolean;
  pdbName: string;
  cacheDir?: string;
  timeout?: string;
  format?: string;
}

export function registerProfileFetch(profileCommand: Command, io: CliIo): void {
  profileCommand
    .command('fetch')
    .description('fetch a profile by PDB GUID+age (cache, local symbol stores, then symbol servers); the PDB GUID+age is verified before use')
    .argument('<GUIDAGE>', '32 hex GUID digits followed by the age in hex, e.g. 641F55C592201DCC4F59FACC72EA54DA1')
    .option('--symbol-path <path>', '_NT_SYMBOL_PATH-style list, e.g. srv*C:\\cache*https://msdl.microsoft.com/download/symbols (default: $_NT_SYMBOL_PATH, else the Microsoft server)')
    .option('--offline', 'never touch the network (also MEMSCOPE_OFFLINE=1)')
    .option('--pdb-name <name>', 'PDB file name on the symbol server', 'ntkrnlmp.pdb')
    .option('--cache-dir <dir>', 'profile directory (default $MEMSCOPE_HOME or ~/.memscope)')
    .option('--timeout <seconds>', 'give up on a symbol server after this many seconds', '120')
    .option('--format <format>', 'json or table', 'table')
    .action(async (guidAge: string, flags: FetchFlags) => {
      const format = parseFormat(flags.format, ['json', 'table'], 'table');
      const seconds = Number(flags.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) throw usageError(`--timeout must be a positive number of seconds (got "${flags.timeout}")`);
      const r = await fetchProfileDetailed(guidAge, {
        ...(flags.symbolPath !== undefined ? { symbolPath: flags.symbolPath } : {}),
        ...(flags.offline ? { offline: true } : {}),
        cacheDir: flags.cacheDir ?? memscopeHome(),
        pdbName: flags.pdbName,
        timeoutMs: Math.round(seconds * 1000),
      });
      const p = r.profile;
      const summary = {
        pdb: p.pdb.name,
        guid: p.pdb.guid,
        age: p.pdb.age,
        ...(p.build ? { build: p.build } : {}),
        source: r.source,
        origin: r.origin,
        profilePath: r.profilePath,
        pointerSize: p.pointerSize,
        types: Object.keys(p.types).length,
        enums: Object.keys(p.enums).length,
        symbols: Object.keys(p.symbols).length,
      };
      if (format === 'json') io.out(JSON.stringify(summary, null, 2) + '\n');
      else io.out(renderTable(['field', 'value'], Object.entries(summary).map(([k, v]) => [k, String(v)])));
    });
}
