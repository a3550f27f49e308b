// electron-builder.yml checked without an Electron binary: it passes app-builder-lib's own schema, and
// the files its globs select in this tree (after `npm run build`) are what the Windows app needs to run
// as administrator — main, engine host, preload, renderer, profiles, koffi outside the asar — and
// nothing else (no renderer libraries, tests, bench, source maps); its fuses shut the Node doors.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { listPacked, loadBuilderConfig, productionPackages, type BuilderConfig, type PackList } from './pack-list.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const builtFiles = ['dist/main/app/main.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html'];
const rendererOnly = ['react', 'react-dom', 'scheduler', 'zustand', '@tanstack/react-table', '@tanstack/react-virtual'];

let config: BuilderConfig;
let win: PackList;

function schemeErrors(candidate: unknown): ErrorObject[] {
  const scheme = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(scheme);
  return validate(candidate) ? [] : [...(validate.errors ?? [])];
}

/** Module specifiers a compiled file loads (tsc's ESM output, esbuild's CommonJS preload bundle). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  // Statements start a line in tsc's and esbuild's output; comments quoting an import do not match.
  const patterns = [/^(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"\s]+)['"];?$/gm, /^import\s*['"]([^'"\s]+)['"];?$/gm,
    /\bimport\(\s*['"]([^'"\s]+)['"]\s*\)/g, /\brequire\(\s*['"]([^'"\s]+)['"]\s*\)/g,
    /\bcreateRequire\([^)]*\)\(\s*['"]([^'"\s]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) found.push(m[1] as string);
  return found;
}

const packageName = (spec: string): string => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

beforeAll(async () => {
  // The globs select built files: build once when this tree has none (the full suite builds first).
  if (!builtFiles.every((f) => existsSync(join(repo, f)))) {
    const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: repo, encoding: 'utf8', timeout: 600_000 });
    expect(build.status, `npm run build failed:\n${build.stdout}\n${build.stderr}`).toBe(0);
  }
  config = await loadBuilderConfig(repo);
  win = await listPacked(repo, { platform: 'win32', arch: 'x64' });
}, 660_000);

describe('electron-builder.yml against app-builder-lib', () => {
  it("passes app-builder-lib's configuration schema (scheme.json), and the schema refuses a misspelt key", () => {
    expect(schemeErrors(config)).toEqual([]);
    const misspelt = { ...config, win: { ...(config['win'] as object), requestedExecutionLevl: 'requireAdministrator' } };
    expect(schemeErrors(misspelt).length).toBeGreaterThan(0);
  });

  it('builds Windows NSIS and portable targets that both run the app as administrator', () => {
    const winConfig = config['win'] as { target: string[]; requestedExecutionLevel: string };
    expect([...winConfig.target].sort()).toEqual(['nsis', 'portable']);
    // The app exe's manifest (shared by both targets) and the portable launcher, which must elevate itself.
    expect(winConfig.requestedExecutionLevel).toBe('requireAdministrator');
    expect((config['portable'] as { requestExecutionLevel: string }).requestExecutionLevel).toBe('admin');
    expect((config['nsis'] as { perMachine: boolean }).perMachine).toBe(true);
  });

  it('sets the fuses: no run-as-node, NODE_OPTIONS or inspector; asar only and integrity-checked; no file:// privileges; cookies encrypted', () => {
    expect(config['electronFuses']).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
      enableCookieEncryption: true,
    });
    // The engine host is a utilityProcess, not child_process.fork of ELECTRON_RUN_AS_NODE (off above).
    expect(readFileSync(join(repo, 'main/app/shell.ts'), 'utf8')).toContain('utilityProcess.fork(');
  });
});

describe('what the Windows x64 package holds', () => {
  it('the entry, the engine host and scan worker, the preload bundle and the renderer with every asset it links', () => {
    const packed = new Set(win.appFiles);
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { main: string };
    for (const file of [pkg.main, 'package.json', 'dist/main/app/engine-host.js', 'dist/main/engine/scan/scan-worker.js',
      'dist/common/contract.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html', 'dist/native/winpmem/index.js']) {
      expect(packed, file).toContain(file);
    }
    const html = readFileSync(join(repo, 'dist/renderer/index.html'), 'utf8');
    const assets = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => `dist/renderer/${m[1] as string}`);
    expect(assets.length).toBeGreaterThan(1);
    for (const asset of assets) expect(packed, asset).toContain(asset);
  });

  it('the bundled profiles: the index and every family file it names', () => {
    const index = JSON.parse(readFileSync(join(repo, 'profiles/index.json'), 'utf8')) as { symbolNames: string; families: Record<string, { file: string }> };
    const files = ['profiles/index.json', `profiles/${index.symbolNames}`, ...Object.values(index.families).map((f) => `profiles/${f.file}`)];
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(win.appFiles, file).toContain(file);
  });

  it('no tests, test support, bench, scripts, sources, source maps or lockfile', () => {
    const unwanted = win.appFiles.filter((f) => /(^|\/)testing\/|\.test\.|\.map$|^dist\/(bench|scripts)\/|bench\.html$|assets\/bench-|\.tsx?$|package-lock\.json$|^(main|renderer|common|native|preload|e2e|bench|scripts)\//.test(f));
    expect(unwanted).toEqual([]);
  });

  it('every module a packed file loads is packed too: relative imports resolve inside the package, packages are production ones', () => {
    const packed = new Set(win.appFiles);
    const builtins = new Set(builtinModules);
    const problems: string[] = [];
    const used = new Set<string>();
    for (const file of win.appFiles.filter((f) => /^dist\/(main|common|native|preload)\/.*\.c?js$/.test(f))) {
      for (const spec of specifiers(readFileSync(join(repo, file), 'utf8'))) {
        if (spec.startsWith('.')) {
          const target = posix.normalize(posix.join(posix.dirname(file), spec));
          if (!packed.has(target)) problems.push(`${file} imports ${spec}: not packed`);
        } else if (!spec.startsWith('node:') && !builtins.has(spec) && spec !== 'electron') {
          const name = packageName(spec);
          used.add(name);
          if (win.modules.get(`node_modules/${name}`)?.present !== true) problems.push(`${file} imports ${spec}: not a packed production package`);
        }
      }
    }
    expect(problems).toEqual([]);
    // And every production dependency is loaded by packed code: nothing ships unused (renderer-only libraries would).
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies).filter((d) => !used.has(d))).toEqual([]);
  });

  it('the renderer-only libraries stay out (vite bundled them into dist/renderer)', () => {
    const shipped = [...win.modules.keys()].map((p) => p.replace(/^.*node_modules\//, ''));
    expect(shipped.filter((name) => rendererOnly.includes(name))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    for (const name of rendererOnly.filter((n) => n !== 'scheduler')) expect(pkg.devDependencies, name).toHaveProperty(name);
  });

  it("koffi is packed outside the asar with its win32-x64 binary package, the file koffi's loader opens", () => {
    const koffi = win.modules.get('node_modules/koffi');
    expect(koffi?.present).toBe(true);
    expect(koffi?.files).toContain('node_modules/koffi/index.js');
    for (const file of koffi?.files ?? []) expect(win.isUnpacked(file), file).toBe(true);
    // npm ci on the Windows build machine installs koffi's optional @koromix/koffi-win32-x64, whose
    // win32_x64/koffi.node is what koffi loads there (`@koromix/koffi-${platform}-${arch}`; the package's
    // files, per `npm pack @koromix/koffi-win32-x64@3.3.4 --dry-run`: index.js, win32_x64/koffi.{node,lib}).
    expect(win.modules.has('node_modules/@koromix/koffi-win32-x64')).toBe(true);
    expect(win.isUnpacked('node_modules/@koromix/koffi-win32-x64/win32_x64/koffi.node')).toBe(true);
    expect(win.isUnpacked('dist/main/app/main.js')).toBe(false);
    const winBinary = win.modules.get('node_modules/@koromix/koffi-win32-x64');
    if (winBinary?.present === true) expect(winBinary.files).toContain('node_modules/@koromix/koffi-win32-x64/win32_x64/koffi.node');
    // No other platform's binary package ships in the Windows package.
    expect([...win.modules.keys()].filter((p) => p.includes('@koromix/') && !p.endsWith('koffi-win32-x64'))).toEqual([]);
  });

  it('the same globs select the binary installed here, for a package of this machine (the file exists on disk)', async () => {
    const target = { platform: process.platform, arch: process.arch };
    const host = await listPacked(repo, target);
    const binaryPackage = `node_modules/@koromix/koffi-${target.platform}-${target.arch}`;
    expect(productionPackages(repo, target)).toContain(binaryPackage);
    const binaries = (host.modules.get(binaryPackage)?.files ?? []).filter((f) => f.endsWith('/koffi.node'));
    expect(binaries).toContain(`${binaryPackage}/${target.platform}_${target.arch}/koffi.node`);
    for (const file of binaries) expect(host.isUnpacked(file), file).toBe(true);
  });
});
