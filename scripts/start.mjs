#!/usr/bin/env node
// `npm start [-- image]`: the desktop app. Electron where its binary is installed; otherwise (as on a
// machine set up with ELECTRON_SKIP_BINARY_DOWNLOAD=1) the same screens served by `memscope serve` on
// 127.0.0.1, on the given image or the bundled sample (built once, then cached), with the URL printed.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const image = process.argv[2];

/** The Electron binary the `electron` package downloaded, if it did (its path.txt names it inside dist/). */
function electronBinary() {
  const pkg = join(root, 'node_modules', 'electron');
  try {
    const exe = join(pkg, 'dist', readFileSync(join(pkg, 'path.txt'), 'utf8').trim());
    return existsSync(exe) ? exe : null;
  } catch {
    return null; // no path.txt: installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1
  }
}

const electron = electronBinary();
if (electron) {
  const child = spawn(electron, [root, ...(image ? [image] : [])], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const dist = (p) => pathToFileURL(join(root, 'dist', 'main', 'cli', p)).href;
  const { processIo } = await import(dist('context.js'));
  const { ensureSample } = await import(dist('commands/demo.js'));
  const { serve } = await import(dist('commands/serve.js'));
  processIo.out('No Electron binary here (ELECTRON_SKIP_BINARY_DOWNLOAD): serving the same screens to a browser.\n');
  const path = image ?? (await ensureSample('19041', 256, processIo));
  const stop = new Promise((done) => { process.once('SIGINT', done); process.once('SIGTERM', done); });
  try {
    await serve({ image: path }, processIo, stop);
  } catch (e) {
    process.stderr.write(`memscope: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
