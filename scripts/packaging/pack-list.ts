/**
 * What `electron-builder` would pack from this tree, worked out with electron-builder's own code and no
 * Electron binary: app-builder-lib reads electron-builder.yml (`getConfig`), builds its file matchers
 * (`getMainFileMatchers`, `getNodeModuleFileMatcher`, `asarUnpack` through `getFileMatchers`) and we
 * walk the tree through their filters as its copier does. The production node_modules come from
 * package-lock.json for the target platform (what `npm ci` installs on the build machine: no dev
 * packages, optional ones only where their `os`/`cpu` fit), so a Windows pack can be listed on Linux.
 * Not modelled: electron-builder's default clean-up inside node_modules (READMEs, tests, *.d.ts),
 * which only removes files.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { join, posix, resolve } from 'node:path';

const require = createRequire(import.meta.url);

type Filter = (file: string, stat: Stats) => boolean;
interface FileMatcher {
  readonly from: string;
  readonly patterns: string[];
  createFilter(): Filter;
}
type MacroExpander = (pattern: string) => string;
/** The fields of app-builder-lib's Configuration this listing reads (the rest is passed through). */
export interface BuilderConfig {
  readonly directories?: { readonly output?: string; readonly buildResources?: string };
  readonly files?: unknown;
  readonly asarUnpack?: unknown;
  readonly [key: string]: unknown;
}

// app-builder-lib's internals (CommonJS, no "exports" map): typed here by the part we call.
const configModule = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: null): Promise<BuilderConfig>;
};
const matchers = require('app-builder-lib/out/fileMatcher.js') as {
  getMainFileMatchers(appDir: string, destination: string, macroExpander: MacroExpander, platformOptions: object,
    platformPackager: object, outDir: string, isElectronCompile: boolean): FileMatcher[];
  getNodeModuleFileMatcher(appDir: string, destination: string, macroExpander: MacroExpander, platformOptions: object,
    packager: object): FileMatcher;
  getFileMatchers(config: BuilderConfig, name: string, destination: string, options: object): FileMatcher[] | null;
};

/** electron-builder.yml as electron-builder itself reads it. */
export function loadBuilderConfig(projectDir: string): Promise<BuilderConfig> {
  return configModule.getConfig(projectDir, null, null);
}

export interface PackTarget {
  /** Node's names: 'win32', 'linux'. */
  readonly platform: NodeJS.Platform;
  readonly arch: string;
}

export interface PackedModule {
  /** Whether the package is installed in this tree (another platform's optional binary package is not). */
  readonly present: boolean;
  /** Files packed, relative to the app root (node_modules/…), when present. */
  readonly files: readonly string[];
}

export interface PackList {
  /** The app's own files, relative to the project root, posix separators, sorted. */
  readonly appFiles: readonly string[];
  /** Production packages by lockfile path ("node_modules/koffi", "node_modules/@koromix/koffi-win32-x64"). */
  readonly modules: ReadonlyMap<string, PackedModule>;
  /** Whether a packed path (relative to the app root) is left outside app.asar (`asarUnpack`). */
  isUnpacked(path: string): boolean;
}

interface LockEntry {
  readonly dev?: boolean;
  readonly devOptional?: boolean;
  readonly optional?: boolean;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
}

/** Lockfile paths of the packages `npm ci --omit=dev` installs on `target`. */
export function productionPackages(projectDir: string, target: PackTarget): string[] {
  const lock = JSON.parse(readFileSync(join(projectDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const fits = (list: readonly string[] | undefined, value: string): boolean => {
    if (list === undefined) return true;
    const allowed = list.filter((v) => !v.startsWith('!'));
    if (list.includes(`!${value}`)) return false;
    return allowed.length === 0 || allowed.includes(value);
  };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && entry.dev !== true && entry.devOptional !== true)
    .filter(([, entry]) => fits(entry.os, target.platform) && fits(entry.cpu, target.arch))
    .map(([path]) => path)
    .sort();
}

/** Fake stat for a path the filters test as a file (asarUnpack checks paths that need not exist here). */
const fileStat = { isDirectory: () => false, isFile: () => true } as Stats;

/** Walks `dir` (absolute) as electron-builder's copyDir does: a directory the filter refuses is not entered. */
function walk(dir: string, filter: Filter, skipNodeModules: boolean, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipNodeModules && entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    const stat = statSync(full);
    if (!filter(full, stat)) continue;
    if (stat.isDirectory()) walk(full, filter, skipNodeModules, out);
    else out.push(full);
  }
}

const relativePosix = (root: string, file: string): string => posix.join(...file.slice(root.length + 1).split(/[\\/]/));

export async function listPacked(projectDir: string, target: PackTarget): Promise<PackList> {
  const root = resolve(projectDir);
  const config = await loadBuilderConfig(root);
  const outDir = resolve(root, config.directories?.output ?? 'dist');
  const platformName = target.platform === 'win32' ? 'win' : target.platform === 'darwin' ? 'mac' : 'linux';
  const expand: MacroExpander = (p) => p.replace(/\$\{arch\}/g, target.arch).replace(/\$\{os\}/g, platformName).replace(/\$\{platform\}/g, target.platform);
  const platformOptions = (config[platformName] ?? {}) as object;
  const packager = {
    info: { projectDir: root, buildResourcesDir: config.directories?.buildResources ?? 'build', isPrepackedAppAsar: false, config, debugLogger: { isEnabled: false } },
    config,
    debugLogger: { isEnabled: false },
  };
  const destination = '/packed-app';

  const main = matchers.getMainFileMatchers(root, destination, expand, platformOptions, packager, outDir, false);
  const appFiles: string[] = [];
  for (const matcher of main) walk(matcher.from, matcher.createFilter(), true, appFiles);

  const moduleFilter = matchers.getNodeModuleFileMatcher(root, destination, expand, platformOptions, packager).createFilter();
  const modules = new Map<string, PackedModule>();
  for (const path of productionPackages(root, target)) {
    const dir = join(root, ...path.split('/'));
    let present = false;
    try { present = statSync(dir).isDirectory(); } catch { present = false; }
    const files: string[] = [];
    if (present) walk(dir, moduleFilter, true, files);
    modules.set(path, { present, files: files.map((f) => relativePosix(root, f)).sort() });
  }

  const unpack = matchers.getFileMatchers(config, 'asarUnpack', destination, {
    macroExpander: expand, customBuildOptions: platformOptions, globalOutDir: outDir, defaultSrc: root,
  });
  const unpackFilters = (unpack ?? []).map((m) => m.createFilter());
  return {
    appFiles: appFiles.map((f) => relativePosix(root, f)).sort(),
    modules,
    isUnpacked: (path) => unpackFilters.some((f) => f(join(root, ...path.split('/')), fileStat)),
  };
}
