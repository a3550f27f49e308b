import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout root: the nearest folder above this module holding package.json (works from bench/ and dist/bench/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`bench: no package.json above ${fileURLToPath(import.meta.url)}`);
}

/** Are we running from TypeScript sources (vitest, tsx) rather than compiled dist/? */
export const runningFromTs = /\.ts$/.test(fileURLToPath(import.meta.url));
