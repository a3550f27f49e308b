import type { Command } from 'commander';
import type { CliIo } from '../context.js';
import { register as hexdump } from './hexdump.js';
import { register as info } from './info.js';
import { register as translate } from './translate.js';

/** A subcommand adds itself to the program; actions throw MemScopeError for failures. */
export type RegisterCommand = (program: Command, io: CliIo) => void;

// One line per subcommand module; keep alphabetical to avoid merge churn.
export const commands: RegisterCommand[] = [
  hexdump,
  info,
  translate,
];
