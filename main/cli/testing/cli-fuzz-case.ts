/**
 * One case of the CLI fuzz (../cli.fuzz.test.ts), run in a FuzzChild: `memscope <argv>` in-process,
 * with stdout and stderr captured.
 */
import { runCli } from '../main.js';

export interface CliCase {
  readonly argv: readonly string[];
}

export interface CliCaseResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function runCase(c: CliCase): Promise<CliCaseResult> {
  let out = '';
  let err = '';
  const code = await runCli(c.argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}
