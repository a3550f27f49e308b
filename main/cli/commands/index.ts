import type { Command } from 'commander';
import type { CliIo } from '../context.js';
import { register as acquire } from './acquire.js';
import { register as demo } from './demo.js';
import { register as dtb } from './dtb.js';
import { register as evidence } from './evidence.js';
import { register as hexdump } from './hexdump.js';
import { register as info } from './info.js';
import { register as profile } from './profile.js';
import { register as pslist } from './pslist.js';
import { register as psscan } from './psscan.js';
import { register as psxview } from './psxview.js';
import { register as sample } from './sample.js';
import { register as serve } from './serve.js';
import { register as struct } from './struct.js';
import { register as timeline } from './timeline.js';
import { register as translate } from './translate.js';
import { register as verify } from './verify.js';

/** A subcommand adds itself to the program; actions throw MemScopeError for failures. */
export type RegisterCommand = (program: Command, io: CliIo) => void;

// One line per subcommand module; keep alphabetical to avoid merge churn.
export const commands: RegisterCommand[] = [
  acquire,
  demo,
  dtb,
  evidence,
  hexdump,
  info,
  profile,
  pslist,
  psscan,
  psxview,
  sample,
  serve,
  struct,
  timeline,
  translate,
  verify,
];
