/**
 * Issue 21's bench row: `memscope evidence` of the bench image ÷ `sha256sum` of that image alone,
 * measured side by side in each run (the bundle hashes the image while the analysis runs, so it should
 * cost little more than the hash). The bundle's image SHA-256 is checked against sha256sum's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { makeRow, type BenchRow } from './report.js';

export const EVIDENCE_VS_SHA256SUM = 1.3;

function timed(cmd: string, args: readonly string[]): Promise<{ ms: number; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code, out }));
  });
}

export async function evidenceRows(image: string, label: string, runs: number, warnings: string[], log: (line: string) => void): Promise<BenchRow[]> {
  if (spawnSync('sha256sum', ['--version']).status !== 0) {
    warnings.push('evidence bundle row skipped: sha256sum is not installed');
    return [];
  }
  const cli = join(repoRoot(), 'bin', 'memscope.js');
  const ratios: number[] = [];
  const sums: number[] = [];
  const bundles: number[] = [];
  for (let i = 0; i < runs; i++) {
    const sum = await timed('sha256sum', [image]);
    const work = mkdtempSync(join(tmpdir(), 'memscope-bench-evidence-'));
    try {
      const ev = await timed(process.execPath, [cli, 'evidence', image, '--out', join(work, 'bundle')]);
      if (sum.code !== 0 || ev.code !== 0) { warnings.push(`${label}: evidence bench run ${i + 1} failed (sha256sum ${sum.code}, evidence ${ev.code})`); continue; }
      const manifest = JSON.parse(readFileSync(join(work, 'bundle', 'manifest.json'), 'utf8')) as { source: { sha256: string | null }; complete: boolean };
      const want = sum.out.split(/\s/)[0];
      if (manifest.source.sha256 !== want || !manifest.complete) warnings.push(`${label}: the evidence bundle's image SHA-256 ${manifest.source.sha256} is not sha256sum's ${want}`);
      ratios.push(ev.ms / sum.ms);
      sums.push(sum.ms);
      bundles.push(ev.ms);
      log(`${label}: evidence bundle ${ev.ms.toFixed(0)} ms vs sha256sum ${sum.ms.toFixed(0)} ms`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;
  return [makeRow({
    id: 'evidence-vs-sha256sum', image: label, label: 'evidence bundle ÷ sha256sum of the image (CLI, whole run)', unit: '×',
    values: ratios, target: { op: '<=', value: EVIDENCE_VS_SHA256SUM },
    note: `bundle ${med(bundles).toFixed(0)} ms vs sha256sum ${med(sums).toFixed(0)} ms`,
  })];
}
