/**
 * Memory independent of RAM size (issue 12 part 3): peak RSS of psscan on sparse machines of 64 and
 * 256 GiB. The sample builder scatters every structure over all of RAM (page tables, pool, the
 * processes' EPROCESS blocks and a kernel working set of RAM/512 bytes in 4 KiB pages), so the
 * kernel maps frames up to the top of physical memory; the image is a bitmap crash dump whose bitmap
 * marks only the pages holding data (as a kernel/active memory dump leaves free pages out): a file
 * of a few MiB, sparse by format. A raw image of the same machine would be a 256 GiB sparse file, and
 * Node cannot skip its holes (no SEEK_DATA): reading them as zeros runs at page-cache speed (about
 * 0.5 GB/s here), minutes per scan.
 *
 * Each run is the `analyze` child (open, discovery, pslist, psscan on 2 workers twice) and its
 * process-wide maxRSS; the row is judged on the worst run, and on the processes found: psscan and
 * pslist must find exactly what the truth lists, or the row is a MISS whatever the RSS.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { guidAgeKey } from '../main/engine/profile/model.js';
import { buildSample, type GroundTruth } from '../main/engine/sample/index.js';
import { runChild } from './child.js';
import { benchCacheDir, builderVersion } from './images.js';
import { benchBundledDir } from './profiles.js';
import type { AnalyzeResult } from './protocol.js';
import { makeRow, type BenchReport, type BenchRow } from './report.js';

export const SPARSE_SIZES_MIB = [64 * 1024, 256 * 1024] as const;
export const SPARSE_RSS_TARGET_MIB = 300;

export interface SparseRssOptions {
  readonly sizesMiB: readonly number[];
  readonly runs: number;
  readonly build: string;
  readonly seed: number;
  readonly processes: number;
  readonly log: (line: string) => void;
}

interface SparseImage {
  readonly path: string;
  readonly truth: GroundTruth;
  readonly fileBytes: number;
  readonly diskBytes: number;
  readonly cached: boolean;
  readonly buildMs: number;
}

/** Build (or reuse from the bench cache) the populated-only bitmap dump of a `sizeMiB` machine. */
async function sparseImage(sizeMiB: number, o: SparseRssOptions): Promise<SparseImage> {
  const dir = benchCacheDir();
  mkdirSync(dir, { recursive: true });
  const stem = `b${o.build}-${sizeMiB}m-s${o.seed}-p${o.processes}-populated-`;
  const path = join(dir, `${stem}${builderVersion()}.dmp`);
  for (const old of readdirSync(dir)) if (old.startsWith(stem) && !join(dir, old).startsWith(path)) rmSync(join(dir, old), { force: true });
  const done = (truth: GroundTruth, cached: boolean, buildMs: number): SparseImage => {
    const st = statSync(path);
    return { path, truth, fileBytes: st.size, diskBytes: st.blocks * 512, cached, buildMs };
  };
  if (existsSync(path) && existsSync(`${path}.truth.json`)) return done(JSON.parse(readFileSync(`${path}.truth.json`, 'utf8')) as GroundTruth, true, 0);
  o.log(`building a sparse ${sizeMiB / 1024} GiB machine (populated-only bitmap dump) → ${path}`);
  const t0 = performance.now();
  const tmp = `${path}.partial`;
  try {
    const truth = await buildSample({ build: o.build, format: 'crashdump-bitmap', populatedOnly: true, out: tmp, sizeMiB, seed: o.seed, processes: o.processes });
    renameSync(`${tmp}.truth.json`, `${path}.truth.json`);
    renameSync(tmp, path);
    return done(truth, false, performance.now() - t0);
  } catch (e) {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.truth.json`, { force: true });
    throw e;
  }
}

/** One row per machine size: psscan's peak RSS there, with the processes it had to find. */
export async function measureSparseRss(o: SparseRssOptions, warnings: string[]): Promise<{ rows: BenchRow[]; images: BenchReport['images'][number][] }> {
  const rows: BenchRow[] = [];
  const images: BenchReport['images'][number][] = [];
  for (const sizeMiB of o.sizesMiB) {
    const label = `${sizeMiB / 1024} GiB sparse`;
    const img = await sparseImage(sizeMiB, o);
    images.push({ label, path: img.path, fileBytes: img.fileBytes, sizeMiB, build: img.truth.build, cached: img.cached, buildMs: img.buildMs });
    const bundledDir = await benchBundledDir(guidAgeKey(img.truth.pdb));
    const runs: AnalyzeResult[] = [];
    for (let r = 0; r < o.runs; r++) runs.push(await runChild<AnalyzeResult>({ task: 'analyze', image: img.path, bundledDir, workers: 2 }));
    const wantPsscan = img.truth.processes.filter((p) => p.foundBy.psscan).length;
    const wantPslist = img.truth.processes.filter((p) => p.foundBy.pslist).length;
    const wrong = runs.filter((a) => a.psscanRows !== wantPsscan || a.psscanAgainRows !== wantPsscan || a.pslistRows !== wantPslist);
    for (const a of wrong) warnings.push(`${label}: psscan found ${a.psscanRows} (again ${a.psscanAgainRows}), pslist ${a.pslistRows} processes; the truth says ${wantPsscan} and ${wantPslist}`);
    const topEprocess = Math.max(...img.truth.processes.map((p) => Number(BigInt(p.physicalOffset))));
    o.log(`${label}: peak RSS ${runs.map((a) => `${a.maxRssMiB.toFixed(0)} MiB`).join(', ')}; psscan ${runs.map((a) => a.psscanRows).join(', ')} of ${wantPsscan} processes`);
    const row = makeRow({
      id: 'sparse-peak-rss-mib', image: label, label: 'peak RSS of psscan on a sparse machine (2 workers)', unit: 'MiB',
      values: runs.map((a) => a.maxRssMiB), target: { op: '<=', value: SPARSE_RSS_TARGET_MIB }, judgedOn: 'max',
      note: `${runs[0]!.psscanRows}/${wantPsscan} processes found (truth); highest EPROCESS at ${(topEprocess / 2 ** 30).toFixed(1)} GiB; ` +
        `populated-only bitmap dump: ${(img.fileBytes / 2 ** 20).toFixed(0)} MiB file, ${(img.diskBytes / 2 ** 20).toFixed(0)} MiB on disk; psscan ${runs.map((a) => a.psscanMs!.toFixed(0)).join('/')} ms`,
    });
    rows.push(wrong.length > 0 ? { ...row, verdict: 'MISS', note: `WRONG ANSWER (${wrong.length} of ${runs.length} runs): ${row.note}` } : row);
  }
  return { rows, images };
}
