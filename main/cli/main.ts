/**
 * `memscope` CLI entry. Each subcommand lives in commands/<name>.ts and registers itself on the
 * commander program; this file owns only the exit-code contract: 0 success, 1 analysis error,
 * 2 usage error, with one clear line on stderr.
 */
import { Command, CommanderError } from 'commander';
import { MemScopeError } from '../engine/errors.js';
import { type CliIo, processIo } from './context.js';
import { commands } from './commands/index.js';

export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = new Command('memscope')
    .description('Windows memory triage: physical sources, x64 translation, kernel discovery, processes')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      // Commander's own usage errors ("error: unknown option …", plus a "(Did you mean …?)" line)
      // get the same one-line "memscope: " form as every other failure (README: errors are one
      // line on stderr naming the fault).
      outputError: (s, write) => write(`memscope: ${s.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .showHelpAfterError(false);
  for (const register of commands) register(program, io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // help and version are "errors" to commander but successes to the user
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return 2; // commander already printed its one-line message
  }
  if (err instanceof MemScopeError) {
    io.err(`memscope: ${err.message}\n`);
    return err.kind === 'usage' ? 2 : 1;
  }
  const msg = err instanceof Error ? err.message : String(err);
  io.err(`memscope: internal error: ${msg}\n`);
  return 1;
}
