/**
 * Hostile and damaged images: a raw sample copy patched byte by byte (raw image file offset = PA).
 * List cycles and wild Flinks end the pslist walk with a warning; corrupt pool headers are rejected
 * while the scan goes on; EPROCESS pointers aimed anywhere and unreadable pages mid-structure give
 * rows that name the missing fields. Broken lists and tables (an active list pointing to itself, a
 * CID table, csrss handles or session lists that hold nothing) are reported by the source, and
 * psxview's verdicts blame the source instead of every process.
 */
import { copyFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroundTruth } from '../sample/index.js';
import { X64AddressSpace } from '../translate/x64/address-space.js';
import { collectPslist as pslistRows } from './pslist/index.js';
import { collectPsscan as psscanRows } from './psscan/index.js';
import { FREED_POOL_BLOCK_NOTE } from '../windows/eprocess.js';
import { psxview as psxviewRows, type PsxViewResult } from './psxview/index.js';
import { processRowWire, psxRowWire } from '../session/wire.js';
import { SampleSet, type SampleKernel } from './testing/sample-kernel.js';

// the rows as exported (addresses as hex), to compare with the truth's hex strings
const collectPslist = async (k: SampleKernel['kernel']) => { const r = await pslistRows(k); return { ...r, rows: r.rows.map(processRowWire) }; };
const collectPsscan = async (k: SampleKernel['kernel']) => { const r = await psscanRows(k); return { ...r, rows: r.rows.map(processRowWire) }; };
const psxview = async (k: SampleKernel['kernel']) => { const r = await psxviewRows(k); return { ...r, rows: r.rows.map(psxRowWire) }; };

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

  it('corrupt pool headers (paged, tiny) are rejected and the scan goes on; a free header over an intact EPROCESS is a labelled remnant', async () => {
    const procs = base.truth.processes.filter((p) => p.foundBy.psscan && !p.straddles && p.mapped !== false) as (GroundTruth['processes'][number] & { poolHeader: string })[];
    const [a, b, c, d] = procs.slice(3, 7);
    const k = await patched((w) => {
      w(kpa(BigInt(a!.poolHeader)) + 3, Uint8Array.of(0)); // PoolType 0: free, EPROCESS intact
      w(kpa(BigInt(b!.poolHeader)) + 3, Uint8Array.of(3)); // odd: paged
      w(kpa(BigInt(c!.poolHeader)) + 2, Uint8Array.of(2)); // BlockSize 32 bytes
      w(kpa(BigInt(d!.poolHeader)) + 3, Uint8Array.of(0)); // free, and its name overwritten: not a process
      w(kpa(BigInt(d!.offset) + off('ImageFileName')), Uint8Array.of(0x01, 0x02, 0x03));
    });
    const r = await collectPsscan(k.kernel);
    const found = new Map(r.rows.map((x) => [x.offset, x]));
    for (const p of [b, c, d]) expect(found.has(p!.offset)).toBe(false);
    expect(found.get(a!.offset)?.warnings).toContain(FREED_POOL_BLOCK_NOTE);
    expect(found.get(a!.offset)?.pid).toBe(a!.pid);
    const want = base.truth.processes.filter((p) => p.foundBy.psscan).length;
    expect(r.rows).toHaveLength(want - 3);
    const reasons = r.rejected.map((x) => x.reason).join('\n');
    expect(reasons).toMatch(/paged pool/);
    expect(reasons).toMatch(/too small/);
    expect(reasons).toContain(`EPROCESS in a freed pool block at ${d!.offset}: ImageFileName`);
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

  it('psxview survives a corrupt PspCidTable pointer: the CID table is unusable, the verdicts say so and accuse nobody', async () => {
    const k = await patched((w, t) => w(kpa(BigInt(t.symbols['PspCidTable']!)), u64(0xffff_8000_dead_0000n)));
    const r = await psxview(k.kernel);
    expect(r.rows.every((x) => x.cidtable === false)).toBe(true);
    expect(r.rows.filter((x) => x.pslist)).toHaveLength(base.truth.processes.filter((p) => p.foundBy.pslist).length);
    expect(r.warnings.join('\n')).toMatch(/PspCidTable/);
    expect(r.sourceHealth.cidtable).toMatchObject({ status: 'unusable', problem: expect.stringMatching(/^PspCidTable at 0x[0-9a-f]+ \(table 0xffff8000dead0000, 0 entries\) holds no sane Process entry$/) });
    expect(healthOf(r, 'cidtable')).toEqual(['pslist', 'psscan', 'thrdscan', 'csrss', 'session']);
    const normal = r.rows.find((x) => x.name === 'lsass.exe')!;
    expect(normal.verdict).toMatch(/^normal: on the active list \(cidtable unusable in this image \(PspCidTable at 0x[0-9a-f]+ .*\)\)$/);
    expect(normal.status).toBe('normal');
    const hidden = r.rows.find((x) => x.offset === base.truth.processes.find((p) => p.planted.includes('dkom-unlinked'))!.offset)!;
    expect(hidden.verdict).toBe('hidden: unlinked from the active list but has live threads (DKOM)'); // thrdscan still sees its threads
    expect(hidden.status).toBe('hidden');
  });

  it('PsActiveProcessHead pointing to itself while System is alive: pslist warns, psxview blames the list, not the processes', async () => {
    const head = BigInt(base.truth.symbols['PsActiveProcessHead']!);
    const k = await patched((w) => { w(kpa(head), u64(head)); w(kpa(head + 8n), u64(head)); });
    const system = base.truth.processes.find((p) => p.pid === 4)!;
    const list = await collectPslist(k.kernel);
    expect(list.rows).toEqual([]);
    expect(list.warnings).toEqual([
      `pslist: PsActiveProcessHead at ${hex(head)} points to itself, yet System (PID 4) is alive at ${system.offset} ` +
      '(PsInitialSystemProcess, PspCidTable): the active process list is unusable in this image',
    ]);
    const r = await psxview(k.kernel);
    expect(r.sourceHealth.pslist).toEqual({ status: 'unusable', problem: `PsActiveProcessHead at ${hex(head)} points to itself` });
    expect(healthOf(r, 'pslist')).toEqual(['psscan', 'thrdscan', 'cidtable', 'csrss', 'session']);
    expect(r.warnings).toContain(list.warnings[0]);
    expect(r.rows.some((x) => x.verdict.includes('DKOM'))).toBe(false);
    const live = base.truth.processes.filter((p) => p.foundBy.cidtable);
    expect(live.length).toBeGreaterThan(5);
    for (const p of live) {
      const row = r.rows.find((x) => x.offset === p.offset)!;
      expect(row.pslist).toBe(false);
      const seen = (['psscan', 'thrdscan', 'cidtable', 'csrss', 'session'] as const).filter((s) => p.foundBy[s]);
      // an unusable list cannot tell hidden from listed: the word says so (it said `normal` before, while the sentence blamed the list)
      expect(row.verdict, `${p.name} (${p.pid})`).toBe(`unchecked: pslist unusable in this image (PsActiveProcessHead at ${hex(head)} points to itself); seen by ${seen.join(', ')}`);
      expect(row.status).toBe('unchecked');
    }
  });

  it('an active list whose walk breaks part-way is incomplete: processes past the break are not called hidden', async () => {
    const linked = base.truth.processes.filter((p) => p.foundBy.pslist);
    const k = await patched((w) => w(kpa(BigInt(linked[3]!.offset) + off('ActiveProcessLinks')), u64(0x4141414141414140n)));
    const r = await psxview(k.kernel);
    expect(r.sourceHealth.pslist).toMatchObject({ status: 'incomplete', problem: expect.stringContaining('0x4141414141414140, not a kernel address') });
    const past = r.rows.find((x) => x.offset === linked[5]!.offset)!;
    expect(past.pslist).toBe(false);
    expect(past.status).toBe('unchecked');
    expect(past.verdict).toMatch(/^unchecked: pslist incomplete in this image \(PsActiveProcessHead: Flink at 0x[0-9a-f]+ is 0x4141414141414140, not a kernel address; walk ended\); seen by psscan, thrdscan, cidtable/);
    expect(r.rows.filter((x) => x.verdict.includes('DKOM')).map((x) => x.offset)).toEqual([]);
  });

  it('csrss handle tables and session lists that hold nothing are reported as unusable, naming the structure', async () => {
    const csrss = base.truth.processes.filter((p) => p.name === 'csrss.exe');
    const sessions = new Set(base.truth.processes.filter((p) => p.foundBy.session).map((p) => p.sessionId));
    const k = await patched((w) => {
      for (const c of csrss) w(kpa(BigInt(c.offset) + off('ObjectTable')), u64(0n));
    });
    const r = await psxview(k.kernel);
    expect(r.sourceHealth.csrss).toEqual({ status: 'unusable', problem: expect.stringMatching(/^no sane Process handle in csrss\.exe \(PID \d+\) ObjectTable 0x0, csrss\.exe \(PID \d+\) ObjectTable 0x0$/) });
    expect(r.warnings).toContain(`csrss: ${(r.sourceHealth.csrss as { problem: string }).problem}: unusable in this image`);
    expect(r.rows.every((x) => !x.csrss)).toBe(true);
    expect(r.rows.find((x) => x.name === 'lsass.exe')!.verdict).toMatch(/^normal: on the active list \(csrss unusable in this image/);

    // every session's ProcessList emptied (pointing to itself) while processes still point at the sessions
    const sessionVa = (p: GroundTruth['processes'][number]) => k.kernel.kernel.read(BigInt(p.offset) + off('Session'), 8);
    const plOff = BigInt(base.kernel.profile.offsetOf('_MM_SESSION_SPACE', 'ProcessList'));
    const heads = new Set<bigint>();
    for (const id of sessions) {
      const member = base.truth.processes.find((p) => p.foundBy.session && p.sessionId === id)!;
      const s = sessionVa(member);
      heads.add(new DataView(s.data.buffer, s.data.byteOffset, 8).getBigUint64(0, true) + plOff);
    }
    expect(heads.size).toBe(2);
    const k2 = await patched((w) => { for (const h of heads) { w(kpa(h), u64(h)); w(kpa(h + 8n), u64(h)); } });
    const r2 = await psxview(k2.kernel);
    expect(r2.sourceHealth.session).toMatchObject({ status: 'unusable', problem: expect.stringMatching(/^_MM_SESSION_SPACE 0x[0-9a-f]+ ProcessList at 0x[0-9a-f]+ points to itself$/) });
    for (const h of heads) expect(r2.warnings.some((x) => x.startsWith('session: ') && x.includes(`ProcessList at ${hex(h)} points to itself, yet PID `))).toBe(true);
    expect(r2.rows.every((x) => !x.session)).toBe(true);
    expect(r2.rows.some((x) => x.verdict.includes('not seen by session'))).toBe(false);
  });
});

/** Sources psxview still found usable. */
function healthOf(r: Pick<PsxViewResult, 'sourceHealth'>, broken: string): string[] {
  expect(r.sourceHealth[broken as keyof PsxViewResult['sourceHealth']].status).toBe('unusable');
  return Object.entries(r.sourceHealth).filter(([, h]) => h.status === 'ok').map(([s]) => s);
}

const hex = (v: bigint) => `0x${v.toString(16)}`;
