/** The CLI in-process with its stdout / stderr captured: exit code and both texts. */
import { runCli } from '../main.js';

export async function cliCaptured(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}
