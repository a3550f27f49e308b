/**
 * Fuzz of the CLI, every case run by runCli in a child process with a deadline (FuzzChild), so a
 * synchronous loop is caught and reported with its seed and iteration. Two kinds of input:
 * - garbage argv (options, values and files: missing, empty, a directory, zeros, a truncated ELF, JSON);
 * - MUTATED VALID images: the sample with its kernel structures overwritten (testing/corrupt-sample.ts,
 *   some with the low stub wiped so discovery's whole-memory scans run), fed to info, dtb --processes,
 *   pslist, psscan and psxview.
 * Rule (helpers brief, "Bad input"; README "CLI"; issue 11: no silent empty result): the exit code is
 * 0, 1 or 2; a failure prints exactly one error line on stderr starting "memscope: " (warnings before
 * it allowed) — never "internal error" (an exception that is not a MemScopeError), a stack, or a
 * hang; and a command that exits 0 with zero rows said why in a "memscope: warning:" line. Commands
 * that touch the network or build images (profile fetch, sample, demo) are left out; every --out /
 * --home points into a temp directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSample, type GroundTruth } from '../engine/sample/index.js';
import { makeTempDir, removeTempDir } from '../engine/acquire/writers/testing.js';
import { openSource } from '../engine/sources/detect.js';
import { FuzzChild, FuzzFailures, Prng } from '../engine/util/testing/fuzz.js';
import { corruptionTargets, randomCorruption } from '../engine/windows/discovery/testing/corrupt-sample.js';
import type { CliCase, CliCaseResult } from './testing/cli-fuzz-case.js';

const ITERATIONS = 1200;
const MUTATED_IMAGES = 2;
const DEADLINE_MS = 30_000;

let dir: string;
let sample: string;
let truth: GroundTruth;
let images: string[];
/** The sample with its kernel structures corrupted, what was overwritten, and the commands to run on it. */
const mutated: { path: string; what: string; commands: readonly (readonly string[])[] }[] = [];
const IMAGE_COMMANDS = [['info'], ['dtb', '--processes'], ['pslist'], ['psscan'], ['psxview']] as const;
const savedHome = process.env['MEMSCOPE_HOME'];
const child = new FuzzChild(new URL('./testing/cli-fuzz-case.ts', import.meta.url).href);
const cli = (argv: readonly string[]) => child.run<CliCase, CliCaseResult>({ argv }, DEADLINE_MS);

beforeAll(async () => {
  dir = makeTempDir('memscope-clifuzz-');
  process.env['MEMSCOPE_HOME'] = path.join(dir, 'home'); // profile import writes its cache here, not in ~ (the child inherits it)
  sample = path.join(dir, 'sample.raw');
  truth = await buildSample({ build: '19041', format: 'raw', out: sample, sizeMiB: 64, seed: 3 });
  const source = openSource(sample);
  const targets = corruptionTargets(source, truth);
  source.close();
  const rng = new Prng(0x1a6e);
  const write = (name: string, patches: readonly { pa: number; bytes: Uint8Array }[]): string => {
    const p = path.join(dir, name);
    fs.copyFileSync(sample, p);
    const fd = fs.openSync(p, 'r+');
    try {
      for (const patch of patches) fs.writeSync(fd, patch.bytes, 0, patch.bytes.length, patch.pa); // raw image: file offset = PA
    } finally {
      fs.closeSync(fd);
    }
    return p;
  };
  for (let i = 0; i < MUTATED_IMAGES; i++) {
    const c = randomCorruption(rng, truth, targets, truth.sizeBytes, i % 2 === 0);
    mutated.push({ path: write(`mutated-${i}.raw`, c.patches), what: c.what, commands: IMAGE_COMMANDS });
  }
  // A known empty result: PsActiveProcessHead pointing to itself (pslist finds nothing and must say so).
  const head = BigInt(truth.symbols['PsActiveProcessHead']!);
  const headPa = targets.find((t) => t.what === 'symbol PsActiveProcessHead')!.pa;
  const self = new Uint8Array(16);
  new DataView(self.buffer).setBigUint64(0, head, true);
  new DataView(self.buffer).setBigUint64(8, head, true);
  mutated.push({ path: write('empty-list.raw', [{ pa: headPa, bytes: self }]), what: 'PsActiveProcessHead points to itself', commands: [['pslist']] });
  const zeros = path.join(dir, 'zeros.raw');
  fs.writeFileSync(zeros, new Uint8Array(64 * 1024));
  const tiny = path.join(dir, 'tiny.bin');
  fs.writeFileSync(tiny, Buffer.from('\x7fELF\x02\x01\x01garbage'));
  const json = path.join(dir, 'bad.json');
  fs.writeFileSync(json, '{"metadata": {"format": "6.1.0"}, "user_types": 3}');
  images = [path.join(dir, 'missing.raw'), '', dir, zeros, tiny, json, '-'];
}, 120_000);
afterAll(() => {
  child.close();
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

/** Exit code 0/1/2; a failure is one "memscope: " error line (warnings may precede it), never an internal error. */
function checkExit(failures: FuzzFailures, i: number, what: string, r: CliCaseResult): boolean {
  if (r.code !== 0 && r.code !== 1 && r.code !== 2) { failures.fail(i, what, `exit code ${r.code}`); return false; }
  if (r.code === 0) return true;
  const lines = r.err.split('\n').filter((l) => l !== '');
  const errors = lines.filter((l) => !l.startsWith('memscope: warning: '));
  if (errors.length !== 1 || !errors[0]!.startsWith('memscope: ') || lines.some((l) => !l.startsWith('memscope: '))) {
    failures.fail(i, what, `exit ${r.code} with stderr ${JSON.stringify(r.err)}`);
  } else if (/internal error/.test(r.err)) failures.fail(i, what, `exit ${r.code}: ${r.err.trim()}`);
  return true;
}

/** Rows of a command's JSON output: the row array of pslist/psscan/psxview, dtb's candidates and processes. */
function rowCounts(cmd: string, out: string): Record<string, number> {
  const doc = JSON.parse(out) as unknown;
  if (Array.isArray(doc)) return { [cmd]: doc.length };
  const d = doc as { candidates?: unknown[]; processes?: unknown[] };
  return cmd === 'dtb' ? { candidates: d.candidates?.length ?? 0, processes: d.processes?.length ?? 0 } : {};
}

describe('CLI fuzz (each case in a child process with a deadline)', () => {
  it('the sample image itself works (so the garbage starts from a valid command)', async () => {
    const r = await cli(['hexdump', sample, '--pa', '0x1000', '--length', '16']);
    expect(r).toMatchObject({ kind: 'done', value: { code: 0 } });
    if (r.kind === 'done') expect(r.value.out).toMatch(/^0*1000/m);
  });

  it(`${ITERATIONS} garbage command lines exit 0/1/2 with exactly one "memscope: " line on failure`, { timeout: 300_000 }, async () => {
    const seed = 0xc11;
    const rng = new Prng(seed);
    const failures = new FuzzFailures('cli', seed);
    const codes = [0, 0, 0];
    for (let i = 0; i < ITERATIONS; i++) {
      const { argv } = randomArgv(rng);
      const what = JSON.stringify(argv);
      const r = failures.outcome(i, what, await cli(argv));
      if (r === undefined) continue;
      if (checkExit(failures, i, what, r)) codes[r.code]!++;
    }
    expect(failures.list, failures.list.join('\n\n')).toEqual([]);
    // Not vacuous: both usage errors (2) and analysis/format errors (1) were reached.
    expect(codes[2]).toBeGreaterThan(ITERATIONS / 10);
    expect(codes[1]).toBeGreaterThan(ITERATIONS / 20);
  });

  it(`info, dtb, pslist, psscan, psxview on ${MUTATED_IMAGES + 1} mutated valid images: exit 0/1/2, and never zero rows without a warning`, { timeout: 300_000 }, async () => {
    const failures = new FuzzFailures('cli-mutated', 0x1a6e);
    let analysed = 0;
    let emptyButSaid = 0;
    for (const [i, m] of mutated.entries()) {
      for (const cmd of m.commands) {
        const argv = [...cmd, m.path, '--format', 'json'];
        const what = `${argv.join(' ')}: ${m.what}`;
        const r = failures.outcome(i, what, await cli(argv));
        if (r === undefined || !checkExit(failures, i, what, r) || r.code !== 0) continue;
        let rows: Record<string, number>;
        try {
          rows = rowCounts(cmd[0]!, r.out);
        } catch (e) {
          failures.fail(i, what, `exit 0 but stdout is not JSON: ${(e as Error).message}`);
          continue;
        }
        analysed++;
        const empty = Object.entries(rows).filter(([, n]) => n === 0).map(([k]) => k);
        if (empty.length === 0) continue;
        if (/^memscope: warning: /m.test(r.err)) emptyButSaid++;
        else failures.fail(i, what, `exit 0 with no ${empty.join('/')} rows and nothing on stderr`);
      }
    }
    expect(failures.list, failures.list.join('\n\n')).toEqual([]);
    expect(emptyButSaid).toBeGreaterThan(0); // the empty-list image at least: the zero-rows rule was exercised
    // Not vacuous: the corrupt images were analysed, not all refused at the door.
    expect(analysed).toBeGreaterThan(MUTATED_IMAGES * 2);
  });
});
