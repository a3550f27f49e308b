/**
 * Test support: locate the real PDBs used to verify the reader. The shared reference PDBs are read in
 * place; registry.pdb (registry-js@1.10.0, build/Release/registry.pdb) is fetched once with
 * `npm pack` into <repo>/.cache/fixtures/ (gitignored) and reused.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDataPath } from '../../../util/shared-data.js';

export const SHARED_PDB_DIR = process.env.MEMSCOPE_SHARED_PDB_DIR ?? sharedDataPath('pdb');
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../..');
export const FIXTURE_CACHE = join(REPO_ROOT, '.cache', 'fixtures');
export const REGISTRY_PACKAGE = 'registry-js@1.10.0';

export function registryPdbPath(): string {
  const target = join(FIXTURE_CACHE, 'registry-js-1.10.0', 'registry.pdb');
  if (existsSync(target)) return target;
  const work = mkdtempSync(join(tmpdir(), 'memscope-registry-js-'));
  try {
    const tgz = execFileSync('npm', ['pack', REGISTRY_PACKAGE, '--silent', '--pack-destination', work], { encoding: 'utf8', timeout: 180_000 }).trim().split('\n').pop()!;
    execFileSync('tar', ['xzf', join(work, tgz), '-C', work, 'package/build/Release/registry.pdb'], { timeout: 60_000 });
    mkdirSync(dirname(target), { recursive: true });
    const tmpTarget = `${target}.${process.pid}.tmp`;
    copyFileSync(join(work, 'package/build/Release/registry.pdb'), tmpTarget); // tmpdir may be another filesystem
    renameSync(tmpTarget, target); // atomic: concurrent test files never see a partial file
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return target;
}
