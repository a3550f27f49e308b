/**
 * Hostile and damaged images: a raw sample copy patched byte by byte (raw image file offset = PA).
 * List cycles and wild Flinks end the pslist walk with a warning; corrupt pool headers are rejected
 * while the scan goes on; EPROCESS pointers aimed anywhere and unreadable pages mid-structure give
 * rows that name the missing fields.
 */
import { copyFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroundTruth } from '../sample/index.js';
import { X64AddressSpace } from '../translate/x64/address-space.js';
import { collectPslist } from './pslist/index.js';
import { collectPsscan } from './psscan/index.js';
import { psxview } from './psxview/index.js';
import { SampleSet, type SampleKernel } from './testing/sample-kernel.js';

const set = new SampleSet();
let base: SampleKernel;
beforeAll(async () => { base = await set.build('19041', 'raw', 7); });
afterAll(() => set.cleanup());

let n = 0;
/** Copy the base image, apply `patch(write, truth)`, open and discover the copy. */
async function patched(patch: (write: (pa: number, bytes: Uint8Array) => void, truth: GroundTruth) => void): Promise<SampleKernel> {
  const path = join(set.dir, `patched-${n++}.raw`);
  copyFileSync(base.path, path);
  const fd = openSync(path, 'r+');
  try {
    patch((pa, bytes) => writeSync(fd, bytes, 0, bytes.length, pa), base.truth);
  } finally {
    closeSync(fd);
  }
  return set.load(path, base.truth);
}
const u64 = (v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); return b; };
const kpa = (va: bigint) => base.kernel.kernel.translate(va).pa!;
const off = (field: string) => BigInt(base.kernel.profile.offsetOf('_EPROCESS', field));

describe('bad input', () => {
  it('a Flink cycle that skips the head ends pslist with a warning, not a spin', async () => {
    const linked = base.truth.processes.filter((p) => p.foundBy.pslist);
    const third = linked[2]!;
    const first = linked[0]!;
    const k = await patched((w) => w(kpa(BigInt(third.offset) + off('ActiveProcessLinks')), u64(BigInt(first.offset) + off('ActiveProcessLinks'))));
    const r = await collectPslist(k.kernel);
    expect(r.rows.map((x) => x.pid)).toEqual(linked.slice(0, 3).map((p) => p.pid));
    expect(r.warnings.join('\n')).toMatch(/cycle/);
  });

  it('a wild Flink ends the walk with a warning naming the address', async () => {
    const linked = base.truth.processes.filter((p) => p.foundBy.pslist);
    const k = await patched((w) => w(kpa(BigInt(linked[1]!.offset) + off('ActiveProcessLinks')), u64(0x4141414141414141n)));
    const r = await collectPslist(k.kernel);
    expect(r.rows).toHaveLength(2);
    expect(r.warnings.join('\n')).toMatch(/0x4141414141414141, not a kernel address/);
  });

  it('EPROCESS pointers aimed anywhere: the row names the fields it could not read', async () => {
    const victim = base.truth.processes.find((p) => p.foundBy.pslist && p.imagePath !== null && p.sessionId !== null)!;
    const k = await patched((w) => {
      w(kpa(BigInt(victim.offset) + off('Peb')), u64(0x00007ff7_dead0000n));
      w(kpa(BigInt(victim.offset) + off('Session')), u64(0xffffdead_beef0000n));
    });
    const r = await collectPslist(k.kernel);
    const row = r.rows.find((x) => x.offset === victim.offset)!;
    expect(row.imagePath).toBeNull();
    expect(row.commandLine).toBeNull();
    expect(row.sessionId).toBeNull();
    expect(row.missing).toEqual(expect.arrayContaining(['imagePath', 'commandLine', 'sessionId']));
    expect(row.name).toBe(victim.name);
    expect(r.rows).toHaveLength(base.truth.processes.filter((p) => p.foundBy.pslist).length);
  });

  it('corrupt pool headers (free, paged, tiny) are rejected and the scan goes on', async () => {
    const procs = base.truth.processes.filter((p) => p.foundBy.psscan && !p.straddles) as (GroundTruth['processes'][number] & { poolHeader: string })[];
    const [a, b, c] = procs.slice(3, 6);
    const k = await patched((w) => {
      w(kpa(BigInt(a!.poolHeader)) + 3, Uint8Array.of(0)); // PoolType 0: free
      w(kpa(BigInt(b!.poolHeader)) + 3, Uint8Array.of(3)); // odd: paged
      w(kpa(BigInt(c!.poolHeader)) + 2, Uint8Array.of(2)); // BlockSize 32 bytes
    });
    const r = await collectPsscan(k.kernel);
    const found = new Set(r.rows.map((x) => x.offset));
    for (const p of [a, b, c]) expect(found.has(p!.offset)).toBe(false);
    expect(r.rows).toHaveLength(procs.length + base.truth.processes.filter((p) => p.foundBy.psscan && p.straddles).length - 3);
    const reasons = r.rejected.map((x) => x.reason).join('\n');
    expect(reasons).toMatch(/free \(PoolType 0\)/);
    expect(reasons).toMatch(/paged pool/);
    expect(reasons).toMatch(/too small/);
  });

  it('an unreadable page mid-EPROCESS: the row lists the fields on the missing page', async () => {
    const profile = base.kernel.profile;
    const at = (f: string) => profile.offsetOf('_EPROCESS', f);
    const cutOf = (o: string) => Number((((BigInt(o) + 0x1000n) & ~0xfffn)) - BigInt(o));
    // a straddling, linked process whose list links are on the first page and its name on the second
    const s = base.truth.processes.find((p) => p.straddles && p.foundBy.pslist && cutOf(p.offset) > at('ActiveProcessLinks') + 16 && cutOf(p.offset) <= at('ImageFileName'));
    expect(s, 'sample has a suitable straddling process').toBeDefined();
    const eva = BigInt(s!.offset);
    const secondPage = (eva + 0x1000n) & ~0xfffn;
    const space = new X64AddressSpace(base.source, BigInt(base.truth.dtb));
    const pte = space.translate(secondPage).walk.at(-1)!;
    expect(pte.level).toBe('PT');
    const k = await patched((w) => w(pte.entryAddress, u64(0n)));
    const r = await collectPslist(k.kernel);
    const row = r.rows.find((x) => x.offset === s!.offset)!;
    expect(row).toBeDefined();
    expect(row.missing).toContain('ImageFileName');
    expect(row.name).toBeNull();
    expect(row.pid).toBe(s!.pid); // UniqueProcessId is on the first page
    expect(r.rows).toHaveLength(base.truth.processes.filter((p) => p.foundBy.pslist).length);
  });

  it('psxview survives a corrupt PspCidTable pointer and still reports the other sources', async () => {
    const k = await patched((w, t) => w(kpa(BigInt(t.symbols['PspCidTable']!)), u64(0xffff_8000_dead_0000n)));
    const r = await psxview(k.kernel);
    expect(r.rows.every((x) => x.cidtable === false)).toBe(true);
    expect(r.rows.filter((x) => x.pslist)).toHaveLength(base.truth.processes.filter((p) => p.foundBy.pslist).length);
    expect(r.warnings.join('\n')).toMatch(/PspCidTable/);
  });
});
