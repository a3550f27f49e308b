import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedIsfDir } from '../../engine/sample/profile-source.js';
import { runCli } from '../main.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-sample-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

describe.skipIf(sharedIsfDir() === null)('memscope sample', () => {
  it('writes an image and its truth', async () => {
    const out = join(dir, 'cli.raw');
    const r = await cli('sample', '--build', '19041', '--out', out, '--size', '64', '--processes', '2', '--seed', '3');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote .*cli\.raw \(raw, 10\.0\.19041/);
    const truth = JSON.parse(readFileSync(`${out}.truth.json`, 'utf8'));
    expect(truth.seed).toBe(3);
    expect(statSync(out).size).toBe(truth.sizeBytes);
  }, 60_000);

  it('exits 2 with one line for bad options', async () => {
    const out = join(dir, 'bad.raw');
    for (const argv of [
      ['sample', '--build', '19041', '--out', out, '--format', 'vmem'],
      ['sample', '--build', '19041', '--out', out, '--size', 'big'],
      ['sample', '--build', 'x', '--out', out],
    ]) {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  }, 60_000);
});
