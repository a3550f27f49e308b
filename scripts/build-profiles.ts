/**
 * `npm run profiles:build [symbolsDir] [--out profilesDir]`
 * Converts every Volatility 3 ISF kernel symbol table under <symbolsDir>/ntkrnlmp.pdb/ (default
 * ../shared/data/windows-symbols, or $MEMSCOPE_SYMBOLS_DIR) into the compact bundled profile set in
 * profiles/ (layout: main/engine/profile/bundle-writer.ts), with the source's BSD-3 licence beside it,
 * then regenerates the table of known layouts from it (scripts/build-known-layouts.ts).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BundleWriter } from '../main/engine/profile/bundle-writer.js';
import { guidAgeKey } from '../main/engine/profile/model.js';
import { KNOWN_LAYOUTS_FILE, writeKnownLayouts } from './build-known-layouts.js';
import { listIsfFiles, loadIsf, readBuildTable, REPO_ROOT, resolveSymbolsDir } from './isf-source.js';

export const LICENSE_FILE = 'LICENSE-windows-symbols';

async function main(argv: readonly string[]): Promise<void> {
  let sourceArg: string | undefined;
  let outDir = join(REPO_ROOT, 'profiles');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--out') outDir = argv[++i] ?? outDir;
    else sourceArg = a;
  }
  const symbolsDir = resolveSymbolsDir(sourceArg);
  const files = listIsfFiles(symbolsDir);
  const builds = readBuildTable(symbolsDir);
  if (files.length === 0) throw new Error(`no ISF files under ${join(symbolsDir, 'ntkrnlmp.pdb')}`);
  process.stdout.write(`converting ${files.length} symbol tables from ${symbolsDir}\n`);

  const writer = new BundleWriter();
  const started = Date.now();
  for (const [i, file] of files.entries()) {
    const build = builds.get(file.key);
    if (!build) process.stderr.write(`warning: ${file.key} has no build string in SOURCE-README.md\n`);
    const { data } = await loadIsf(file, build);
    if (guidAgeKey(data.pdb) !== file.key) throw new Error(`${file.path}: metadata says ${guidAgeKey(data.pdb)}, file name says ${file.key}`);
    writer.add(data);
    if ((i + 1) % 20 === 0) process.stdout.write(`  ${i + 1}/${files.length} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  const { files: out, index } = writer.finish(LICENSE_FILE);

  // write into a fresh temp dir, then swap it in, so a failed run never leaves a half-written set
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, bytes] of out) writeFileSync(join(tmp, name), bytes);
  // the source's BSD-3 notice must travel with files derived from it (copied as text: the source is read-only)
  writeFileSync(join(tmp, LICENSE_FILE), readFileSync(join(symbolsDir, 'LICENSE')));
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);

  let total = 0;
  const rows: string[] = [];
  for (const name of readdirSync(outDir).sort()) {
    const size = statSync(join(outDir, name)).size;
    total += size;
    rows.push(`  ${name.padEnd(28)} ${size.toString().padStart(10)} bytes`);
  }
  process.stdout.write(rows.join('\n') + '\n');
  process.stdout.write(`${index.builds.length} builds in ${Object.keys(index.families).length} families, ${index.symbolNameCount} distinct symbol names; total ${(total / 1024 / 1024).toFixed(2)} MB in ${outDir}\n`);
  // discovery's and the heuristic's one table of known layouts follows the repository's bundle
  if (resolve(outDir) === join(REPO_ROOT, 'profiles')) {
    process.stdout.write(`${writeKnownLayouts(outDir)} distinct x64 layouts written to ${KNOWN_LAYOUTS_FILE}\n`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`profiles:build failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
