/** The CLI from source, for tests that need a real `memscope` process (node --import tsx main/cli/testing/cli-entry.ts …). */
import { runCli } from '../main.js';

process.exitCode = await runCli(process.argv.slice(2));
