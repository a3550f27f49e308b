/**
 * The worker script must load both as compiled JavaScript (dist/, scan-worker.js beside the pool)
 * and as TypeScript (vitest, `node --import tsx`). Each form runs a real scan in a child process.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const C = 256 * 1024;

let dir: string;
let image: string;
const planted = [0x1000, C, 3 * C + 0x7f0];

/** A child script that scans `image` for Proc with 2 workers and prints what it saw as JSON. */
const runner = (scanIndexUrl: string): string => `
import { scanPhysical, poolTagScan, activeScanWorkers } from ${JSON.stringify(scanIndexUrl)};
const hits = [];
let last = null;
for await (const ev of scanPhysical({ sourcePath: process.argv[2], scanner: poolTagScan({ tags: ['Proc'] }), workers: 2, chunkSize: ${C} })) {
  if (ev.type === 'hit') hits.push(ev.hit.pa);
  if (ev.type === 'progress') last = ev;
  if (ev.type === 'error') throw new Error(ev.message);
}
console.log(JSON.stringify({ hits: hits.sort((a, b) => a - b), last, workers: activeScanWorkers() }));
`;

function runChild(script: string, args: string[], cwd: string): unknown {
  const out = execFileSync(process.execPath, [...args, script, image], { cwd, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

const expected = { hits: planted, last: { type: 'progress', bytesDone: 2 * 1024 * 1024, bytesTotal: 2 * 1024 * 1024 }, workers: 0 };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memscope-scanload-'));
  image = path.join(dir, 'img.raw');
  const buf = Buffer.alloc(2 * 1024 * 1024);
  for (const pa of planted) buf.write('Proc', pa + 4, 'latin1');
  fs.writeFileSync(image, buf);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('scan worker loading', () => {
  it('from compiled JavaScript (no TypeScript, no tsx reachable)', async () => {
    const engine = path.join(repo, 'main', 'engine');
    const wanted = ['errors.ts', 'util', 'sources', 'translate', 'scan']; // scan's layers (layering.test.ts): translate holds the PML4 self-reference rule
    const entryPoints = wanted
      .flatMap((w) => {
        const p = path.join(engine, w);
        return fs.statSync(p).isDirectory() ? (fs.readdirSync(p, { recursive: true }) as string[]).map((f) => path.join(p, f)) : [p];
      })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const out = path.join(dir, 'js');
    await build({ entryPoints, outdir: out, outbase: repo, format: 'esm', platform: 'node', target: 'node20', logLevel: 'silent' });
    fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}\n');
    const compiled = (fs.readdirSync(out, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    expect(compiled).toEqual([]);
    const script = path.join(out, 'run.mjs');
    fs.writeFileSync(script, runner('./main/engine/scan/index.js'));
    expect(runChild(script, [], out)).toEqual(expected);
  });

  it('from TypeScript under node --import tsx', () => {
    const script = path.join(dir, 'run-ts.mjs');
    fs.writeFileSync(script, runner(pathToFileURL(path.join(here, 'index.ts')).href));
    expect(runChild(script, ['--import', 'tsx'], repo)).toEqual(expected);
  });

  // dist/ is whatever `npm run build` last produced: only meaningful when it is newer than the sources.
  const distScan = path.join(repo, 'dist', 'main', 'engine', 'scan');
  const distFresh =
    fs.existsSync(path.join(distScan, 'index.js')) &&
    fs.readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).every((f) => {
      const js = path.join(distScan, f.replace(/\.ts$/, '.js'));
      return fs.existsSync(js) && fs.statSync(js).mtimeMs >= fs.statSync(path.join(here, f)).mtimeMs;
    });
  it.skipIf(!distFresh)('from dist/ (npm run build output)', () => {
    const script = path.join(dir, 'run-dist.mjs');
    fs.writeFileSync(script, runner(pathToFileURL(path.join(distScan, 'index.js')).href));
    expect(runChild(script, [], repo)).toEqual(expected);
  });
});
