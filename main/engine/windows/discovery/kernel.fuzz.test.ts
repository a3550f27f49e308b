/**
 * Mutation fuzz of kernel analysis on a corrupted sample image: discovery (DTB, kernel base,
 * profile), pslist and psscan on a 19041 sample whose kernel structures (EPROCESS blocks, pool and
 * object headers, the PML4, the low stub, the kernel image's first pages, the list heads) are
 * overwritten with random spans. Rule (helpers brief, "Bad input"; issue 6: corrupt pool headers,
 * EPROCESS fields pointing anywhere, list cycles): each run finishes within a bounded time with
 * results or a MemScopeError — never another exception, never a hang.
 *
 * The corrupted image is an overlay on the pristine file (patched spans served over the file's
 * bytes), which reads exactly like an overwritten copy without writing 64 MiB per iteration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileProviders } from '../../session/profile-providers.js';
import { collectPslist } from '../../plugins/pslist/index.js';
import { collectPsscan } from '../../plugins/psscan/index.js';
import { buildSample, type GroundTruth } from '../../sample/index.js';
import { makeTempDir, removeTempDir } from '../../sample/writers/testing.js';
import { openSource } from '../../sources/detect.js';
import type { AbsentRange, PhysicalSource, ReadResult, SourceHints } from '../../sources/physical-source.js';
import { attemptAsync, FuzzFailures, Prng } from '../../util/testing/fuzz.js';
import { discoverKernel } from './discover.js';
import { translateVa } from './page-walk.js';

const ITERATIONS = 90;
const TIMEOUT_MS = 20_000;

/** `base` with byte spans replaced (a corrupted copy of the image, served without copying it). */
class PatchedSource implements PhysicalSource {
  readonly kind;
  readonly name: string;
  readonly size: number;
  readonly hints;
  constructor(private readonly base: PhysicalSource, private readonly patches: readonly { pa: number; bytes: Uint8Array }[], name: string, hints?: SourceHints) {
    this.kind = base.kind;
    this.name = name;
    this.size = base.size;
    this.hints = hints ?? base.hints;
  }
  runs() { return this.base.runs(); }
  read(address: number, length: number): ReadResult {
    const r = this.base.read(address, length);
    this.apply(address, r.data);
    return r;
  }
  readInto(address: number, target: Uint8Array): readonly AbsentRange[] {
    const absent = this.base.readInto ? this.base.readInto(address, target) : (() => { const r = this.base.read(address, target.length); target.set(r.data); return r.absent; })();
    this.apply(address, target);
    return absent;
  }
  private apply(address: number, data: Uint8Array): void {
    const end = address + data.length;
    for (const p of this.patches) {
      const lo = Math.max(address, p.pa);
      const hi = Math.min(end, p.pa + p.bytes.length);
      if (lo < hi) data.set(p.bytes.subarray(lo - p.pa, hi - p.pa), lo - address);
    }
  }
  close(): void { /* the base is shared across iterations */ }
}

let dir: string;
let image: string;
let truth: GroundTruth;
let base: PhysicalSource;
/** Physical addresses of the kernel's structures: where corruption hurts. */
let targets: { pa: number; what: string }[];

beforeAll(async () => {
  dir = makeTempDir('memscope-kernfuzz-');
  image = `${dir}/sample.raw`;
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 3 });
  base = openSource(image);
  const pml4 = Number(BigInt(truth.pml4));
  const t: { pa: number; what: string }[] = [{ pa: pml4, what: 'PML4' }];
  if (truth.lowStubPa) t.push({ pa: Number(BigInt(truth.lowStubPa)), what: 'low stub' });
  const va = (v: string, what: string, delta = 0n): void => {
    const pa = translateVa(base, pml4, BigInt(v) + delta);
    if (pa !== null) t.push({ pa, what });
  };
  va(truth.kernelBase, 'kernel PE header');
  for (const [name, v] of Object.entries(truth.symbols)) va(v, `symbol ${name}`);
  for (const p of truth.processes) {
    t.push({ pa: Number(BigInt(p.physicalOffset)), what: `EPROCESS ${p.name}` });
    if (p.poolHeader) va(p.poolHeader, `pool header ${p.name}`);
    if (p.objectHeader) va(p.objectHeader, `object header ${p.name}`);
    for (const th of p.threadOffsets ?? []) va(th, `ETHREAD of ${p.name}`);
    // the process's own PML4 (DirectoryTableBase)
    t.push({ pa: Number(BigInt(p.dtb) & ~0xfffn), what: `PML4 of ${p.name}` });
  }
  for (const d of truth.decoys) t.push({ pa: Number(BigInt(d.physicalOffset)), what: `decoy (${d.why})` });
  targets = t.filter((x) => Number.isSafeInteger(x.pa) && x.pa >= 0 && x.pa < base.size);
}, 120_000);
afterAll(() => {
  base?.close();
  if (dir) removeTempDir(dir);
});

describe('kernel analysis on corrupted images (fuzz)', () => {
  it('the pristine sample is analysed correctly (so the corruptions start from valid input)', { timeout: 60_000 }, async () => {
    const { kernel } = await discoverKernel(base, { store: profileProviders(), noScan: true });
    const { rows } = await collectPslist(kernel);
    expect(rows.length).toBe(truth.processes.filter((p) => p.foundBy.pslist).length);
    const scanned = await collectPsscan(kernel);
    expect(scanned.rows.length).toBe(truth.processes.filter((p) => p.foundBy.psscan).length);
    expect(targets.length).toBeGreaterThan(20);
  });

  it(`${ITERATIONS} corrupted images: discovery, pslist and psscan finish with results or a MemScopeError`, { timeout: 240_000 }, async () => {
    const seed = 0xc0de;
    const rng = new Prng(seed);
    const failures = new FuzzFailures('kernel', seed);
    const store = profileProviders();
    let discovered = 0;
    let pslistRows = 0;
    let psscanRows = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const patches: { pa: number; bytes: Uint8Array }[] = [];
      const whats: string[] = [];
      for (let k = rng.int(1, 6); k > 0; k--) {
        const t = rng.pick(targets);
        const len = rng.int(16, 4096);
        // start somewhere in the structure or just before it (headers precede bodies)
        const pa = Math.max(0, Math.min(base.size - len, t.pa + rng.int(-256, 0xa00)));
        const bytes = new Uint8Array(len);
        // random bytes, or plausible-looking pointers (kernel VAs / self-references make loops)
        const asPointers = rng.bool(0.4);
        const dv = new DataView(bytes.buffer);
        for (let o = 0; o + 8 <= len; o += 8) {
          if (asPointers) dv.setBigUint64(o, rng.pick([
            BigInt(truth.kernelBase) + BigInt(rng.int(0, 0x100000)), 0xffff800000000000n + BigInt(pa + o), 0n, 0xffffffffffffffffn, BigInt(pa),
            // another EPROCESS (or its ActiveProcessLinks, 0x448 on 19041): list cycles and cross-links
            BigInt(rng.pick(truth.processes).offset) + rng.pick([0n, 0x448n, 0x8n]),
          ]), true);
          else dv.setUint32(o, rng.nextU32(), true), dv.setUint32(o + 4, rng.nextU32(), true);
        }
        patches.push({ pa, bytes });
        whats.push(`${len} ${asPointers ? 'pointer' : 'random'} bytes at PA 0x${pa.toString(16)} (${t.what})`);
      }
      // A third of the images also carry garbage header hints (as a corrupt crash dump or ELF note
      // would): a DTB outside memory or with junk low bits, non-canonical or wild kernel addresses.
      let hints: SourceHints | undefined;
      if (rng.bool(0.33)) {
        const wild = (): bigint => rng.pick([0xffffffffffffffffn, 0x8000000000000000n, 0xfffff80000000000n, BigInt(base.size) + 0x1000n, BigInt(truth.pml4) | 0xfffn, BigInt(truth.kernelBase) + 0x7ffn, 0x1n, 0x7ffffffffffffn]);
        hints = { dtb: wild(), kernelBase: wild(), psActiveProcessHead: wild(), psLoadedModuleList: wild(), kdDebuggerDataBlock: wild(), buildNumber: rng.pick([0, 19041, 0xffff, 7601]), majorVersion: 15, minorVersion: rng.nextU32() };
        whats.push(`hints ${JSON.stringify(hints, (_, v: unknown) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v))}`);
      }
      const src = new PatchedSource(base, patches, `corrupt-${i}.raw`, hints);
      const what = whats.join('; ');
      await attemptAsync(failures, i, what, async () => {
        const { kernel } = await discoverKernel(src, { store, noScan: true });
        discovered++;
        await attemptAsync(failures, i, `${what} [pslist]`, async () => { pslistRows += (await collectPslist(kernel)).rows.length; }, TIMEOUT_MS);
        await attemptAsync(failures, i, `${what} [psscan]`, async () => { psscanRows += (await collectPsscan(kernel)).rows.length; }, TIMEOUT_MS);
      }, TIMEOUT_MS * 3);
    }
    expect(failures.list, failures.list.join('\n\n')).toEqual([]);
    // Not vacuous: most corruptions leave the kernel discoverable, so the plugins ran on bad data.
    expect(discovered).toBeGreaterThan(ITERATIONS / 3);
    expect(pslistRows).toBeGreaterThan(0);
    expect(psscanRows).toBeGreaterThan(0);
  });
});
