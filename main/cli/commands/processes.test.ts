/**
 * CLI of the process commands on a sample image: JSON rows equal the ground truth field by field,
 * CSV is Excel-ready, --out never overwrites the image, usage errors exit 2; an image whose active
 * list is broken still exits 0, but never with a silent empty table.
 */
import { closeSync, copyFileSync, openSync, readFileSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../main.js';
import { ROW_FIELDS, SampleSet, pick, type SampleKernel } from '../../engine/plugins/testing/sample-kernel.js';
import { expectedVerdict, kernelHalfSlots, validVerdictFor } from '../../engine/plugins/testing/dtb-verdicts.js';

const set = new SampleSet();
let img: SampleKernel;
// Bad DirBases on five processes: the dtb inspector has something to say, and the zero DirBase is a
// running process psscan must not report (an EPROCESS without an address space is not valid).
beforeAll(async () => {
  img = await set.build('18362', 'crashdump', 11, 64, {
    'zero-dtb': 'dwm.exe', 'not-a-page-table': 'lsass.exe', 'tampered-kernel-half': 'services.exe',
    'no-self-reference': 'wininit.exe', 'garbage-user-dtb': 'sihost.exe',
  });
});
afterAll(() => set.cleanup());

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

describe('memscope pslist/psscan/psxview/struct/dtb', () => {
  it('pslist --format json: exactly the documented fields, equal to the truth', async () => {
    const r = await cli('pslist', img.path, '--format', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    const want = img.truth.processes.filter((p) => p.foundBy.pslist);
    expect(rows).toHaveLength(want.length);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual([...ROW_FIELDS, 'missing', 'warnings', 'parentName', 'kernelImagePath', 'currentDirectory', 'whyAbsent']);
      const t = want.find((p) => p.offset === row['offset'])!;
      expect(pick(row, ROW_FIELDS)).toEqual(pick(t, ROW_FIELDS));
      for (const k of ['offset', 'physicalOffset', 'dtb']) expect(row[k]).toMatch(/^0x[0-9a-f]+$/);
    }
  });

  it('psscan --format csv --out: BOM, RFC 4180 header, one record per pool process', async () => {
    const out = join(set.dir, 'psscan.csv');
    const r = await cli('psscan', img.path, '--format', 'csv', '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    const text = readFileSync(out, 'utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const lines = text.slice(1).split('\r\n').filter((l) => l !== '');
    expect(lines[0]).toBe(ROW_FIELDS.join(',') + ',missing,warnings,parentName,kernelImagePath,currentDirectory,whyAbsent');
    // command lines contain commas/quotes and are quoted, so count records by offset instead
    // a remnant in an unmapped page has no VA: empty offset cell, then its physical offset
    for (const p of img.truth.processes.filter((x) => x.foundBy.psscan)) expect(text).toContain(p.mapped === false ? `,,${p.physicalOffset},` : `,${p.offset},`);
    const missed = img.truth.processes.filter((x) => !x.foundBy.psscan);
    expect(missed.map((p) => p.planted)).toEqual([['dirbase-zero-dtb']]);
    for (const p of missed) expect(text).not.toContain(`,${p.offset},`);
  });

  it('psscan labels an intact EPROCESS in a freed pool block: table OFFSET cell, JSON warnings', async () => {
    const freed = img.truth.processes.find((p) => p.planted.includes('freed-pool-block'))!;
    const table = await cli('psscan', img.path);
    expect(table.code).toBe(0);
    expect(table.out.split('\n').find((l) => l.includes(freed.offset))).toContain(`${freed.offset} (freed pool block)`);
    const rows = JSON.parse((await cli('psscan', img.path, '--format', 'json')).out) as { offset: string; warnings: string[] }[];
    expect(rows.find((x) => x.offset === freed.offset)!.warnings).toEqual(['in a freed pool block (PoolType 0): remnant of an earlier process']);
    expect(rows.filter((x) => x.warnings.some((w) => w.includes('freed pool block'))).map((x) => x.offset)).toEqual([freed.offset]);
  });

  it('psxview --format json: source columns and verdicts', async () => {
    const r = await cli('psxview', img.path, '--format', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    const hidden = img.truth.processes.find((p) => p.planted.includes('dkom-unlinked'))!;
    const row = rows.find((x) => x['offset'] === hidden.offset)!;
    expect(Object.keys(row)).toEqual(['offset', 'pid', 'name', 'pslist', 'psscan', 'thrdscan', 'cidtable', 'csrss', 'session', 'exitTime', 'verdict', 'status', 'ppid', 'parentName', 'kernelImagePath', 'currentDirectory', 'wow64', 'whyAbsent']);
    expect(row['pslist']).toBe(false);
    expect(row['verdict']).toBe('hidden: unlinked from the active list but has live threads (DKOM)');
    expect(row['status']).toBe('hidden');
  });

  it('struct --type _EPROCESS --va: decoded fields for the hex view', async () => {
    const p = img.truth.processes.find((x) => x.name === 'LockApp.exe')!;
    const r = await cli('struct', img.path, '--type', '_EPROCESS', '--va', p.offset, '--format', 'json');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.out) as { fields: { name: string; offset: number; raw: string; value: Record<string, unknown> }[]; missing: string[] };
    const f = (n: string) => d.fields.find((x) => x.name === n)!;
    expect(f('ImageFileName').value).toEqual({ kind: 'string', text: 'LockApp.exe' });
    expect(f('UniqueProcessId').value).toMatchObject({ kind: 'pointer', value: `0x${p.pid.toString(16)}`, link: true });
    expect(f('CreateTime').value).toMatchObject({ kind: 'filetime', iso: p.createTime });
    expect(f('ActiveProcessLinks').value).toMatchObject({ kind: 'list-entry' });
    expect(f('Token').value).toMatchObject({ kind: 'ex-fast-ref' });
    expect(f('ImageFileName').raw.startsWith(Buffer.from('LockApp.exe').toString('hex'))).toBe(true);
    expect(d.missing).toEqual([]);
    // the same structure by physical address
    const byPa = await cli('struct', img.path, '--type', '_EPROCESS', '--pa', p.physicalOffset, '--format', 'json');
    const dp = JSON.parse(byPa.out) as { fields: { name: string; value: Record<string, unknown> }[] };
    expect(dp.fields.find((x) => x.name === 'UniqueProcessId')!.value).toMatchObject({ value: `0x${p.pid.toString(16)}` });
  });

  it('dtb --processes --format json: per-process DirBase section with Rekall totals, each verdict in words', async () => {
    const r = await cli('dtb', img.path, '--processes', '--format', 'json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { processes: { offset: string; name: string; lowBits: string; verdict: string }[]; processTotals: { rekallWouldDrop: number; valid: number } };
    const inspected = img.truth.processes.filter((p) => p.foundBy.pslist || p.foundBy.psscan);
    const bits = inspected.filter((p) => (BigInt(p.dtb) & 0xfffn) !== 0n);
    expect(doc.processTotals.rekallWouldDrop).toBe(bits.length);
    for (const p of inspected) {
      const row = doc.processes.find((x) => (p.mapped === false ? x.offset === null && x.name === p.name : x.offset === p.offset))!;
      if (p.planted.includes('dirbase-garbage-user-dtb')) {
        expect(row.verdict).toBe('suspicious: KVA-shadow user DTB 0x4141414141414141 is not in physical memory (kernel DirBase itself is valid)');
      } else {
        expect(row.verdict, `${p.name} ${p.planted.join('+')}`).toBe(expectedVerdict(p, kernelHalfSlots(img.truth)));
      }
    }
    expect(doc.processTotals.valid).toBe(doc.processes.length - 6); // five planted faults and the unmapped remnant
    expect(doc.processes.find((x) => x.name === 'LockApp.exe')!.verdict).toBe(validVerdictFor(img.truth.processes.find((p) => p.name === 'LockApp.exe')!.dtb));
  });

  it('dtb --processes --format csv --out and struct --format csv: the same tables for Excel', async () => {
    const out = join(set.dir, 'dtb.csv');
    const r = await cli('dtb', img.path, '--processes', '--format', 'csv', '--out', out);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith('\ufeffpid,name,offset,dtb,lowBits,')).toBe(true);
    const records = text.slice(1).split('\r\n').filter((l) => l !== '');
    const want = img.truth.processes.filter((p) => p.foundBy.pslist || p.foundBy.psscan);
    expect(records).toHaveLength(want.length + 1);
    const lockApp = img.truth.processes.find((p) => p.name === 'LockApp.exe')!;
    expect(records.some((l) => l.includes(',LockApp.exe,') && l.includes(`,${lockApp.dtb},`))).toBe(true);

    const eproc = img.truth.processes.find((p) => p.foundBy.pslist && p.pid === 4)!;
    const s = await cli('struct', img.path, '--type', '_EPROCESS', '--va', eproc.offset, '--format', 'csv');
    expect(s.code).toBe(0);
    const rows = s.out.slice(1).split('\r\n');
    expect(rows[0]).toBe('offset,name,type,size,raw,value');
    expect(rows.find((l) => l.includes(',ImageFileName,'))).toContain('System');
  });

  it('refuses --out that is the input image (same path or a symlink to it), exit 2, image untouched', async () => {
    const before = readFileSync(img.path).subarray(0, 4096);
    const link = join(set.dir, 'link.img');
    symlinkSync(img.path, link);
    for (const out of [img.path, link]) {
      const r = await cli('pslist', img.path, '--format', 'json', '--out', out);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/refusing to overwrite/);
    }
    expect(readFileSync(img.path).subarray(0, 4096)).toEqual(before);
  });

  it('usage errors exit 2 with one line', async () => {
    expect((await cli('pslist', img.path, '--format', 'xml')).code).toBe(2);
    expect((await cli('struct', img.path, '--type', '_EPROCESS')).err).toMatch(/exactly one of --va/);
    expect((await cli('struct', img.path, '--type', '_NOPE', '--va', '0xfffff80000000000')).code).toBe(2);
    expect((await cli('struct', img.path, '--type', '_EPROCESS', '--va', 'zz')).code).toBe(2);
    expect((await cli('pslist', join(set.dir, 'missing.raw'))).code).toBe(1);
  });
});

describe('memscope pslist/psxview on an image whose PsActiveProcessHead points to itself', () => {
  let broken: string;
  let head: bigint;
  beforeAll(async () => {
    const raw = await set.build('19041', 'raw', 5);
    head = BigInt(raw.truth.symbols['PsActiveProcessHead']!);
    broken = join(set.dir, 'empty-list.raw');
    copyFileSync(raw.path, broken);
    const fd = openSync(broken, 'r+');
    try {
      const at = raw.kernel.kernel.translate(head).pa!; // raw image: file offset = PA
      const self = Buffer.alloc(16);
      self.writeBigUInt64LE(head, 0);
      self.writeBigUInt64LE(head, 8);
      writeSync(fd, self, 0, 16, at);
    } finally {
      closeSync(fd);
    }
  });

  it('pslist exits 0 with an empty table and a warning line naming the list head', async () => {
    const r = await cli('pslist', broken);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(2); // header and rule, no rows
    const lines = r.err.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^memscope: warning: pslist: PsActiveProcessHead at 0x${head.toString(16)} points to itself, yet System \\(PID 4\\) is alive at 0x[0-9a-f]+ .*unusable in this image$`));
  });

  it('psxview exits 0, warns, and its verdicts blame the list instead of calling every process hidden', async () => {
    const r = await cli('psxview', broken, '--format', 'json');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^memscope: warning: pslist: PsActiveProcessHead at 0x[0-9a-f]+ points to itself/m);
    const rows = JSON.parse(r.out) as { pid: number; verdict: string }[];
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.some((x) => x.verdict.includes('DKOM'))).toBe(false);
    expect(rows.find((x) => x.pid === 4)!.verdict).toBe(`unchecked: pslist unusable in this image (PsActiveProcessHead at 0x${head.toString(16)} points to itself); seen by psscan, thrdscan, cidtable`);
  });
});
