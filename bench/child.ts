/**
 * Spawn runner.ts in a fresh Node process and parse its one result line. From compiled dist/ the
 * child is `node dist/bench/runner.js`; from TypeScript (vitest, tsx) it is `node --import tsx
 * bench/runner.ts`, so the smoke test measures the same code path without a build.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runningFromTs } from './paths.js';
import type { ChildTask } from './protocol.js';

const RESULT_PREFIX = 'BENCH-RESULT ';
const runner = fileURLToPath(new URL(runningFromTs ? './runner.ts' : './runner.js', import.meta.url));

export function runChild<R>(task: ChildTask, timeoutMs = 30 * 60_000): Promise<R> {
  const args = [...(runningFromTs ? ['--import', 'tsx'] : []), runner, JSON.stringify(task)];
  return new Promise<R>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench child ${task.task} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) {
        reject(new Error(`bench child ${task.task} on ${'image' in task ? task.image : ''} failed (exit ${code}): ${err.trim().split('\n').slice(-5).join(' | ')}`));
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as R);
    });
  });
}
