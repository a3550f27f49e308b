#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled engine (npm run build).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist', 'main', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write(`memscope: ${entry} is missing; run "npm run build" first\n`);
  process.exit(2);
}
const { runCli } = await import(pathToFileURL(entry).href);
process.exitCode = await runCli(process.argv.slice(2));
