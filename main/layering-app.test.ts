/**
 * The app's layering, beside the engine's (main/engine/layering.test.ts): the consumers of the engine
 * (main/app, main/bridge, main/cli) reach it through its session (and sources / native only where a
 * live or raw source needs it), never plugin internals; the preload speaks only the contract and
 * electron; the renderer only the contract; the contract depends on nothing of ours. Tests and
 * `testing/` folders are exempt.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function* sourceFiles(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'testing' && name !== 'node_modules' && name !== 'dist') yield* sourceFiles(p);
    } else if (/\.(ts|tsx|mts|cts)$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.endsWith('.d.ts') && !/^vite\.config\./.test(name)) {
      // (vite.config.ts is build tooling run by Node, not code the renderer ships)
      yield p;
    }
  }
}

const IMPORT_RE = /(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)/gm;

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT_RE)].map((m) => (m[1] ?? m[2] ?? m[3] ?? m[4]) as string);
}

/** Repository-relative path of a relative import's target, with `.js` read as the `.ts` it compiles from. */
const targetOf = (file: string, spec: string): string => relative(ROOT, resolve(dirname(file), spec)).split(sep).join('/');

interface Rule {
  /** Repository-relative folders a relative import may land in (besides the importer's own folder). */
  readonly relative: readonly string[];
  /** Package imports allowed (exact names or prefixes ending in `/`); null = any package. */
  readonly packages: readonly string[] | null;
  /** Package imports refused even when `packages` is null. */
  readonly refusedPackages?: RegExp;
  /** Relative targets refused even inside an allowed folder. */
  readonly refused?: RegExp;
}

const ENGINE_FACADE = ['main/engine/session/', 'main/engine/util/', 'main/engine/errors.'];
const NODE_ONLY = /^(react|react-dom|zustand|@tanstack\/)/;
/** A plugin's folder is its own business: consumers import its index only. */
const PLUGIN_INTERNAL = /^main\/engine\/plugins\/[^/]+\/(?!index\.)/;

const RULES: Readonly<Record<string, Rule>> = {
  'main/app': {
    // static-files: the one rule for serving dist/renderer, shared with the bridge
    relative: ['main/app/', 'common/', 'main/service/', 'main/bridge/static-files.', ...ENGINE_FACADE, 'main/engine/sources/', 'native/winpmem/'],
    packages: null, refusedPackages: NODE_ONLY,
  },
  'main/bridge': {
    relative: ['main/bridge/', 'common/', 'main/service/', ...ENGINE_FACADE, 'main/engine/sources/'],
    packages: null, refusedPackages: /^(electron|react|react-dom|zustand|@tanstack\/)/,
  },
  'main/cli': {
    relative: ['main/cli/', 'main/engine/', 'main/bridge/', 'main/service/', 'common/', 'native/'],
    packages: null, refusedPackages: /^(electron|react|react-dom|zustand|@tanstack\/)/, refused: PLUGIN_INTERNAL,
  },
  preload: { relative: ['preload/', 'common/'], packages: ['electron'] },
  renderer: { relative: ['renderer/', 'common/'], packages: null, refusedPackages: /^(electron$|node:|ws$|koffi$)/ },
  common: { relative: ['common/'], packages: ['zod'] },
};

function violations(folder: string, rule: Rule): string[] {
  const bad: string[] = [];
  for (const f of sourceFiles(join(ROOT, folder))) {
    const from = relative(ROOT, f).split(sep).join('/');
    for (const spec of importsOf(f)) {
      if (spec.startsWith('.')) {
        const to = targetOf(f, spec);
        if (!rule.relative.some((r) => to.startsWith(r)) || rule.refused?.test(to)) bad.push(`${from} imports ${spec} (${to})`);
      } else {
        const ok = rule.packages === null
          ? !rule.refusedPackages?.test(spec)
          : rule.packages.some((p) => (p.endsWith('/') ? spec.startsWith(p) : spec === p));
        if (!ok) bad.push(`${from} imports package ${spec}`);
      }
    }
  }
  return bad;
}

describe('app layering', () => {
  it('finds the shell and the preload', () => {
    expect([...sourceFiles(join(ROOT, 'main/app'))].length).toBeGreaterThan(5);
    expect([...sourceFiles(join(ROOT, 'preload'))].length).toBeGreaterThan(0);
  });

  for (const [folder, rule] of Object.entries(RULES)) {
    it(`${folder} imports only what it may`, () => {
      expect(violations(folder, rule)).toEqual([]);
    });
  }

  it('the rules catch what they forbid', () => {
    const rule = RULES['main/app']!;
    const probe = (spec: string) => {
      const to = targetOf(join(ROOT, 'main/app/x.ts'), spec);
      return rule.relative.some((r) => to.startsWith(r)) && !rule.refused?.test(to);
    };
    expect(probe('../engine/session/session.js')).toBe(true);
    expect(probe('../engine/plugins/psxview/index.js')).toBe(false);
    expect(probe('../cli/main.js')).toBe(false);
    expect(PLUGIN_INTERNAL.test('main/engine/plugins/psscan/pool-objects.js')).toBe(true);
    expect(PLUGIN_INTERNAL.test('main/engine/plugins/psscan/index.js')).toBe(false);
  });
});
