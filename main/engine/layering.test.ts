/**
 * The engine's layers (memflow / Volatility 3 style) as an enforced rule, like VS Code's import lint:
 * each folder of main/engine/ may import only the folders listed for it. Test support (`testing/`
 * folders and *.test.ts) is exempt: tests may wire any layers together.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ENGINE = dirname(fileURLToPath(import.meta.url));
const SHARED = ['errors.ts', 'util'];
/** The words a process row is read in (psxview's sources, the status words), shared with the contract. */
const VOCABULARY = resolve(ENGINE, '..', '..', 'common', 'process-vocabulary.js');

/** folder -> folders (below main/engine/) it may import, besides itself and SHARED. */
const ALLOWED: Record<string, readonly string[]> = {
  sources: [],
  translate: ['sources'],
  profile: [],
  scan: ['sources', 'translate'], // the PML4 self-reference rule lives with the paging rules
  export: [],
  windows: ['sources', 'translate', 'profile', 'scan'],
  plugins: ['sources', 'translate', 'profile', 'scan', 'windows'],
  sample: ['profile', 'acquire'], // independent of windows/: it is what the engine is cross-checked against (acquire/writers: the shared image writers)
  acquire: ['sources', 'scan'], // streaming writers + acquisition (scan/: the worker spawner)
  session: ['sources', 'translate', 'profile', 'scan', 'windows', 'plugins', 'export'],
  evidence: ['sources', 'translate', 'profile', 'scan', 'windows', 'plugins', 'export', 'session'],
  util: [],
};

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'testing' && name !== 'node_modules') yield* sourceFiles(p);
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
      yield p;
    }
  }
}

const IMPORT_RE = /(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT_RE)].map((m) => (m[1] ?? m[2] ?? m[3]) as string);
}

const topFolder = (file: string): string => relative(ENGINE, file).split(sep)[0] ?? '';

describe('engine layering', () => {
  const files = [...sourceFiles(ENGINE)];

  it('finds the engine sources', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('imports neither Electron nor the DOM libraries', () => {
    const bad = files.flatMap((f) => importsOf(f)
      .filter((s) => /^(electron|react|react-dom)(\/|$)/.test(s))
      .map((s) => `${relative(ENGINE, f)} imports ${s}`));
    expect(bad).toEqual([]);
  });

  it('each layer imports only the layers below it', () => {
    const bad: string[] = [];
    for (const f of files) {
      const from = topFolder(f);
      if (from.endsWith('.ts')) continue; // errors.ts and other root files
      const allowed = new Set([from, ...SHARED, ...(ALLOWED[from] ?? [])]);
      for (const spec of importsOf(f)) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(f), spec);
        const rel = relative(ENGINE, target);
        if (rel.startsWith('..')) {
          // session/ speaks the contract's value types (common/ holds only schemas and types)
          if ((from === 'session' || from === 'evidence') && relative(join(ENGINE, '..', '..', 'common'), target).split(sep)[0] !== '..') continue;
          // every layer may name processes in the shared vocabulary (plain constants, no imports)
          if (target === VOCABULARY) continue;
          bad.push(`${relative(ENGINE, f)} reaches outside the engine: ${spec}`);
          continue;
        }
        const to = rel.split(sep)[0] ?? '';
        const toKey = to.endsWith('.js') ? to.replace(/\.js$/, '.ts') : to;
        if (!allowed.has(toKey)) bad.push(`${relative(ENGINE, f)} (${from}) imports ${spec} (${to})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the shared vocabulary imports nothing, so the engine reaching it reaches nothing else', () => {
    expect(importsOf(VOCABULARY.replace(/\.js$/, '.ts'))).toEqual([]);
  });

  it('knows every top-level folder of the engine', () => {
    const folders = readdirSync(ENGINE).filter((n) => statSync(join(ENGINE, n)).isDirectory());
    expect(folders.filter((n) => !(n in ALLOWED))).toEqual([]);
  });
});
