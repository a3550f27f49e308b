/**
 * Test support for the mutation fuzz suites: corrupt a VALID sample image where it hurts. Targets are
 * the physical addresses of the kernel's structures (the PML4, the low stub, the kernel's first pages
 * and symbols, every EPROCESS with its pool and object headers, threads and DirBase, the decoys);
 * a corruption overwrites a few spans there with random bytes or plausible pointers (kernel VAs,
 * self-references, other EPROCESS links: list cycles and cross-links), and sometimes carries garbage
 * header hints (as a corrupt crash dump or ELF note would). Every corruption is drawn from the fuzz
 * PRNG, so (seed, iteration) reproduces it.
 */
import type { GroundTruth } from '../../../sample/truth.js';
import { readIntoTarget, type AbsentRange, type PhysicalSource, type ReadResult, type SourceHints } from '../../../sources/physical-source.js';
import type { Prng } from '../../../util/testing/fuzz.js';
import { translateVa } from '../page-walk.js';

export interface CorruptionTarget {
  readonly pa: number;
  readonly what: string;
}

export interface Patch {
  readonly pa: number;
  readonly bytes: Uint8Array;
}

export interface Corruption {
  readonly patches: readonly Patch[];
  readonly hints?: SourceHints;
  /** One line saying what was overwritten, for failure messages. */
  readonly what: string;
}

/** Physical addresses of the sample's kernel structures, read from its truth through its page tables. */
export function corruptionTargets(source: PhysicalSource, truth: GroundTruth): CorruptionTarget[] {
  const pml4 = Number(BigInt(truth.pml4));
  const t: CorruptionTarget[] = [{ pa: pml4, what: 'PML4' }];
  if (truth.lowStubPa) t.push({ pa: Number(BigInt(truth.lowStubPa)), what: 'low stub' });
  const va = (v: string, what: string): void => {
    const pa = translateVa(source, pml4, BigInt(v));
    if (pa !== null) t.push({ pa, what });
  };
  va(truth.kernelBase, 'kernel PE header');
  for (const [name, v] of Object.entries(truth.symbols)) va(v, `symbol ${name}`);
  for (const p of truth.processes) {
    t.push({ pa: Number(BigInt(p.physicalOffset)), what: `EPROCESS ${p.name}` });
    if (p.poolHeader) va(p.poolHeader, `pool header ${p.name}`);
    if (p.objectHeader) va(p.objectHeader, `object header ${p.name}`);
    for (const th of p.threadOffsets ?? []) va(th, `ETHREAD of ${p.name}`);
    t.push({ pa: Number(BigInt(p.dtb) & ~0xfffn), what: `PML4 of ${p.name}` });
  }
  for (const d of truth.decoys) t.push({ pa: Number(BigInt(d.physicalOffset)), what: `decoy (${d.why})` });
  return t.filter((x) => Number.isSafeInteger(x.pa) && x.pa >= 0 && x.pa < source.size);
}

/**
 * 1..6 overwritten spans at random targets, a third of the time with garbage header hints. With
 * `forceScan` the low stub's signature is wiped as well, so discovery's cheap methods find nothing and
 * its whole-memory DTB scans run over the corrupt image.
 */
export function randomCorruption(rng: Prng, truth: GroundTruth, targets: readonly CorruptionTarget[], size: number, forceScan = false): Corruption {
  const patches: Patch[] = [];
  const whats: string[] = [];
  if (forceScan && truth.lowStubPa) {
    patches.push({ pa: Number(BigInt(truth.lowStubPa)), bytes: new Uint8Array(16) });
    whats.push('low stub signature zeroed (forces the whole-memory DTB scans)');
  }
  for (let k = rng.int(1, 6); k > 0; k--) {
    const t = rng.pick(targets);
    const len = rng.int(16, 4096);
    // start somewhere in the structure or just before it (headers precede bodies)
    const pa = Math.max(0, Math.min(size - len, t.pa + rng.int(-256, 0xa00)));
    const bytes = new Uint8Array(len);
    const asPointers = rng.bool(0.4);
    const dv = new DataView(bytes.buffer);
    for (let o = 0; o + 8 <= len; o += 8) {
      if (asPointers) {
        dv.setBigUint64(o, rng.pick([
          BigInt(truth.kernelBase) + BigInt(rng.int(0, 0x100000)), 0xffff800000000000n + BigInt(pa + o), 0n, 0xffffffffffffffffn, BigInt(pa),
          // another EPROCESS (or its ActiveProcessLinks, 0x448 on 19041): list cycles and cross-links
          BigInt(rng.pick(truth.processes).offset) + rng.pick([0n, 0x448n, 0x8n]),
        ]), true);
      } else {
        dv.setUint32(o, rng.nextU32(), true);
        dv.setUint32(o + 4, rng.nextU32(), true);
      }
    }
    patches.push({ pa, bytes });
    whats.push(`${len} ${asPointers ? 'pointer' : 'random'} bytes at PA 0x${pa.toString(16)} (${t.what})`);
  }
  let hints: SourceHints | undefined;
  if (rng.bool(0.33)) {
    const wild = (): bigint => rng.pick([0xffffffffffffffffn, 0x8000000000000000n, 0xfffff80000000000n, BigInt(size) + 0x1000n, BigInt(truth.pml4) | 0xfffn, BigInt(truth.kernelBase) + 0x7ffn, 0x1n, 0x7ffffffffffffn]);
    hints = { dtb: wild(), kernelBase: wild(), psActiveProcessHead: wild(), psLoadedModuleList: wild(), kdDebuggerDataBlock: wild(), buildNumber: rng.pick([0, 19041, 0xffff, 7601]), majorVersion: 15, minorVersion: rng.nextU32() };
    whats.push(`hints ${JSON.stringify(hints, (_, v: unknown) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v))}`);
  }
  return { patches, ...(hints ? { hints } : {}), what: whats.join('; ') };
}

/** `base` with byte spans replaced: a corrupted copy of the image, served without copying it. */
export class PatchedSource implements PhysicalSource {
  readonly kind;
  readonly name: string;
  readonly size: number;
  readonly hints;
  constructor(private readonly base: PhysicalSource, private readonly patches: readonly Patch[], name: string, hints?: SourceHints) {
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
    const absent = readIntoTarget(this.base, address, target);
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
  close(): void { /* the base is shared across cases */ }
}
