// Bundle preload/index.ts into one CommonJS file, dist/preload/preload.cjs: with `sandbox: true`
// Electron runs the preload without a module loader, so everything but `electron` is inlined.
// `node scripts/build-preload.mjs [outfile]` (tests bundle to a temporary file).
import { build } from 'esbuild';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ['preload/index.ts'],
  outfile: process.argv[2] ? resolve(process.argv[2]) : 'dist/preload/preload.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'chrome140',
  external: ['electron'],
  minify: true, // the contract's zod schemas come along (METHODS is derived from them)
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
