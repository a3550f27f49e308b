/** `memscope verify DIR`: recompute every hash of an evidence bundle; exit 1 naming each file that changed. */
import { MemScopeError } from '../../engine/errors.js';
import { verifyBundle } from '../../engine/evidence/verify.js';
import type { RegisterCommand } from './index.js';

export const register: RegisterCommand = (program, io) => {
  program
    .command('verify')
    .description('check an evidence bundle: recompute every SHA-256 and say which file changed')
    .argument('<dir>', 'the bundle folder (memscope evidence --out)')
    .action(async (dir: string) => {
      const r = await verifyBundle(dir);
      if (r.ok) return void io.out(`OK: ${dir}: ${r.verified} files match SHA256SUMS and manifest.json; the bundle is complete\n`);
      for (const p of r.problems.slice(1)) io.err(`memscope: ${dir}: ${p}\n`);
      throw new MemScopeError('analysis', `${dir}: ${r.problems[0]}${r.problems.length > 1 ? ` (and ${r.problems.length - 1} more above)` : ''}`);
    });
};
