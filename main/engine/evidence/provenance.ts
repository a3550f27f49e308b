/** Who made a bundle with what: tool version (package.json) and git commit, host and user. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the first folder above this module holding package.json (src and dist alike). */
function packageRoot(): string | null {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return null;
}

export interface Provenance {
  readonly version: string;
  readonly commit: string | null;
  readonly host: string;
  readonly user: string;
}

export function provenance(): Provenance {
  const root = packageRoot();
  let version = 'unknown';
  let commit: string | null = null;
  if (root) {
    try { version = String((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown'); } catch { /* stays unknown */ }
    try {
      const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      commit = git('rev-parse', 'HEAD') || null;
      // uncommitted changes in the tool's own checkout: the commit alone would not reproduce it
      if (commit && git('status', '--porcelain', '--untracked-files=no') !== '') commit += '-dirty';
    } catch { /* not a checkout (an installed build): no commit to name */ }
  }
  let user = process.env['USER'] ?? process.env['USERNAME'] ?? 'unknown';
  try { user = userInfo().username; } catch { /* no passwd entry: keep the environment's */ }
  return { version, commit, host: hostname(), user };
}
