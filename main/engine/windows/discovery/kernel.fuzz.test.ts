/**
 * Mutation fuzz of kernel analysis on a corrupted VALID sample image: discovery (DTB, kernel base,
 * profile — the whole-memory DTB scans included, since a corrupt low stub or PML4 sends discovery
 * there), pslist and psscan on a 19041 sample whose kernel structures are overwritten
 * (testing/corrupt-sample.ts). Rule (helpers brief, "Bad input"; issue 6: corrupt pool headers,
 * EPROCESS fields pointing anywhere, list cycles; issue 11: no silent empty result): each case ends
 * with results or a MemScopeError, never another exception or a hang, and a stage that finds no
 * rows says why in a warning. Each case runs in a child process with a deadline (FuzzChild), so a
 * synchronous loop is caught and reported with its seed and iteration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSample, type GroundTruth } from '../../sample/index.js';
import { makeTempDir, removeTempDir } from '../../acquire/writers/testing.js';
import { openSource } from '../../sources/detect.js';
import { FuzzChild, FuzzFailures, Prng } from '../../util/testing/fuzz.js';
import type { KernelCase, KernelCaseResult } from './testing/kernel-fuzz-case.js';
import { corruptionTargets, randomCorruption, type CorruptionTarget } from './testing/corrupt-sample.js';

const ITERATIONS = 60;
const DEADLINE_MS = 30_000;

let dir: string;
let image: string;
let truth: GroundTruth;
let size: number;
let targets: CorruptionTarget[];
const child = new FuzzChild(new URL('./testing/kernel-fuzz-case.ts', import.meta.url).href);
const run = (c: KernelCase) => child.run<KernelCase, KernelCaseResult>(c, DEADLINE_MS);

beforeAll(async () => {
  dir = makeTempDir('memscope-kernfuzz-');
  image = `${dir}/sample.raw`;
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 3 });
  const source = openSource(image);
  try {
    size = source.size;
    targets = corruptionTargets(source, truth);
  } finally {
    source.close();
  }
}, 120_000);
afterAll(() => {
  child.close();
  if (dir) removeTempDir(dir);
});

describe('kernel analysis on corrupted images (fuzz)', () => {
  it('the pristine sample is analysed correctly in the fuzz child (so the corruptions start from valid input)', { timeout: 60_000 }, async () => {
    const r = await run({ image, name: 'pristine.raw', patches: [] });
    expect(r).toMatchObject({ kind: 'done', value: { errors: [], scanned: false } });
    if (r.kind !== 'done') return;
    expect(r.value.pslist).toEqual({ rows: truth.processes.filter((p) => p.foundBy.pslist).length, warnings: [] });
    expect(r.value.psscan).toEqual({ rows: truth.processes.filter((p) => p.foundBy.psscan).length, warnings: [] });
    expect(targets.length).toBeGreaterThan(20);
  });

  it(`${ITERATIONS} corrupted images: discovery (scans on), pslist and psscan end in results or a MemScopeError, never silently empty`, { timeout: 240_000 }, async () => {
    const seed = 0xc0de;
    const rng = new Prng(seed);
    const failures = new FuzzFailures('kernel', seed);
    let discovered = 0;
    let scanned = 0;
    let pslistRows = 0;
    let psscanRows = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const c = randomCorruption(rng, truth, targets, size, i % 3 === 0);
      const r = failures.outcome(i, c.what, await run({ image, name: `corrupt-${i}.raw`, patches: c.patches, ...(c.hints ? { hints: c.hints } : {}) }));
      if (!r || r.dtbMethod === null) continue;
      discovered++;
      if (r.scanned) scanned++;
      for (const [name, s] of [['pslist', r.pslist], ['psscan', r.psscan]] as const) {
        if (s === null) continue;
        if (s.rows === 0 && s.warnings.length === 0) failures.fail(i, c.what, `${name} found no process and said nothing`);
      }
      pslistRows += r.pslist?.rows ?? 0;
      psscanRows += r.psscan?.rows ?? 0;
    }
    expect(failures.list, failures.list.join('\n\n')).toEqual([]);
    // Not vacuous: most corruptions leave the kernel discoverable, so the plugins ran on bad data.
    expect(discovered).toBeGreaterThan(ITERATIONS / 3);
    expect(pslistRows).toBeGreaterThan(0);
    expect(psscanRows).toBeGreaterThan(0);
    expect(scanned).toBeGreaterThan(0); // the whole-memory DTB scans ran on corrupt images too
    console.log(`kernel fuzz: ${discovered}/${ITERATIONS} discovered, ${scanned} through a whole-memory scan`);
  });
});
