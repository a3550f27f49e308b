/**
 * Garbage-argv fuzz of the CLI (runCli in-process). Rule (helpers brief, "Bad input"; README "CLI"):
 * whatever the arguments, the exit code is 0, 1 or 2, and a failure prints exactly one line on
 * stderr starting "memscope: " — never "internal error" (an exception that is not a MemScopeError),
 * a stack, or a hang. Commands that touch the network or build images (profile fetch, sample, demo)
 * are left out; every --out / --home points into a temp directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSample } from '../engine/sample/index.js';
import { makeTempDir, removeTempDir } from '../engine/sample/writers/testing.js';
import { FuzzFailures, Prng } from '../engine/util/testing/fuzz.js';
import { runCli } from './main.js';

const ITERATIONS = 1200;
const TIMEOUT_MS = 30_000;

let dir: string;
let sample: string;
let images: string[];
const savedHome = process.env['MEMSCOPE_HOME'];

beforeAll(async () => {
  dir = makeTempDir('memscope-clifuzz-');
  process.env['MEMSCOPE_HOME'] = path.join(dir, 'home'); // profile import writes its cache here, not in ~
  sample = path.join(dir, 'sample.raw');
  await buildSample({ build: '19041', format: 'raw', out: sample, sizeMiB: 64, seed: 3 });
  const zeros = path.join(dir, 'zeros.raw');
  fs.writeFileSync(zeros, new Uint8Array(64 * 1024));
  const tiny = path.join(dir, 'tiny.bin');
  fs.writeFileSync(tiny, Buffer.from('\x7fELF\x02\x01\x01garbage'));
  const json = path.join(dir, 'bad.json');
  fs.writeFileSync(json, '{"metadata": {"format": "6.1.0"}, "user_types": 3}');
  images = [path.join(dir, 'missing.raw'), '', dir, zeros, tiny, json, '-'];
}, 120_000);
afterAll(() => {
  if (savedHome === undefined) delete process.env['MEMSCOPE_HOME'];
  else process.env['MEMSCOPE_HOME'] = savedHome;
  if (dir) removeTempDir(dir);
});

/** Commands, their options, and whether they take an image and/or trailing arguments. */
const COMMANDS: readonly { cmd: string[]; options: string[]; image: boolean; trailing?: boolean; fastOnSample?: boolean }[] = [
  { cmd: ['info'], options: ['--format', '--allow-network', '--heuristic-profile'], image: true },
  { cmd: ['dtb'], options: ['--format', '--processes'], image: true },
  { cmd: ['translate'], options: ['--dtb', '--format', '--walk'], image: true, trailing: true, fastOnSample: true },
  { cmd: ['hexdump'], options: ['--pa', '--va', '--dtb', '--length'], image: true, fastOnSample: true },
  { cmd: ['pslist'], options: ['--format', '--out'], image: true },
  { cmd: ['psscan'], options: ['--format', '--out'], image: true },
  { cmd: ['psxview'], options: ['--format', '--out'], image: true },
  { cmd: ['struct'], options: ['--type', '--va', '--pa', '--format', '--out'], image: true },
  { cmd: ['profile', 'list'], options: ['--format', '--home'], image: false },
  { cmd: ['profile', 'show'], options: ['--type', '--format', '--home'], image: false, trailing: true },
  { cmd: ['profile', 'import'], options: ['--build', '--format', '--home'], image: true },
  { cmd: ['profile'], options: [], image: false, trailing: true },
  { cmd: [], options: ['--version', '--bogus'], image: false, trailing: true },
];

function garbageValue(rng: Prng, option: string): string {
  const common = ['', ' ', '-1', '0', '0x', 'zz', 'xml', '99999999999', '0xffffffffffffffffff', '1e400', 'NaN', '\u0000', '-', '--', 'é', '0x' + 'f'.repeat(17), '１２３'];
  switch (option) {
    case '--format': return rng.pick(['xml', 'JSON', '', 'json', 'table', 'csv', 'yaml']);
    case '--length': return rng.pick(['99999999999', '0', '-5', '1048577', '0x100000', '16', 'abc', '0x', '1.5', '']);
    case '--pa': case '--va': case '--dtb': return rng.pick([...common, '0x1000', '0x1aa000', '0xfffff80000000000', '0x7ffffffffffff000', '0x4e312002']);
    case '--out': return rng.pick([path.join(dir, 'out.txt'), sample, dir, '', path.join(dir, 'nonexistent-dir', 'x.csv')]);
    case '--home': return rng.pick([path.join(dir, 'home'), dir, '', path.join(dir, 'tiny.bin')]);
    case '--type': return rng.pick(['_EPROCESS', '_NOPE', '', '__proto__', 'constructor', '_LIST_ENTRY']);
    default: return rng.pick(common);
  }
}

function randomArgv(rng: Prng): { argv: string[]; slow: boolean } {
  const c = rng.pick(COMMANDS);
  const argv = [...c.cmd];
  let slow = false;
  if (c.image) {
    // The real sample only where the command is cheap on it (no discovery); garbage files elsewhere.
    const img = c.fastOnSample && rng.bool(0.5) ? sample : rng.pick(images);
    argv.push(img);
  }
  // Half the command lines use only real option names (garbage values): those reach the analysis.
  const junk = rng.bool();
  for (let k = rng.int(0, 4); k > 0; k--) {
    const r = junk ? rng.int(0, 9) : rng.pick([0, 9]);
    if (r <= 6 && c.options.length > 0) {
      const o = rng.pick(c.options);
      argv.push(o);
      if (!['--allow-network', '--heuristic-profile', '--processes', '--walk', '--version', '--bogus'].includes(o)) argv.push(garbageValue(rng, o));
    } else if (r <= 8) {
      argv.push(rng.pick(['--bogus', '-x', '--length=99999999999', '--format=xml', '--', '-', '--help-me', '--pa=', '---']));
    } else if (c.trailing) {
      argv.push(garbageValue(rng, '--va'));
    }
  }
  // A --help anywhere prints help and exits 0: keep it rare so parsing errors get exercised.
  if (rng.bool(0.03)) argv.push('--help');
  if (argv.includes('--heuristic-profile')) slow = true;
  return { argv, slow };
}

describe('CLI under garbage argv (fuzz)', () => {
  it('the sample image itself works (so the garbage starts from a valid command)', async () => {
    let out = '';
    const code = await runCli(['hexdump', sample, '--pa', '0x1000', '--length', '16'], { out: (s) => { out += s; }, err: () => undefined });
    expect(code).toBe(0);
    expect(out).toMatch(/^0*1000/m);
  });

  it(`${ITERATIONS} garbage command lines exit 0/1/2 with exactly one "memscope: " line on failure`, { timeout: 300_000 }, async () => {
    const seed = 0xc11;
    const rng = new Prng(seed);
    const failures = new FuzzFailures('cli', seed);
    const codes = [0, 0, 0];
    for (let i = 0; i < ITERATIONS; i++) {
      const { argv } = randomArgv(rng);
      const what = JSON.stringify(argv);
      let err = '';
      let timer: NodeJS.Timeout | undefined;
      let code: number | 'timeout';
      try {
        code = await Promise.race([
          runCli(argv, { out: () => undefined, err: (s) => { err += s; } }),
          new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), TIMEOUT_MS); }),
        ]);
      } catch (e) {
        failures.fail(i, what, `runCli threw instead of returning an exit code: ${e instanceof Error ? e.stack : String(e)}`);
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (code === 'timeout') { failures.fail(i, what, `no exit within ${TIMEOUT_MS} ms`); continue; }
      if (code !== 0 && code !== 1 && code !== 2) { failures.fail(i, what, `exit code ${code}`); continue; }
      codes[code]!++;
      if (code === 0) continue;
      const lines = err.split('\n').filter((l) => l !== '');
      if (lines.length !== 1 || !lines[0]!.startsWith('memscope: ')) failures.fail(i, what, `exit ${code} with stderr ${JSON.stringify(err)}`);
      else if (/internal error/.test(err)) failures.fail(i, what, `exit ${code}: ${err.trim()}`);
    }
    expect(failures.list, failures.list.join('\n\n')).toEqual([]);
    // Not vacuous: both usage errors (2) and analysis/format errors (1) were reached.
    expect(codes[2]).toBeGreaterThan(ITERATIONS / 10);
    expect(codes[1]).toBeGreaterThan(ITERATIONS / 20);
  });
});
